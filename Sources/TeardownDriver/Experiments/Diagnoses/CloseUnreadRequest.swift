import Foundation
import TeardownModel
import TeardownRender
import TeardownWire

/// The "TCP reset problem" (RFC 9112 §9.6; issue 16, `close-unread-request`): a server reads
/// the head of a 300-byte request (100 bytes), writes a 100,000-byte response and closes with
/// the request's tail unread. Its close() sends an RST instead of a FIN, and what of the
/// response had not reached the client (whose receive buffer is small) is thrown away: the
/// client reads part of it, then ECONNRESET.
public struct CloseUnreadRequest: Experiment {
    public var name: String { "close-unread-request" }
    public var summary: String { "A server answers and close()s with the request's tail unread: an RST, and the part of the response still on its way is lost" }
    public var claims: [Claim] {
        [Claim("rst-not-fin", "a server that closes with part of the request unread sends an RST instead of a FIN", source: "RFC 9112 §9.6, seeds/000"),
         Claim("response-lost", "the client does not get the whole response: it reads what had arrived, then ECONNRESET", source: "RFC 9112 §9.6"),
         Claim("diagnosed", "teardown diagnoses close-unread-request from the socket calls", source: "RFC 9112 §9.6")]
    }

    static let request = 300, headRead = 100, response = 100_000

    public init() {}

    public struct Findings: ExperimentFindings {
        var port: UInt16?
        /// The server's receive queue (SIOCINQ) just before its close(); -1 when not measured.
        var unreadAtClose = -1
        /// Bytes of its response still queued (SIOCOUTQ) at close(); -1 when not measured.
        var queuedAtClose = -1
        var clientRead = 0
        var clientLast = 0
        var clientErrno = ""
        public init() {}
    }

    public func perform(_ lab: Lab, _ notes: Notebook<Findings>) throws {
        let port = try lab.serve(closingListener: .afterServing) { s in
            s.setSendBuffer(1 << 20)
            lab.sleep(ms: 20)                                  // the whole request has arrived
            s.read(max: CloseUnreadRequest.headRead)           // the head of the request
            s.write(count: CloseUnreadRequest.response)
            lab.sleep(ms: 20)
            let q = s.queues()
            notes.unreadAtClose = Int(q.receive)
            notes.queuedAtClose = Int(q.send)
            s.close()
        }
        notes.port = port
        let c = try lab.connect(to: port) { $0.setReceiveBuffer(8192) }
        c.write(count: CloseUnreadRequest.request)
        lab.sleep(ms: 200)                                     // the server has answered and closed
        let got = c.readToEnd()
        notes.clientRead = got.bytes
        notes.clientLast = got.last
        notes.clientErrno = errnoName(c.lastErrno)
        c.close()
        lab.join()
    }

    public func judge(_ o: Observation, _ found: Findings) -> [ClaimResult] {
        guard let port = found.port, let r = o.records(serverPort: port).first,
              let close = Evidence.calls(o, r, .resp, "close()").first else {
            return Evidence.inconclusive(claims, "the connection or the server's close() was not captured")
        }
        let rst = Evidence.packets(o, r, from: .resp, with: .rst, after: close.time).first
        let fins = o.packets(r, from: .resp, with: .fin)
        return [
            ClaimResult(claims[0], holdsIf: found.unreadAtClose > 0 && rst != nil && fins.isEmpty && Evidence.reasonIs(r, rst, ["TCP_ABORT_ON_CLOSE"]),
                        Evidence.withReset("\(Format.thousands(max(0, found.unreadAtClose))) bytes of the request unread (SIOCINQ) and \(Format.thousands(max(0, found.queuedAtClose))) of the response still queued (SIOCOUTQ) at close(); "
                                           + (rst.map { Evidence.describe($0, after: close) } ?? "no RST") + (fins.isEmpty ? ", no FIN" : ", FIN sent"), r, rst)),
            ClaimResult(claims[1], holdsIf: found.clientRead < CloseUnreadRequest.response && found.clientLast == -1 && found.clientErrno == "ECONNRESET",
                        "the client read \(Format.thousands(found.clientRead)) of the \(Format.thousands(CloseUnreadRequest.response)) bytes written, then read() = \(found.clientLast)\(found.clientLast < 0 ? " " + found.clientErrno : ""); "
                        + Evidence.ledger(r.resp.bytes)),
            ClaimResult(claims[2], holdsIf: Evidence.diagnosis(r, .closeUnreadRequest) != nil, Evidence.diagnosisText(r, .closeUnreadRequest)),
        ]
    }
}
