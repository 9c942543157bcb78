import Foundation
import TeardownModel
import TeardownRender
import TeardownWire

/// A SYN into TIME-WAIT (issue 16, `time-wait-assassination`; RFC 6191): the server closes
/// first, so its end of the 4-tuple is left in TIME-WAIT; the client, bound to a fixed port with
/// SO_REUSEADDR, connects again from that port at once. Linux accepts the SYN (its timestamp is
/// newer), ends the TIME-WAIT early and opens a new connection on the same 4-tuple.
public struct TimeWaitReuse: Experiment {
    public var name: String { "time-wait-reuse" }
    public var summary: String { "A new connection from the same client port while the server's end is in TIME-WAIT: the SYN is accepted and ends the TIME-WAIT early" }
    public var claims: [Claim] {
        [Claim("time-wait", "the side that closes first is left in TIME-WAIT on the 4-tuple", source: "RFC 6191"),
         Claim("syn-accepted", "a SYN on that 4-tuple with a higher sequence number or a newer timestamp is accepted during TIME-WAIT and opens a new connection", source: "RFC 6191"),
         Claim("diagnosed", "teardown diagnoses time-wait-assassination on the new connection", source: "RFC 6191")]
    }

    static let message = 100

    public init() {}

    public struct Findings: ExperimentFindings {
        var port: UInt16?
        var timeWait: [KernelSocket] = []
        var secondConnect: String?
        public init() {}
    }

    public func perform(_ lab: Lab, _ notes: Notebook<Findings>) throws {
        let listener = try lab.listener()
        let port = listener.local!.port
        notes.port = port
        let clientPort = lab.port()
        for round in 0..<2 {
            let c = try lab.socket("client")
            c.setReuseAddress()
            try c.bind(lab.endpoint(clientPort))
            let failed = c.connect(lab.endpoint(port))
            if round == 1 { notes.secondConnect = failed ?? "0" }
            guard failed == nil else { c.close(); break }
            let s = try listener.accept()
            c.write(count: TimeWaitReuse.message)
            s.read(max: 1024)
            s.write(count: TimeWaitReuse.message)
            c.read(max: 1024)
            s.close()                                          // the server closes first: TIME-WAIT
            lab.sleep(ms: 20)
            c.read(max: 1024)                                  // EOF
            c.close()
            lab.sleep(ms: 20)
            if round == 0 { notes.timeWait = KernelSockets.snapshot().filter { $0.local.port == port && $0.state == "TIME_WAIT" } }
        }
        listener.close()
        lab.join()
    }

    public func judge(_ o: Observation, _ found: Findings) -> [ClaimResult] {
        guard let port = found.port else { return Evidence.inconclusive(claims, "no listener") }
        let rs = o.records(serverPort: port)
        guard rs.count == 2 else { return Evidence.inconclusive(claims, "expected two connections on the 4-tuple, saw \(rs.count)") }
        let second = rs[1]
        let reused = second.notes.first { if case .tupleReused = $0 { return true }; return false }
        return [
            ClaimResult(claims[0], holdsIf: !found.timeWait.isEmpty && rs[0].closedBy == .resp,
                        "connection \(rs[0].index) closed by the \(rs[0].closedBy.map { $0 == .resp ? "server" : "client" } ?? "nobody"); " + Evidence.kernel(found.timeWait, none: "the kernel lists no TIME-WAIT on the server's port")),
            ClaimResult(claims[1], holdsIf: found.secondConnect == "0" && second.orig.endpoint == rs[0].orig.endpoint && second.teardown.kind == .graceful,
                        "the second connect() from port \(second.orig.endpoint.port) = \(found.secondConnect ?? "not made"); connection \(second.index): \(second.teardown.name)"
                        + (reused != nil ? ", on the 4-tuple of connection \(rs[0].index) (teardown notes the reuse)" : "")),
            ClaimResult(claims[2], holdsIf: Evidence.diagnosis(second, .timeWaitAssassination) != nil, Evidence.diagnosisText(second, .timeWaitAssassination)),
        ]
    }
}
