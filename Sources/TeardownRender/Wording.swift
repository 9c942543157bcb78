import TeardownModel

// Plain-language names and sentences shared by the text renderers.
// Convention: the originator is "client", the responder "server".

extension Side {
    /// `client` for the originator, `server` for the responder.
    var role: String { self == .orig ? "client" : "server" }
}

extension ClosedBy {
    /// `client`, `server` or `both`.
    var role: String {
        switch self {
        case .orig: return "client"
        case .resp: return "server"
        case .both: return "both"
        }
    }
}

extension RSTValidity {
    /// What the receiver does with an RST of this validity (RFC 5961 §3.2, as Linux implements it).
    var explanation: String {
        switch self {
        case .exact: return "exact sequence number: the receiver accepts it and the connection is reset"
        case .inWindow: return "in window but not exact: Linux answers with a challenge ACK and the connection survives (RFC 5961 §3.2)"
        case .outOfWindow: return "out of window: the receiver drops it silently (RFC 5961 §3.2)"
        case .unknown: return "the receiver's window was not seen, so its verdict is unknown"
        }
    }
}

enum Wording {
    /// Why `closedBy` names that side: it sent the RST, the first FIN, or both FINs crossed.
    static func closer(_ r: ConnectionRecord) -> String {
        guard let c = r.closedBy else { return "nobody: no FIN or RST was seen" }
        switch (c, r.teardown.kind) {
        case (.both, _): return "both: the FINs crossed"
        case (_, .abortByOriginator), (_, .abortByResponder), (_, .refused): return c.role + " (sent the RST)"
        default: return c.role + " (sent the first FIN)"
        }
    }

    /// How the connection ended, from the classification and who closed: the main sentence
    /// first, then qualifications (half-close, mid-stream), one per line of the header.
    static func ending(_ r: ConnectionRecord) -> [String] {
        let closer = r.closedBy?.role
        var s: String
        switch r.teardown.kind {
        case .graceful:
            switch r.closedBy {
            case .orig?, .resp?:
                let first = closer ?? "client"
                let second = r.closedBy == .orig ? "server" : "client"
                s = "the \(first) closed first, then the \(second); both FINs were acknowledged"
            case .both?: s = "both sides closed; both FINs were acknowledged"
            case nil: s = "FIN both ways, both acknowledged"
            }
        case .halfClosed:
            if let c = r.closedBy, c != .both {
                let other = c == .orig ? "server" : "client"
                s = "the \(c.role) sent FIN; the \(other) had not closed when the capture ended"
            } else {
                s = "one side sent FIN; the other had not closed when the capture ended"
            }
        case .simultaneousClose:
            s = "the FINs crossed: each side closed before it saw the other's FIN"
        case .abortByOriginator:
            s = "the client reset the connection while it was open"
        case .abortByResponder:
            s = "the server reset the connection while it was open"
        case .resetAfterClose:
            if let rst = r.rst {
                s = "a bare RST from the \(rst.from.role) answered data sent to its closed socket"
            } else {
                s = "a bare RST answered data sent to a closed socket"
            }
        case .refused:
            s = "the server answered the SYN with RST: nothing was listening"
        case .unanswered:
            s = "the client's SYN got no answer"
        case .open:
            s = "no ending was seen before the capture ended"
        }
        var lines = [s]
        if r.halfClose, let c = r.closedBy, c != .both {
            let other = c == .orig ? "server" : "client"
            lines.append("the \(other) kept sending after the \(c.role)'s FIN (half-close)")
        } else if r.halfClose {
            lines.append("data was sent after the first FIN (half-close)")
        }
        if r.teardown.midstream {
            lines.append("the capture joined mid-stream, so the start is missing")
        }
        return lines
    }
}
