import Foundation
import TeardownModel
import TeardownRender
import TeardownWire

/// Retransmissions until the sender gives up (issue 16, `retransmission-give-up`): after one
/// exchange an nftables rule in the experiment's namespace drops every segment to the server's
/// port as it arrives (the input hook, after the capture point, so the capture still shows
/// them). The client, with TCP_USER_TIMEOUT 3 s, sends 100 bytes that are never acknowledged: its
/// TCP retransmits them with the gaps doubling (RFC 6298 §5.5) and gives the connection up,
/// without a segment (Linux does not reset on a timeout), its read() failing with ETIMEDOUT.
/// The server, which never heard of it, keeps its socket open until the capture has stopped.
public struct RetransmissionGiveUp: Experiment {
    public var name: String { "retransmission-give-up" }
    public var summary: String { "Segments dropped on the way (an nftables rule): retransmissions with growing gaps until TCP_USER_TIMEOUT (3 s) gives up, ETIMEDOUT" }
    public var requiredPrograms: [(program: String, package: String)] { [("nft", "nftables")] }
    public var claims: [Claim] {
        [Claim("backoff", "unacknowledged data is retransmitted again and again, each gap between retransmissions about twice the one before", source: "tcp(7)"),
         Claim("gives-up", "with TCP_USER_TIMEOUT the kernel gives the connection up once data has stayed unacknowledged that long: ETIMEDOUT", source: "tcp(7)"),
         Claim("silent", "giving up sends nothing: the peer is not told", source: "tcp(7)"),
         Claim("diagnosed", "teardown diagnoses retransmission-give-up", source: "tcp(7)")]
    }

    static let userTimeoutMs: UInt32 = 3000, message = 100

    public init() {}

    public struct Findings: ExperimentFindings {
        var port: UInt16?
        public init() {}
    }

    public func perform(_ lab: Lab, _ notes: Notebook<Findings>) throws {
        let port = try lab.serve(closingListener: .afterServing) { s in
            s.read(max: 1024)
            s.write(count: RetransmissionGiveUp.message)
            lab.closeAfterCapture(s)                            // the server never learns
        }
        notes.port = port
        let c = try lab.connect(to: port)
        c.setUserTimeout(ms: RetransmissionGiveUp.userTimeoutMs)
        c.write(count: RetransmissionGiveUp.message)
        c.read(max: 1024)
        lab.sleep(ms: 50)
        try lab.nftRule(hook: "input", "tcp dport \(port) drop")
        c.write(count: RetransmissionGiveUp.message)
        c.read(max: 1024)                                      // blocks until the kernel gives up
        lab.sleep(ms: 500)                                     // nothing more is sent
        c.close()
        lab.join()
    }

    public func judge(_ o: Observation, _ found: Findings) -> [ClaimResult] {
        guard let port = found.port, let r = o.records(serverPort: port).first else {
            return Evidence.inconclusive(claims, "the connection was not captured")
        }
        let writes = Evidence.calls(o, r, .orig, "write("), reads = Evidence.calls(o, r, .orig, "read(")
        guard writes.count == 2, reads.count == 2 else {
            return Evidence.inconclusive(claims, "expected the client's 2 writes and 2 reads, saw \(writes.count) and \(reads.count)")
        }
        let sent = Evidence.packets(o, r, from: .orig, after: writes[1].time).filter { $0.payloadLength > 0 }
        let gaps = zip(sent.dropFirst(), sent).map { $0.time.nanoseconds - $1.time.nanoseconds }
        // From the first retransmission on: the first comes after the probe timeout, not the backoff.
        let backoff = Array(gaps.dropFirst())
        let doubling = backoff.count >= 3 && zip(backoff.dropFirst(), backoff).allSatisfy { Double($0) >= 1.5 * Double($1) }
        let timedOut = reads[1]
        let after = Evidence.packets(o, r, from: .orig, after: Evidence.end(timedOut))
        let answered = Evidence.packets(o, r, from: .resp, after: writes[1].time)
        return [
            ClaimResult(claims[0], holdsIf: doubling && answered.isEmpty,
                        "\(sent.count) segments of the second message (\(max(0, sent.count - 1)) retransmissions), \(gaps.first.map { Observation.ms($0) } ?? "-") to the first retransmission, then gaps " + backoff.map { Observation.ms($0) }.joined(separator: ", ")
                        + "; \(answered.count) segments from the server after it"),
            ClaimResult(claims[1], holdsIf: timedOut.result == -1 && timedOut.errno == "ETIMEDOUT",
                        "\(Evidence.describeTimed(timedOut)), \(Observation.ms(Evidence.end(timedOut).nanoseconds - writes[1].time.nanoseconds)) after the write"),
            ClaimResult(claims[2], holdsIf: after.isEmpty && r.rst == nil,
                        Evidence.withPaths("\(after.count) segments from the client after read() returned; \(r.rst.map { "an RST at packet \($0.packetNumber)" } ?? "no RST")", r, [(.orig, "client")])),
            ClaimResult(claims[3], holdsIf: Evidence.diagnosis(r, .retransmissionGiveUp) != nil, Evidence.diagnosisText(r, .retransmissionGiveUp)),
        ]
    }
}
