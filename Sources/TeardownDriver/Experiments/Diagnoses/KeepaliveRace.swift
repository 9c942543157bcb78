import Foundation
import TeardownModel
import TeardownWire

/// A keep-alive race (issue 16, `keepalive-race`): the server closes a kept-alive connection
/// after its idle timeout (2 s, gunicorn's default), the client's pool keeps it longer (3 s) and
/// sends its next request on it. The server's closed socket answers the request with an RST;
/// the client, whose kernel had the FIN first, reads EOF and its next write fails with EPIPE.
public struct KeepaliveRace: Experiment {
    public var name: String { "keepalive-race" }
    public var summary: String { "A server's keep-alive timeout (2 s) shorter than the client's pool's (3 s): the next request on the idle connection draws an RST" }
    public var claims: [Claim] {
        [Claim("idle-close", "a server closes a persistent connection once it has been idle for its keep-alive timeout", source: "RFC 9112 §9.6"),
         Claim("request-draws-rst", "a request the client sends on it after the server's FIN still succeeds as a write() and draws an RST from the server", source: "RFC 9112 §9.6, seeds/000"),
         Claim("client-sees-error", "the client sees EOF and then EPIPE (the FIN came first), or ECONNRESET", source: "seeds/000"),
         Claim("diagnosed", "teardown diagnoses keepalive-race and gives the idle gap", source: "RFC 9112 §9.6")]
    }

    static let serverIdleMs = 2000, clientIdleMs = 3000, request = 100, response = 200

    public init() {}

    public struct Findings: ExperimentFindings {
        var port: UInt16?
        public init() {}
    }

    public func perform(_ lab: Lab, _ notes: Notebook<Findings>) throws {
        let port = try lab.serve(closingListener: .afterServing) { s in
            s.setReceiveTimeout(ms: KeepaliveRace.serverIdleMs)
            while s.read(max: 1024) > 0 {                     // a request: answer it, wait for the next
                s.write(count: KeepaliveRace.response)
            }
            s.close()                                         // idle timeout (EAGAIN) or the client's close
        }
        notes.port = port
        let c = try lab.connect(to: port)
        c.write(count: KeepaliveRace.request)
        c.read(max: 1024)
        lab.sleep(ms: KeepaliveRace.clientIdleMs)             // idle in the client's pool
        c.write(count: KeepaliveRace.request)                 // the next request on the reused connection
        lab.sleep(ms: 50)                                     // the RST has come
        c.read(max: 1024)
        c.write(count: KeepaliveRace.request)
        c.close()
        lab.join()
    }

    public func judge(_ o: Observation, _ found: Findings) -> [ClaimResult] {
        guard let port = found.port, let r = o.records(serverPort: port).first else {
            return Evidence.inconclusive(claims, "the connection was not captured")
        }
        let serverReads = Evidence.calls(o, r, .resp, "read("), writes = Evidence.calls(o, r, .orig, "write("),
            reads = Evidence.calls(o, r, .orig, "read(")
        guard serverReads.count >= 2, writes.count == 3, reads.count == 2 else {
            return Evidence.inconclusive(claims, "expected the server's 2 reads and the client's 3 writes and 2 reads, saw \(serverReads.count), \(writes.count) and \(reads.count)")
        }
        let timedOut = serverReads[1]
        let fin = o.packets(r, from: .resp, with: .fin).first
        let lastBeforeFIN = fin.flatMap { f in o.packets(r).last { $0.number < f.number } }
        var idle: Int64 = 0
        if let f = fin, let b = lastBeforeFIN { idle = f.time.nanoseconds - b.time.nanoseconds }
        let rst = Evidence.packets(o, r, from: .resp, with: .rst, after: writes[1].time).first
        let eof = reads[1], epipe = writes[2]
        let sawError = (eof.result == 0 && epipe.errno == "EPIPE") || eof.errno == "ECONNRESET" || epipe.errno == "ECONNRESET"
        return [
            ClaimResult(claims[0], holdsIf: timedOut.result == -1 && timedOut.errno == "EAGAIN" && fin.map { $0.time > timedOut.time } == true
                        && idle >= Int64(KeepaliveRace.serverIdleMs - 100) * 1_000_000,
                        "\(Evidence.describeTimed(timedOut)); " + (fin.map { "\(Observation.describe($0)) after \(Observation.ms(idle)) without a packet" } ?? "no FIN from the server")),
            ClaimResult(claims[1], holdsIf: writes[1].result == KeepaliveRace.request && rst != nil && fin.map { $0.time < writes[1].time } == true
                        && Evidence.reasonIs(r, rst, Evidence.noSocketReasons),
                        Evidence.withReset("\(Observation.describe(writes[1])) \(fin.map { Observation.ms(writes[1].time.nanoseconds - $0.time.nanoseconds) + " after the server's FIN" } ?? ""); "
                                           + (rst.map { Evidence.describe($0, after: writes[1]) } ?? "no RST from the server after it"), r, rst)),
            ClaimResult(claims[2], holdsIf: sawError, "\(Observation.describe(eof)), then \(Observation.describe(epipe))"),
            ClaimResult(claims[3], holdsIf: Evidence.diagnosis(r, .keepaliveRace) != nil, Evidence.diagnosisText(r, .keepaliveRace)),
        ]
    }
}
