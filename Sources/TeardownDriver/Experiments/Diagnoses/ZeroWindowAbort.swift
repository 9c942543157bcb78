import Foundation
import TeardownModel
import TeardownRender
import TeardownWire

/// A zero window until an abort (issue 16, `zero-window-abort`): the server's application stops
/// reading (a 4 kB receive buffer), so its TCP advertises a zero window; the client keeps its
/// data queued and probes the window (RFC 9293 §3.8.6.1) with growing gaps, and after 3 s gives
/// up: close() with SO_LINGER {1, 0}, an RST.
public struct ZeroWindowAbort: Experiment {
    public var name: String { "zero-window-abort" }
    public var summary: String { "A receiver that stops reading: window 0, the sender's persist probes, then the sender's SO_LINGER {1, 0} abort" }
    public var claims: [Claim] {
        [Claim("window-zero", "a receiver whose application does not read advertises a zero window once its buffer is full, and keeps it closed", source: "RFC 9293 §3.8.6.1"),
         Claim("probes", "the sender keeps probing the zero window while its data waits", source: "RFC 9293 §3.8.6.1"),
         Claim("abort", "the sender gives up with close() under SO_LINGER {1, 0}: an RST, its queued data thrown away", source: "seeds/003"),
         Claim("diagnosed", "teardown diagnoses zero-window-abort and counts the probes", source: "RFC 9293 §3.8.6.1")]
    }

    static let written = 200_000, giveUpMs = 3000

    public init() {}

    public struct Findings: ExperimentFindings {
        var port: UInt16?
        var writeResult = 0
        var queuedAtAbort = -1
        public init() {}
    }

    public func perform(_ lab: Lab, _ notes: Notebook<Findings>) throws {
        let port = try lab.serve(receiveBuffer: 4096, closingListener: .afterServing) { s in
            lab.sleep(ms: ZeroWindowAbort.giveUpMs + 500)      // never reads
            s.close()
        }
        notes.port = port
        let c = try lab.connect(to: port)
        c.setNonBlocking(true)
        notes.writeResult = c.write(count: ZeroWindowAbort.written)   // as much as the send buffer takes
        lab.sleep(ms: ZeroWindowAbort.giveUpMs)
        notes.queuedAtAbort = Int(c.queues().send)
        c.setLinger(on: true, seconds: 0)
        c.close()
        lab.join()
    }

    public func judge(_ o: Observation, _ found: Findings) -> [ClaimResult] {
        guard let port = found.port, let r = o.records(serverPort: port).first,
              let close = Evidence.calls(o, r, .orig, "close()").first else {
            return Evidence.inconclusive(claims, "the connection or the client's close() was not captured")
        }
        // Plain segments are folded in the record's rows: the last of the server's before the RST
        // is a row (the RST ends the run), the zero window's start is what the tracker measured.
        let rst = Evidence.packets(o, r, from: .orig, with: .rst, after: close.time).first
        let last = o.packets(r).last { $0.from == .resp && $0.number < (rst?.number ?? Int.max) }
        let d = Evidence.diagnosis(r, .zeroWindowAbort)
        var since = 0, probes = -1, held: Int64 = 0
        if case .zeroWindowAbort(.resp, _, let duration, let n)? = d?.finding { since = d?.evidence.first ?? 0; probes = n; held = duration }
        return [
            ClaimResult(claims[0], holdsIf: last?.window == 0 && since > 0,
                        "the client's write(\(Format.thousands(ZeroWindowAbort.written))) = \(found.writeResult); "
                        + (last.map { "the server's last segment before the RST, \(Observation.describe($0)), advertised window \($0.window)" } ?? "no segment from the server")
                        + (since > 0 ? "; its window was 0 from packet \(since) on (\(Observation.ms(held)) before the RST)" : "; teardown measured no zero window held until the RST")),
            ClaimResult(claims[1], holdsIf: probes >= 2 && found.queuedAtAbort > 0,
                        (probes >= 0 ? "\(probes) segments from the client into the zero window (teardown's count)" : "no zero window measured")
                        + " while \(Format.thousands(max(0, found.queuedAtAbort))) bytes waited in its send queue (SIOCOUTQ)"),
            ClaimResult(claims[2], holdsIf: rst != nil && Evidence.reasonIs(r, rst, ["TCP_STATE"]),
                        Evidence.withReset("\(Format.thousands(max(0, found.queuedAtAbort))) bytes still queued (SIOCOUTQ) at close(); "
                                           + (rst.map { Evidence.describe($0, after: close) } ?? "no RST from the client"), r, rst)),
            ClaimResult(claims[3], holdsIf: Evidence.diagnosis(r, .zeroWindowAbort) != nil, Evidence.diagnosisText(r, .zeroWindowAbort)),
        ]
    }
}
