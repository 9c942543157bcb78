import Foundation
import TeardownModel
import TeardownWire

/// Experiment 7: shutdown(SHUT_WR), the half-close (shutdown(2); RFC 9293 §3.6): the client
/// sends its request and shuts down its sending side; the server reads to EOF and still replies.
public struct ShutdownWrite: Experiment {
    public var name: String { "shutdown-write" }
    public var summary: String { "shutdown(SHUT_WR): half-close; the server reads EOF, still replies; the client reads the reply, then 0 at the server's FIN" }
    public var claims: [Claim] {
        [Claim("fin-at-once", "shutdown(SHUT_WR) sends a FIN at once, after the data already written", source: "seeds/001, seeds/002"),
         Claim("write-fails", "a write() after shutdown(SHUT_WR) fails", source: "seeds/002"),
         Claim("peer-eof", "the server reads the request, then read() returns 0 (EOF)", source: "seeds/001"),
         Claim("reply-arrives", "the server can still send its reply, and the half-closed client reads it", source: "seeds/001, seeds/002"),
         Claim("wait-for-fin", "the client's read() returns 0 when the server's FIN arrives; closing after that is an ordinary four-way close", source: "seeds/001")]
    }

    static let request = "hello", reply = "world!"

    public init() {}

    public struct Findings: ExperimentFindings {
        var port: UInt16?
        /// What the server read before EOF, and its last read()'s result (-1, -2: not measured).
        var serverRead = -1, serverLast = -2
        /// What the client read of the reply, and its last read()'s result.
        var clientRead = -1, clientLast = -2
        /// The kernel's sockets on the port once both have closed.
        var kernel: [KernelSocket] = []
        public init() {}
    }

    public func perform(_ lab: Lab, _ notes: Notebook<Findings>) throws {
        let port = try lab.serve(closingListener: .afterServing) { s in
            let r = s.readToEnd(chunk: 1024)
            notes.serverRead = r.bytes
            notes.serverLast = r.last
            lab.sleep(ms: 20)                                  // "working" on the request
            s.write(count: ShutdownWrite.reply.utf8.count, pattern: Array(ShutdownWrite.reply.utf8))
            lab.sleep(ms: 20)
            s.close()
        }
        notes.port = port
        let c = try lab.connect(to: port)
        c.write(count: ShutdownWrite.request.utf8.count, pattern: Array(ShutdownWrite.request.utf8))
        c.shutdown(.write)
        c.write(count: 4, pattern: Array("more".utf8))
        let r = c.readToEnd(chunk: 1024)
        notes.clientRead = r.bytes
        notes.clientLast = r.last
        c.close()
        lab.join()
        lab.sleep(ms: 30)
        notes.kernel = KernelSockets.involving(port: port, in: KernelSockets.snapshot())
    }

    public func judge(_ o: Observation, _ found: Findings) -> [ClaimResult] {
        guard let port = found.port, let r = o.records(serverPort: port).first,
              let shut = Evidence.calls(o, r, .orig, "shutdown(").first else {
            return Evidence.inconclusive(claims, "the connection or the client's shutdown() was not captured")
        }
        let fin = Evidence.packets(o, r, from: .orig, with: .fin, after: shut.time).first
        let finSoon = fin.map { $0.time.nanoseconds - shut.time.nanoseconds < 10_000_000 } ?? false
        let finAfterData = fin.map { $0.relativeSequence == UInt32(ShutdownWrite.request.utf8.count + 1) } ?? false
        let lateWrite = Evidence.calls(o, r, .orig, "write(").dropFirst().first
        let serverRead = found.serverRead, serverLast = found.serverLast
        let clientRead = found.clientRead, clientLast = found.clientLast
        let serverWrite = Evidence.calls(o, r, .resp, "write(").first
        let serverFIN = o.packets(r, from: .resp, with: .fin).first
        let clientReads = Evidence.calls(o, r, .orig, "read(")
        let eofRead = clientReads.last
        let clientClose = Evidence.calls(o, r, .orig, "close()").first
        let kernel = found.kernel
        let clientTW = kernel.contains { $0.local == r.orig.endpoint && $0.state == "TIME_WAIT" }
        let orderOK = serverFIN.map { f in eofRead.map { $0.time.nanoseconds + $0.durationNanoseconds >= f.time.nanoseconds } == true
            && clientClose.map { $0.time > f.time } == true } ?? false
        return [
            ClaimResult(claims[0], holdsIf: finSoon && finAfterData,
                        fin.map { "\(Evidence.describe($0, after: shut)) at relative seq \($0.relativeSequence), right after the \(ShutdownWrite.request.utf8.count) request bytes" } ?? "no FIN from the client after shutdown()"),
            ClaimResult(claims[1], holdsIf: lateWrite.map { $0.result == -1 } ?? false,
                        lateWrite.map { Observation.describe($0) } ?? "no write after shutdown() recorded"),
            ClaimResult(claims[2], holdsIf: serverRead == ShutdownWrite.request.utf8.count && serverLast == 0,
                        "the server read \(serverRead) bytes, then read() = \(serverLast)"),
            ClaimResult(claims[3], holdsIf: serverWrite?.result == Int64(ShutdownWrite.reply.utf8.count) && clientRead == ShutdownWrite.reply.utf8.count && r.halfClose,
                        "\(serverWrite.map(Observation.describe) ?? "no server write") after the client's FIN; the client read \(clientRead) bytes; half_close \(r.halfClose)"),
            ClaimResult(claims[4], holdsIf: clientLast == 0 && orderOK && r.teardown.kind == .graceful && clientTW,
                        (serverFIN.map { Observation.describe($0) + " from the server; " } ?? "no FIN from the server; ")
                        + (eofRead.map { "then " + Observation.describe($0) + "; " } ?? "")
                        + (clientClose.map { "then " + Observation.describe($0) + "; " } ?? "")
                        + "teardown \(r.teardown.name); client \(clientTW ? "in TIME_WAIT" : "not in TIME_WAIT") (\(Evidence.kernel(kernel, none: "the kernel lists no socket on the port")))"),
        ]
    }
}
