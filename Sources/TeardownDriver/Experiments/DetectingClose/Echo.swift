import Foundation
import TeardownModel
import TeardownWire

/// Experiment 13: the echo client and slow server of seeds/004, with the server's 5 s of
/// "processing" shortened to 150 ms. The client sends "data1" and "data2", then either
/// close()s (`echo-close`) or shutdown(SHUT_WR)s and reads on (`echo-shutdown`). The server
/// answers each message with "Hi, dataN" and closes when a read returns 0 or a write fails.
public struct Echo: Experiment {
    /// true: the client half-closes with shutdown(SHUT_WR); false: it close()s.
    public let halfClose: Bool

    public var name: String { halfClose ? "echo-shutdown" : "echo-close" }
    public var summary: String {
        halfClose
            ? "Echo with a slow server, client sends two messages then shutdown(SHUT_WR): both replies arrive, both sides close cleanly"
            : "Echo with a slow server, client sends two messages then close(): the first reply draws an RST, the second write gets EPIPE and SIGPIPE"
    }
    public var claims: [Claim] {
        halfClose
            ? [Claim("both-replies", "after shutdown(SHUT_WR) the client still receives and reads both replies", source: "seeds/004"),
               Claim("eof-both-ways", "the server reads EOF after the two messages and closes; the client then reads EOF", source: "seeds/004"),
               Claim("clean-close", "both sides close cleanly: a FIN each way, no RST, no failed call, no SIGPIPE", source: "seeds/004")]
            : [Claim("reply-draws-rst", "the server's first reply reaches the closed client and draws an RST", source: "seeds/004"),
               Claim("second-write-sigpipe", "the server's second write fails (EPIPE) and raises SIGPIPE; it never reaches the wire", source: "seeds/004"),
               Claim("no-reply-read", "the client gets neither reply", source: "seeds/004")]
    }

    public init(halfClose: Bool) { self.halfClose = halfClose }

    static let processingMs = 150

    public struct Findings: ExperimentFindings {
        var port: UInt16?
        /// With shutdown(SHUT_WR): what the client read after it, and its last read()'s result.
        var clientRead = -1
        var clientLast: Int?
        public init() {}
    }

    public func perform(_ lab: Lab, _ notes: Notebook<Findings>) throws {
        let port = try lab.serve { s in
            for i in 1...3 {
                let n = s.read(max: 1024)
                if n <= 0 { break }
                lab.sleep(ms: Echo.processingMs)        // "processing"
                if s.write(count: 9, pattern: Array("Hi, data\(i)".utf8)) < 0 { break }
            }
            s.close()
        }
        notes.port = port
        let c = try lab.connect(to: port)
        c.write(count: 5, pattern: Array("data1".utf8))
        lab.sleep(ms: 30)
        c.write(count: 5, pattern: Array("data2".utf8))
        lab.sleep(ms: 30)
        if halfClose {
            c.shutdown(.write)
            let r = c.readToEnd(chunk: 1024)
            notes.clientRead = r.bytes
            notes.clientLast = r.last
            c.close()
        } else {
            c.close()
        }
        lab.join()
        lab.sleep(ms: 30)
    }

    public func judge(_ o: Observation, _ found: Findings) -> [ClaimResult] {
        guard let port = found.port, let r = o.records(serverPort: port).first else {
            return Evidence.inconclusive(claims, "the connection was not captured")
        }
        let calls = Evidence.calls(o, onClientPort: r.orig.endpoint.port)
        let serverWrites = calls.filter { $0.actor == "server" && $0.call.hasPrefix("write") }
        let serverReads = calls.filter { $0.actor == "server" && $0.call.hasPrefix("read") }
        let readsText = "server reads: " + serverReads.map { "\($0.result)" + ($0.errno.map { " " + $0 } ?? "") }.joined(separator: ", ")
        let replies = o.packets(r).filter { $0.from == .resp && $0.payloadLength > 0 }
        if halfClose {
            let read = found.clientRead, last = found.clientLast
            let failed = calls.filter { $0.result < 0 }
            let rsts = o.packets(r).filter { $0.flags.contains(.rst) }
            let sd = calls.first { $0.call.hasPrefix("shutdown") }
            let afterShutdown = replies.filter { p in sd.map { p.time > $0.time } == true }
            return [
                ClaimResult(claims[0], holdsIf: read == 18 && afterShutdown.count == replies.count && replies.count >= 1,
                            "client \(Evidence.result(sd)); then read \(read) bytes of the server's \(serverWrites.map(\.result).reduce(0, +)); reply packets " + replies.map { "\($0.number) (\($0.payloadLength) B)" }.joined(separator: ", ") + " came after the shutdown"),
                ClaimResult(claims[1], holdsIf: serverReads.last?.result == 0 && last == 0,
                            readsText + "; client's last read = \(last.map(String.init) ?? "?")"),
                ClaimResult(claims[2], holdsIf: r.orig.fin == 1 && r.resp.fin == 1 && rsts.isEmpty && failed.isEmpty && o.sigpipes == 0 && r.teardown.kind == .graceful,
                            "FINs: client \(r.orig.fin), server \(r.resp.fin); \(rsts.count) RST; \(failed.count) failed calls; \(o.sigpipes) SIGPIPE; teardown \(r.teardown.name)\(r.halfClose ? " (half-close)" : "")"),
            ]
        }
        let first = replies.first
        let rst = first.flatMap { f in o.packets(r).first { $0.from == .orig && $0.flags.contains(.rst) && $0.number > f.number } }
        let second = serverWrites.count >= 2 ? serverWrites[1] : nil
        let dataAfterSecond = second.map { w in replies.filter { $0.time >= w.time } } ?? []
        let ledger = r.resp.bytes
        return [
            ClaimResult(claims[0], holdsIf: first != nil && rst != nil && Evidence.reasonIs(r, rst, Evidence.noSocketReasons),
                        Evidence.withReset("server \(Evidence.result(serverWrites.first)) → " + (first.map { "packet \($0.number) (\($0.payloadLength) B)" } ?? "no reply packet")
                                           + ", answered by " + (rst.map { "\(Observation.describe($0)) from the client" } ?? "no RST"), r, rst)),
            ClaimResult(claims[1], holdsIf: second?.result == -1 && second?.errno == "EPIPE" && second?.call.contains("SIGPIPE") == true && dataAfterSecond.isEmpty,
                        readsText + "; server's second \(Evidence.result(second)); \(dataAfterSecond.count) server data packets after it; SIGPIPE deliveries: \(o.sigpipes)"),
            ClaimResult(claims[2], holdsIf: (ledger.readByPeer ?? 1) == 0 && (ledger.written ?? 0) > 0,
                        "server → client: written \(ledger.written.map(String.init) ?? "?"), on the wire \(ledger.sent), read by the client \(ledger.readByPeer.map(String.init) ?? "?"), lost \(ledger.lost.map(String.init) ?? "?")"),
        ]
    }
}
