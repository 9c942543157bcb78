import Foundation
import TeardownModel
import TeardownWire

/// Experiment 6: writing to a connection the peer has closed (RFC 9293 §3.10.7.4: a closed
/// socket answers data with RST; send(2), EPIPE and SIGPIPE).
public struct WriteAfterClose: Experiment {
    public var name: String { "write-after-close" }
    public var summary: String { "Writing to a connection the peer closed: the first write succeeds and draws an RST, the second fails with EPIPE and SIGPIPE" }
    public var claims: [Claim] {
        [Claim("eof-first", "after the peer's FIN, read() returns 0 (EOF)", source: "seeds/000"),
         Claim("first-write-ok", "the first write() after the peer closed succeeds", source: "seeds/000"),
         Claim("draws-rst", "that write draws an RST from the peer, which no longer has a socket to take the data", source: "seeds/000, seeds/002"),
         Claim("second-epipe", "the second write() fails with EPIPE (\"broken pipe\")", source: "seeds/000"),
         Claim("sigpipe", "the second write() raises SIGPIPE", source: "seeds/002"),
         Claim("read-reset", "a read() after the RST fails with ECONNRESET", source: "seeds/000")]
    }

    public init() {}

    public struct Findings: ExperimentFindings {
        var port: UInt16?
        public init() {}
    }

    public func perform(_ lab: Lab, _ notes: Notebook<Findings>) throws {
        let port = try lab.serve(closingListener: .afterServing) { s in
            lab.sleep(ms: 10)
            s.close()
        }
        notes.port = port
        let c = try lab.connect(to: port)
        lab.sleep(ms: 50)                                      // the server's FIN has arrived
        c.read(max: 1024)
        c.write(count: 5, pattern: Array("hello".utf8))
        lab.sleep(ms: 50)                                      // the RST has arrived
        c.write(count: 5, pattern: Array("again".utf8))
        c.read(max: 1024)
        c.close()
        lab.join()
    }

    public func judge(_ o: Observation, _ found: Findings) -> [ClaimResult] {
        guard let port = found.port, let r = o.records(serverPort: port).first else {
            return Evidence.inconclusive(claims, "the connection was not captured")
        }
        let reads = Evidence.calls(o, r, .orig, "read("), writes = Evidence.calls(o, r, .orig, "write(")
        guard reads.count == 2, writes.count == 2 else {
            return Evidence.inconclusive(claims, "expected 2 reads and 2 writes by the client, saw \(reads.count) and \(writes.count)")
        }
        let serverFIN = o.packets(r, from: .resp, with: .fin).first
        let rst = Evidence.packets(o, r, from: .resp, with: .rst, after: writes[0].time).first
        let rstBeforeSecond = rst.map { $0.time < writes[1].time } ?? false
        let raised = writes[1].call.contains("(SIGPIPE raised)")
        return [
            ClaimResult(claims[0], holdsIf: serverFIN.map { $0.time < reads[0].time } == true && reads[0].result == 0,
                        (serverFIN.map { Observation.describe($0) + " from the server, then " } ?? "no FIN from the server; ") + Observation.describe(reads[0])),
            ClaimResult(claims[1], holdsIf: writes[0].result == 5, Observation.describe(writes[0]) + " (the client is in \(r.orig.state.rawValue) at the end)"),
            ClaimResult(claims[2], holdsIf: rstBeforeSecond && Evidence.reasonIs(r, rst, Evidence.noSocketReasons),
                        Evidence.withReset(rst.map { "\(Evidence.describe($0, after: writes[0])), \($0.flags.contains(.ack) ? "with ACK" : "bare"); teardown \(r.teardown.name)" } ?? "no RST from the server after the first write", r, rst)),
            ClaimResult(claims[3], holdsIf: writes[1].result == -1 && writes[1].errno == "EPIPE", Observation.describe(writes[1])),
            ClaimResult(claims[4], holdsIf: raised && o.sigpipes >= 1, "\(o.sigpipes) SIGPIPE delivered during the run; the second write \(raised ? "recorded" : "did not record") \"(SIGPIPE raised)\""),
            ClaimResult(claims[5], holdsIf: reads[1].result == -1 && reads[1].errno == "ECONNRESET",
                        "after the RST and the EPIPE: \(Observation.describe(reads[1]))"),
        ]
    }
}
