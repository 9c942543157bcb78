import Foundation
import TeardownModel
import TeardownRender
import TeardownWire

/// A leaked socket in CLOSE-WAIT (issue 16, `close-wait-leak`): the client sends a request, reads
/// the answer and closes; the server reads EOF and never calls close() (the bug), so its socket
/// sits in CLOSE-WAIT and its connection stays half-closed. The server goes on serving: 62 s
/// later (the rule's threshold is 60 s of silence) a second connection is answered and closed
/// properly. The leaked socket is closed only after the recording has stopped.
public struct CloseWaitLeak: Experiment {
    public var name: String { "close-wait-leak" }
    public var summary: String { "A server reads EOF and never close()s: its socket sits in CLOSE-WAIT for a minute while it serves others (runs 62 s)" }
    public var claims: [Claim] {
        [Claim("eof", "after the client's FIN the server's read() returns 0 (EOF)", source: "seeds/000"),
         Claim("close-wait", "until the server's application calls close(), its socket stays in CLOSE-WAIT and sends nothing, whatever else the server does", source: "RFC 9293 §3.6"),
         Claim("diagnosed", "teardown diagnoses close-wait-leak on the first connection and not on the second", source: "RFC 9293 §3.6")]
    }

    static let quietMs = 62_000, request = 100, response = 200

    public init() {}

    public struct Findings: ExperimentFindings {
        var port: UInt16?
        var serverEOF: Int?
        /// The kernel's view of the leaked socket just before the second connection.
        var kernel: [KernelSocket] = []
        public init() {}
    }

    public func perform(_ lab: Lab, _ notes: Notebook<Findings>) throws {
        let listener = try lab.listener()
        let port = listener.local!.port
        notes.port = port
        lab.spawn("server") {
            let leaked = try listener.accept()
            leaked.read(max: 1024)
            leaked.write(count: CloseWaitLeak.response)
            notes.serverEOF = leaked.read(max: 1024)
            lab.closeAfterCapture(leaked)                      // the bug: close() is never called
            let s = try listener.accept()
            s.read(max: 1024)
            s.write(count: CloseWaitLeak.response)
            s.read(max: 1024)
            s.close()
            listener.close()
        }
        let c = try lab.connect(to: port)
        c.write(count: CloseWaitLeak.request)
        c.read(max: 1024)
        c.close()
        lab.sleep(ms: CloseWaitLeak.quietMs)
        notes.kernel = KernelSockets.snapshot().filter { $0.local.port == port && $0.state == "CLOSE_WAIT" }
        let c2 = try lab.connect(to: port)
        c2.write(count: CloseWaitLeak.request)
        c2.read(max: 1024)
        c2.close()
        lab.join(timeout: 90)
    }

    public func judge(_ o: Observation, _ found: Findings) -> [ClaimResult] {
        guard let port = found.port, o.records(serverPort: port).count == 2 else {
            return Evidence.inconclusive(claims, "expected two connections")
        }
        let rs = o.records(serverPort: port), leak = rs[0], served = rs[1]
        let fin = o.packets(leak, from: .orig, with: .fin).first
        let lastFromServer = o.packets(leak).last { $0.from == .resp }
        let afterFIN = fin.map { f in o.packets(leak).filter { $0.from == .resp && $0.number > f.number && ($0.payloadLength > 0 || $0.flags.contains(.fin)) } } ?? []
        let quiet = lastFromServer.map { l in (o.packets(served).last?.time.nanoseconds ?? 0) - l.time.nanoseconds } ?? 0
        return [
            ClaimResult(claims[0], holdsIf: found.serverEOF == 0 && fin != nil,
                        (fin.map { Observation.describe($0) + " from the client, then " } ?? "no FIN from the client; ") + "the server's read() = \(found.serverEOF.map(String.init) ?? "not made")"),
            ClaimResult(claims[1], holdsIf: afterFIN.isEmpty && leak.resp.state == .closeWait && !found.kernel.isEmpty && served.teardown.kind != .halfClosed,
                        "\(afterFIN.count) data or FIN segments from the server after the client's FIN; the server's socket was silent \(Observation.ms(quiet)) to the end of the recording while it served connection \(served.index) (\(served.teardown.name)); "
                        + Evidence.kernel(found.kernel, none: "the kernel listed no CLOSE-WAIT socket on the port")),
            ClaimResult(claims[2], holdsIf: Evidence.diagnosis(leak, .closeWaitLeak) != nil && Evidence.diagnosis(served, .closeWaitLeak) == nil,
                        Evidence.diagnosisText(leak, .closeWaitLeak) + "; connection \(served.index): " + (served.diagnoses.isEmpty ? "no diagnosis" : served.diagnoses.map(\.code.rawValue).joined(separator: ", "))),
        ]
    }
}
