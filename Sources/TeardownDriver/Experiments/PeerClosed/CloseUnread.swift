import Foundation
import TeardownModel
import TeardownRender
import TeardownWire

/// Experiment 5: close() while received data is still unread (tcp(7); RFC 2525 §2.17, "failure
/// to RST on close with data pending"). The server reads 400 of the client's 1,000 bytes and closes.
public struct CloseUnread: Experiment {
    public var name: String { "close-unread" }
    public var summary: String { "close() with unread data in the receive queue: RST instead of FIN; the unread bytes are lost although acknowledged" }
    public var claims: [Claim] {
        [Claim("rst-not-fin", "close() with unread data in the receive queue sends an RST instead of a FIN", source: "seeds/000"),
         Claim("acked-then-lost", "the unread bytes are thrown away although the client's TCP saw them acknowledged", source: "seeds/000, seeds/001"),
         Claim("sender-reset", "the client learns of it only as ECONNRESET on its next read()", source: "seeds/000")]
    }

    static let written = 1000, readFirst = 400

    public init() {}

    public struct Findings: ExperimentFindings {
        var port: UInt16?
        /// The server's receive queue (SIOCINQ) just before its close(); -1 when not measured.
        var unreadAtClose = -1
        /// The client's read() after the RST, and its errno.
        var clientRead = 0
        var clientErrno = ""
        public init() {}
    }

    public func perform(_ lab: Lab, _ notes: Notebook<Findings>) throws {
        let port = try lab.serve(closingListener: .afterServing) { s in
            lab.sleep(ms: 30)                                  // all 1,000 bytes are in the receive queue
            s.read(max: CloseUnread.readFirst)
            lab.sleep(ms: 60)                                  // any delayed ACK has gone out
            notes.unreadAtClose = Int(s.queues().receive)
            s.close()
        }
        notes.port = port
        let c = try lab.connect(to: port)
        c.write(count: CloseUnread.written)
        lab.sleep(ms: 150)
        notes.clientRead = c.read(max: 1024)
        notes.clientErrno = errnoName(c.lastErrno)
        c.close()
        lab.join()
    }

    public func judge(_ o: Observation, _ found: Findings) -> [ClaimResult] {
        guard let port = found.port, let r = o.records(serverPort: port).first,
              let close = Evidence.calls(o, r, .resp, "close()").first else {
            return Evidence.inconclusive(claims, "the connection or the server's close() was not captured")
        }
        let unread = found.unreadAtClose
        let rsts = Evidence.packets(o, r, from: .resp, with: .rst, after: close.time)
        let fins = o.packets(r, from: .resp, with: .fin)
        // The ACK that covered all 1,000 bytes, sent before close().
        let acks = o.packets(r).filter {
            $0.from == .resp && $0.time < close.time && ($0.relativeAcknowledgment ?? 0) >= UInt32(CloseUnread.written + 1)
        }
        let l = r.orig.bytes
        let clientRead = found.clientRead, clientErrno = found.clientErrno
        let readText = Evidence.calls(o, r, .resp, "read(").map(Observation.describe).joined(separator: ", ")
        return [
            // With the kernel lane, the kernel's own reason decides that close() sent it for the unread data.
            ClaimResult(claims[0], holdsIf: unread > 0 && !rsts.isEmpty && fins.isEmpty && Evidence.reasonIs(r, rsts.first, ["TCP_ABORT_ON_CLOSE"]),
                        Evidence.withReset("\(readText); \(Format.thousands(unread)) bytes unread (SIOCINQ) at close(); "
                                           + (rsts.first.map { Evidence.describe($0, after: close) } ?? "no RST")
                                           + (fins.isEmpty ? ", no FIN" : ", FIN sent") + "; teardown \(r.teardown.name)", r, rsts.first)),
            ClaimResult(claims[1], holdsIf: !acks.isEmpty && (l.unread ?? 0) > 0 && l.unread == UInt64(max(0, unread)),
                        (acks.first.map { "\(Observation.describe($0)) acknowledged all \(Format.thousands(CloseUnread.written)) bytes before close(); " } ?? "no ACK covered all the bytes before close(); ")
                        + (r.rst?.acknowledged.map { "the RST itself acknowledges \(Format.thousands($0)); " } ?? "")
                        + Evidence.ledger(l)),
            ClaimResult(claims[2], holdsIf: clientRead == -1 && clientErrno == "ECONNRESET",
                        "client read() = \(clientRead)\(clientRead < 0 ? " " + clientErrno : "") after the RST"),
        ]
    }
}
