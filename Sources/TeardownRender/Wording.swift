import TeardownModel

// Plain-language names and sentences shared by the text renderers.
// Convention: the originator is "client", the responder "server".

extension Side {
    /// `client` for the originator, `server` for the responder.
    var roleText: StaticString { self == .orig ? "client" : "server" }

    /// `rawValue` as a static string (`orig`, `resp`: JSON's names for the sides).
    var text: StaticString { self == .orig ? "orig" : "resp" }
}

extension ClosedBy {
    /// `client`, `server` or `both`.
    var roleText: StaticString {
        switch self {
        case .orig: return "client"
        case .resp: return "server"
        case .both: return "both"
        }
    }
}

extension RSTValidity {
    /// What the receiver does with an RST of this validity (RFC 5961 §3.2, as Linux implements it).
    var explanationText: StaticString {
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
    static func writeCloser(_ r: ConnectionRecord, to c: inout ByteCursor) {
        guard let closer = r.closedBy else { c.write("nobody: no FIN or RST was seen"); return }
        switch (closer, r.teardown.kind) {
        case (.both, _):
            c.write("both: the FINs crossed")
        case (_, .abortByOriginator), (_, .abortByResponder), (_, .refused):
            c.write(closer.roleText)
            c.write(" (sent the RST)")
        case (.orig, .resetAfterClose) where r.orig.fin == 0 && r.rst?.from == .orig,
             (.resp, .resetAfterClose) where r.resp.fin == 0 && r.rst?.from == .resp:
            // A bare RST from a side that sent no FIN (its socket gone, or a path's RST in its name).
            c.write(closer.roleText)
            c.write(" (sent the RST; no FIN from it was seen)")
        default:
            c.write(closer.roleText)
            c.write(" (sent the first FIN)")
        }
    }

    /// How the connection ended, from the classification and who closed: the main sentence
    /// first, then qualifications (half-close, mid-stream), calling `next` between one and the
    /// next (the header puts each on its own line).
    static func writeEnding(_ r: ConnectionRecord, to c: inout ByteCursor, next: (inout ByteCursor) -> Void) {
        switch r.teardown.kind {
        case .graceful where r.oneSided != nil:
            let one = r.oneSided!
            let first: Side = r.closedBy == .resp ? .resp : .orig
            c.write("the ")
            c.write(first.roleText)
            c.write(" closed first, then the ")
            c.write(first.other.roleText)
            c.write(" (the ")
            c.write(one.missing.roleText)
            c.write("'s FIN inferred from the ")
            c.write(one.seen.roleText)
            c.write("'s acknowledgment)")
        case .halfClosed where r.oneSided != nil:
            let one = r.oneSided!
            c.write("the ")
            c.write(one.seen.roleText)
            c.write(" sent FIN; whether the ")
            c.write(one.missing.roleText)
            c.write(" closed is unknown (its direction was not captured)")
        case .open where r.oneSided != nil:
            c.write("no FIN or RST from the ")
            c.write(r.oneSided!.seen.roleText)
            c.write(", the only side captured")
        case .graceful:
            switch r.closedBy {
            case .orig?, .resp?:
                c.write("the ")
                c.write(r.closedBy == .orig ? "client" : "server")
                c.write(" closed first, then the ")
                c.write(r.closedBy == .orig ? "server" : "client")
                c.write("; both FINs were acknowledged")
            case .both?: c.write("both sides closed; both FINs were acknowledged")
            case nil: c.write("FIN both ways, both acknowledged")
            }
        case .halfClosed:
            if let closer = r.closedBy, closer != .both {
                c.write("the ")
                c.write(closer.roleText)
                c.write(" sent FIN; the ")
                c.write(closer == .orig ? "server" : "client")
                c.write(" had not closed when the capture ended")
            } else {
                c.write("one side sent FIN; the other had not closed when the capture ended")
            }
        case .simultaneousClose:
            c.write("the FINs crossed: each side closed before it saw the other's FIN")
        case .abortByOriginator:
            c.write("the client reset the connection while it was open")
        case .abortByResponder:
            c.write("the server reset the connection while it was open")
        case .resetAfterClose:
            if let rst = r.rst {
                c.write("a bare RST from the ")
                c.write(rst.from.roleText)
                c.write(" answered data sent to its closed socket")
            } else {
                c.write("a bare RST answered data sent to a closed socket")
            }
        case .refused:
            c.write("the server answered the SYN with RST: nothing was listening")
        case .unanswered:
            c.write("the client's SYN got no answer")
        case .open:
            c.write("no ending was seen before the capture ended")
        }
        if r.halfClose, let closer = r.closedBy, closer != .both {
            next(&c)
            c.write("the ")
            c.write(closer == .orig ? "server" : "client")
            c.write(" kept sending after the ")
            c.write(closer.roleText)
            c.write("'s FIN (half-close)")
        } else if r.halfClose {
            next(&c)
            c.write("data was sent after the first FIN (half-close)")
        }
        if r.teardown.midstream {
            next(&c)
            c.write("the capture joined mid-stream, so the start is missing")
        }
    }
}
