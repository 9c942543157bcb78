import Foundation
import TeardownModel
import TeardownRender
import TeardownWire

/// An RST that costs nothing (issue 16, `harmless-reset`): the server answers a 100-byte request
/// with 100 bytes and closes first; the client reads both and its end-of-file but closes late,
/// after the server's orphan in FIN-WAIT-2 has been forgotten (net.ipv4.tcp_fin_timeout lowered
/// to 1 s in the namespace). The client's FIN then reaches no socket, and the server's kernel
/// answers it with a bare RST (reason NO_SOCKET). Every byte was written, acknowledged and read
/// before: an RST that production logs show and nobody needs to chase.
public struct HarmlessReset: Experiment {
    public var name: String { "harmless-reset" }
    public var summary: String { "The server closes first; the client's FIN comes after the server's orphan was forgotten (tcp_fin_timeout 1 s) and draws a bare RST with nothing lost" }
    public var claims: [Claim] {
        [Claim("orphan-forgotten", "the server, which closed first with every byte both ways written, acknowledged and read, is an orphan in FIN-WAIT-2 that its kernel forgets after net.ipv4.tcp_fin_timeout", source: "tcp(7)"),
         Claim("late-fin-rst", "the client's late FIN reaches no socket and draws a bare RST (no ACK) from the server's TCP", source: "RFC 9293 §3.10.7.1"),
         Claim("diagnosed", "teardown diagnoses harmless-reset: nothing was lost", source: "RFC 9293 §3.10.7.1")]
    }
    public var sysctls: [(String, String)] { [("net.ipv4.tcp_fin_timeout", "1")] }

    static let message = 100

    public init() {}

    public struct Findings: ExperimentFindings {
        var port: UInt16?
        /// How long after the client saw the server's FIN the orphan left the kernel's table.
        var goneAfterNanoseconds: Int64?
        var serverAfter: [KernelSocket] = []
        public init() {}
    }

    public func perform(_ lab: Lab, _ notes: Notebook<Findings>) throws {
        let port = try lab.serve { s in
            s.read(max: 1024)
            s.write(count: HarmlessReset.message)
            s.close()
        }
        notes.port = port
        let c = try lab.connect(to: port)
        c.write(count: HarmlessReset.message)
        c.read(max: 1024)
        c.read(max: 1024)                            // the server's FIN: end of file
        let eofAt = monotonic()
        lab.join()
        // Wait until the server's orphan is gone (at most 4 s), then a little more.
        while monotonic() - eofAt < 4_000_000_000 {
            if !KernelSockets.involving(port: port, in: KernelSockets.snapshot()).contains(where: { $0.local.port == port }) {
                notes.goneAfterNanoseconds = monotonic() - eofAt
                break
            }
            lab.sleep(ms: 10)
        }
        notes.serverAfter = KernelSockets.involving(port: port, in: KernelSockets.snapshot()).filter { $0.local.port == port }
        lab.sleep(ms: 50)
        c.close()
        lab.sleep(ms: 50)
    }

    public func judge(_ o: Observation, _ found: Findings) -> [ClaimResult] {
        guard let port = found.port, let r = o.records(serverPort: port).first,
              let close = Evidence.calls(o, r, .orig, "close()").first else {
            return Evidence.inconclusive(claims, "the connection or the client's close() was not captured")
        }
        let fin = Evidence.packets(o, r, from: .orig, with: .fin, after: close.time).first
        let rst = Evidence.packets(o, r, from: .resp, with: .rst, after: close.time).first
        let serverFIN = o.packets(r, from: .resp, with: .fin).first
        let firstFromServer = serverFIN != nil && fin != nil && serverFIN!.number < fin!.number
        let lost = [r.orig.bytes, r.resp.bytes].map { $0.lost }
        let gone = found.goneAfterNanoseconds.map { "the server's orphan left the kernel's table \(Observation.ms($0)) after the client's end of file" }
            ?? "the server's orphan was still listed after 4 s: " + Evidence.kernel(found.serverAfter)
        return [
            ClaimResult(claims[0], holdsIf: lost.allSatisfy { $0 == 0 } && found.goneAfterNanoseconds != nil,
                        gone + "; client → server: " + Evidence.ledger(r.orig.bytes) + "; server → client: " + Evidence.ledger(r.resp.bytes)),
            ClaimResult(claims[1], holdsIf: firstFromServer && rst.map { !$0.flags.contains(.ack) && $0.number > fin!.number } == true
                        && Evidence.reasonIs(r, rst, ["NO_SOCKET"]),
                        Evidence.withReset("the client's FIN " + (fin.map { Evidence.describe($0, after: close) } ?? "not seen")
                                           + ", answered by " + (rst.map { Observation.describe($0) + ($0.flags.contains(.ack) ? ", with ACK" : ", bare") } ?? "no RST from the server"), r, rst)),
            ClaimResult(claims[2], holdsIf: Evidence.diagnosis(r, .harmlessReset) != nil, Evidence.diagnosisText(r, .harmlessReset)),
        ]
    }
}
