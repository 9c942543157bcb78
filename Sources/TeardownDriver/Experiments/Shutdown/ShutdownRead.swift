import Foundation
import TeardownModel
import TeardownWire

/// Experiment 8: shutdown(SHUT_RD) (shutdown(2)). The literature says buffered data is thrown
/// away, later data is acknowledged and silently dropped, and reads return EOF.
public struct ShutdownRead: Experiment {
    public var name: String { "shutdown-read" }
    public var summary: String { "shutdown(SHUT_RD): is buffered data thrown away, later data acknowledged and dropped, and does read() return EOF?" }
    public var claims: [Claim] {
        [Claim("nothing-sent", "shutdown(SHUT_RD) sends nothing: the client is not told", source: "seeds/002"),
         Claim("buffered-discarded", "data already in the receive buffer is thrown away", source: "seeds/001, seeds/002"),
         Claim("reads-eof", "read() after shutdown(SHUT_RD) returns 0 (EOF)", source: "seeds/002"),
         Claim("later-acked", "data arriving later is still acknowledged", source: "seeds/001, seeds/002"),
         Claim("later-dropped", "…and silently dropped: it never reaches the application", source: "seeds/001, seeds/002")]
    }

    static let before = 1000, after = 500

    public init() {}

    public struct Findings: ExperimentFindings {
        var port: UInt16?
        /// The server's receive queue (SIOCINQ) before and after shutdown(SHUT_RD), and after
        /// the later data arrived; -1 when not measured.
        var inqBefore = -1, inqAfter = -1, inqLater = -1
        public init() {}
    }

    public func perform(_ lab: Lab, _ notes: Notebook<Findings>) throws {
        let shutDone = DispatchSemaphore(value: 0)
        let port = try lab.serve(closingListener: .afterServing) { s in
            lab.sleep(ms: 30)                                  // the first 1,000 bytes are buffered
            notes.inqBefore = Int(s.queues().receive)
            s.shutdown(.read)
            notes.inqAfter = Int(s.queues().receive)
            s.read(max: 65536)                                 // what is left to read?
            s.read(max: 65536)                                 // and once that is consumed?
            shutDone.signal()
            lab.sleep(ms: 60)                                  // the later 500 bytes arrive (and any delayed ACK goes)
            notes.inqLater = Int(s.queues().receive)
            s.read(max: 65536)
            s.read(max: 65536)
            s.close()
        }
        notes.port = port
        let c = try lab.connect(to: port)
        c.write(count: ShutdownRead.before)
        _ = shutDone.wait(timeout: .now() + 5)
        c.write(count: ShutdownRead.after, pattern: Array("xyz".utf8))
        c.readToEnd(chunk: 1024)                               // until the server's FIN
        c.close()
        lab.join()
    }

    public func judge(_ o: Observation, _ found: Findings) -> [ClaimResult] {
        guard let port = found.port, let r = o.records(serverPort: port).first,
              let shut = Evidence.calls(o, r, .resp, "shutdown(").first,
              let close = Evidence.calls(o, r, .resp, "close()").first else {
            return Evidence.inconclusive(claims, "the connection or the server's shutdown()/close() was not captured")
        }
        let reads = Evidence.calls(o, r, .resp, "read(")
        guard reads.count == 4 else { return Evidence.inconclusive(claims, "expected 4 server reads, saw \(reads.count)") }
        let inqBefore = found.inqBefore, inqAfter = found.inqAfter, inqLater = found.inqLater
        let sentByServer = Evidence.packets(o, r, from: .resp, after: shut.time, before: close.time)
        let told = sentByServer.filter { !$0.flags.intersection([.fin, .rst]).isEmpty }
        let secondWrite = Evidence.calls(o, r, .orig, "write(").dropFirst().first
        let total = UInt32(ShutdownRead.before + ShutdownRead.after)
        let laterAck = secondWrite.flatMap { w in
            o.packets(r).first { $0.from == .resp && $0.time > w.time && ($0.relativeAcknowledgment ?? 0) >= total + 1 }
        }
        let readText = reads.map { "\(Observation.describe($0)) (\(Observation.ms($0.durationNanoseconds)))" }
        return [
            ClaimResult(claims[0], holdsIf: told.isEmpty,
                        told.isEmpty ? "no FIN or RST from the server between shutdown(SHUT_RD) and its close(); \(sentByServer.count) plain ACK(s) only"
                            : told.map(Observation.describe).joined(separator: ", ") + " after shutdown(SHUT_RD)"),
            ClaimResult(claims[1], holdsIf: inqBefore > 0 && inqAfter == 0 && reads[0].result <= 0,
                        "SIOCINQ \(inqBefore) before shutdown(SHUT_RD), \(inqAfter) after; then \(readText[0])"),
            ClaimResult(claims[2], holdsIf: reads[0].result == 0,
                        "\(readText[0]), then \(readText[1]) (returns at once instead of blocking once the queue is empty)"),
            ClaimResult(claims[3], holdsIf: laterAck != nil,
                        laterAck.map { "\(Observation.describe($0)) from the server acknowledges all \(total) bytes (\(ShutdownRead.after) sent after the shutdown)" } ?? "no ACK covered the later bytes"),
            ClaimResult(claims[4], holdsIf: inqLater == 0 && reads[2].result <= 0,
                        "SIOCINQ \(inqLater) after the later \(ShutdownRead.after) bytes arrived; then \(readText[2]), \(readText[3]); \(Evidence.ledger(r.orig.bytes))"),
        ]
    }
}
