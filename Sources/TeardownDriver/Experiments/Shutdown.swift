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

    public func perform(_ lab: Lab) throws {
        let listener = try lab.listener()
        let port = listener.local!.port
        lab.set("port", port)
        lab.spawn("server") {
            let s = try listener.accept()
            let r = s.readToEnd(chunk: 1024)
            lab.set("serverRead", r.bytes)
            lab.set("serverLast", r.last)
            lab.sleep(ms: 20)                                  // "working" on the request
            s.write(count: ShutdownWrite.reply.utf8.count, pattern: Array(ShutdownWrite.reply.utf8))
            lab.sleep(ms: 20)
            s.close()
            listener.close()
        }
        let c = try lab.socket("client")
        try c.connectOrFail(lab.endpoint(port))
        c.write(count: ShutdownWrite.request.utf8.count, pattern: Array(ShutdownWrite.request.utf8))
        c.shutdown(.write)
        c.write(count: 4, pattern: Array("more".utf8))
        let r = c.readToEnd(chunk: 1024)
        lab.set("clientRead", r.bytes)
        lab.set("clientLast", r.last)
        c.close()
        lab.join()
        lab.sleep(ms: 30)
        lab.set("kernel", KernelSockets.involving(port: port, in: KernelSockets.snapshot()))
    }

    public func judge(_ o: Observation) -> [ClaimResult] {
        guard let port: UInt16 = o.value("port"), let r = o.records(serverPort: port).first,
              let shut = GroupAEvidence.calls(o, r, .orig, "shutdown(").first else {
            return GroupAEvidence.inconclusive(claims, "the connection or the client's shutdown() was not captured")
        }
        let fin = GroupAEvidence.packets(o, r, from: .orig, with: .fin, after: shut.time).first
        let finSoon = fin.map { $0.time.nanoseconds - shut.time.nanoseconds < 10_000_000 } ?? false
        let finAfterData = fin.map { $0.relativeSequence == UInt32(ShutdownWrite.request.utf8.count + 1) } ?? false
        let lateWrite = GroupAEvidence.calls(o, r, .orig, "write(").dropFirst().first
        let serverRead: Int = o.value("serverRead") ?? -1, serverLast: Int = o.value("serverLast") ?? -2
        let clientRead: Int = o.value("clientRead") ?? -1, clientLast: Int = o.value("clientLast") ?? -2
        let serverWrite = GroupAEvidence.calls(o, r, .resp, "write(").first
        let serverFIN = o.packets(r, from: .resp, with: .fin).first
        let clientReads = GroupAEvidence.calls(o, r, .orig, "read(")
        let eofRead = clientReads.last
        let clientClose = GroupAEvidence.calls(o, r, .orig, "close()").first
        let kernel: [KernelSocket] = o.value("kernel") ?? []
        let clientTW = kernel.contains { $0.local == r.orig.endpoint && $0.state == "TIME_WAIT" }
        let orderOK = serverFIN.map { f in eofRead.map { $0.time.nanoseconds + $0.durationNanoseconds >= f.time.nanoseconds } == true
            && clientClose.map { $0.time > f.time } == true } ?? false
        return [
            ClaimResult(claims[0], holdsIf: finSoon && finAfterData,
                        fin.map { "\(GroupAEvidence.describe($0, after: shut)) at relative seq \($0.relativeSequence), right after the \(ShutdownWrite.request.utf8.count) request bytes" } ?? "no FIN from the client after shutdown()"),
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
                        + "teardown \(r.teardown.name); client \(clientTW ? "in TIME_WAIT" : "not in TIME_WAIT") (\(GroupAEvidence.kernel(kernel)))"),
        ]
    }
}

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

    public func perform(_ lab: Lab) throws {
        let listener = try lab.listener()
        let port = listener.local!.port
        lab.set("port", port)
        let shutDone = DispatchSemaphore(value: 0)
        lab.spawn("server") {
            let s = try listener.accept()
            lab.sleep(ms: 30)                                  // the first 1,000 bytes are buffered
            lab.set("inqBefore", Int(s.queues().receive))
            s.shutdown(.read)
            lab.set("inqAfter", Int(s.queues().receive))
            s.read(max: 65536)                                 // what is left to read?
            s.read(max: 65536)                                 // and once that is consumed?
            shutDone.signal()
            lab.sleep(ms: 60)                                  // the later 500 bytes arrive (and any delayed ACK goes)
            lab.set("inqLater", Int(s.queues().receive))
            s.read(max: 65536)
            s.read(max: 65536)
            s.close()
            listener.close()
        }
        let c = try lab.socket("client")
        try c.connectOrFail(lab.endpoint(port))
        c.write(count: ShutdownRead.before)
        _ = shutDone.wait(timeout: .now() + 5)
        c.write(count: ShutdownRead.after, pattern: Array("xyz".utf8))
        c.readToEnd(chunk: 1024)                               // until the server's FIN
        c.close()
        lab.join()
    }

    public func judge(_ o: Observation) -> [ClaimResult] {
        guard let port: UInt16 = o.value("port"), let r = o.records(serverPort: port).first,
              let shut = GroupAEvidence.calls(o, r, .resp, "shutdown(").first,
              let close = GroupAEvidence.calls(o, r, .resp, "close()").first else {
            return GroupAEvidence.inconclusive(claims, "the connection or the server's shutdown()/close() was not captured")
        }
        let reads = GroupAEvidence.calls(o, r, .resp, "read(")
        guard reads.count == 4 else { return GroupAEvidence.inconclusive(claims, "expected 4 server reads, saw \(reads.count)") }
        let inqBefore: Int = o.value("inqBefore") ?? -1, inqAfter: Int = o.value("inqAfter") ?? -1, inqLater: Int = o.value("inqLater") ?? -1
        let sentByServer = GroupAEvidence.packets(o, r, from: .resp, after: shut.time, before: close.time)
        let told = sentByServer.filter { !$0.flags.intersection([.fin, .rst]).isEmpty }
        let secondWrite = GroupAEvidence.calls(o, r, .orig, "write(").dropFirst().first
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
                        "SIOCINQ \(inqLater) after the later \(ShutdownRead.after) bytes arrived; then \(readText[2]), \(readText[3]); \(GroupAEvidence.ledger(r.orig.bytes))"),
        ]
    }
}

/// Experiment 9: shutdown(SHUT_RDWR) next to close() (shutdown(2), close(2)), each with and
/// without unread data in the receive queue; the server replies after the client's FIN.
public struct ShutdownBoth: Experiment {
    public var name: String { "shutdown-both" }
    public var summary: String { "shutdown(SHUT_RDWR) next to close(), with and without unread data: what each sends, and what the descriptor can still do" }
    public var claims: [Claim] {
        [Claim("fin-at-once", "shutdown(SHUT_RDWR) and close() both send a FIN at once", source: "seeds/002"),
         Claim("fd-stays-valid", "after shutdown(SHUT_RDWR) the descriptor stays open: read() returns 0, write() fails, and close() is still needed", source: "seeds/002"),
         Claim("late-data", "data arriving after shutdown(SHUT_RDWR) is acknowledged and silently dropped, while after close() it draws an RST", source: "seeds/000, seeds/001"),
         Claim("shutdown-fin-with-unread", "with unread data, close() sends an RST, but shutdown(SHUT_RDWR) still sends a FIN (shutdown always sends FIN)", source: "seeds/000, seeds/002"),
         Claim("unread-discarded", "shutdown(SHUT_RDWR) throws away the unread data in the receive queue", source: "seeds/001, seeds/002")]
    }

    /// The four connections, in order.
    static let variants: [(key: String, shutdown: Bool, unread: Bool)] = [
        ("shutdown", true, false), ("close", false, false), ("shutdown+unread", true, true), ("close+unread", false, true),
    ]
    static let pending = 100, late = 6

    public init() {}

    public func perform(_ lab: Lab) throws {
        for v in ShutdownBoth.variants { try one(lab, v) }
    }

    func one(_ lab: Lab, _ v: (key: String, shutdown: Bool, unread: Bool)) throws {
        let listener = try lab.listener()
        let port = listener.local!.port
        lab.set("\(v.key).port", port)
        lab.spawn("server") {
            let s = try listener.accept()
            if v.unread { s.write(count: ShutdownBoth.pending, pattern: Array("pending".utf8)) }
            let r = s.read(max: 1024)                          // 0 at the client's FIN
            if r == 0 && !v.unread {
                lab.sleep(ms: 5)
                s.write(count: ShutdownBoth.late, pattern: Array("late!\n".utf8))
            }
            lab.sleep(ms: 60)
            s.read(max: 1024)
            s.close()
            listener.close()
        }
        let c = try lab.socket("client")
        try c.connectOrFail(lab.endpoint(port))
        lab.sleep(ms: 20)                                      // the server's pending data (if any) has arrived
        lab.set("\(v.key).inqBefore", Int(c.queues().receive))
        if v.shutdown {
            c.shutdown(.both)
            lab.set("\(v.key).inqAfter", Int(c.queues().receive))
            if !v.unread {                                     // reading would consume the unread data
                c.read(max: 1024)
                c.write(count: 4, pattern: Array("more".utf8))
            }
            lab.sleep(ms: 40)                                  // the server's late reply (if any) arrives
            c.close()
        } else {
            c.close()
            lab.sleep(ms: 40)
        }
        lab.join()
    }

    struct Seen {
        var record: ConnectionRecord
        var action: RecordedCall
        var first: PacketEvent?
        var close: RecordedCall?
    }

    func seen(_ o: Observation, _ key: String, shutdown: Bool) -> Seen? {
        guard let port: UInt16 = o.value("\(key).port"), let r = o.records(serverPort: port).first,
              let action = GroupAEvidence.calls(o, r, .orig, shutdown ? "shutdown(" : "close()").first else { return nil }
        // The first FIN or RST the client sent after the call.
        let first = GroupAEvidence.packets(o, r, from: .orig, after: action.time).first { !$0.flags.intersection([.fin, .rst]).isEmpty }
        return Seen(record: r, action: action, first: first, close: GroupAEvidence.calls(o, r, .orig, "close()").first)
    }

    static func what(_ s: Seen) -> String {
        s.first.map { "\(s.action.call) → \(GroupAEvidence.describe($0, after: s.action))" } ?? "\(s.action.call) → no FIN or RST"
    }

    public func judge(_ o: Observation) -> [ClaimResult] {
        guard let sh = seen(o, "shutdown", shutdown: true), let cl = seen(o, "close", shutdown: false),
              let shu = seen(o, "shutdown+unread", shutdown: true), let clu = seen(o, "close+unread", shutdown: false) else {
            return GroupAEvidence.inconclusive(claims, "a connection or its shutdown()/close() was not captured")
        }
        func finSoon(_ s: Seen) -> Bool {
            s.first.map { $0.flags.contains(.fin) && !$0.flags.contains(.rst) && $0.time.nanoseconds - s.action.time.nanoseconds < 10_000_000 } ?? false
        }
        func isRST(_ p: PacketEvent?) -> Bool { p?.flags.contains(.rst) ?? false }

        // fd-stays-valid: the calls on the descriptor after shutdown() on the first connection.
        let r = sh.record
        let after = GroupAEvidence.calls(o, r, .orig, "").filter { $0.time > sh.action.time }
        let read = after.first { $0.call.hasPrefix("read(") }, write = after.first { $0.call.hasPrefix("write(") }
        let validOK = read?.result == 0 && write?.result == -1 && sh.close?.result == 0

        // late-data: the server's reply after the client's FIN, and what the client's TCP answered.
        func lateAnswer(_ s: Seen) -> (text: String, rst: PacketEvent?, ack: PacketEvent?) {
            guard let w = GroupAEvidence.calls(o, s.record, .resp, "write(").first else { return ("the server did not reply", nil, nil) }
            let rst = GroupAEvidence.packets(o, s.record, from: .orig, with: .rst, after: w.time).first
            let ack = GroupAEvidence.packets(o, s.record, from: .orig, with: .ack, after: w.time).first {
                !$0.flags.contains(.rst) && ($0.relativeAcknowledgment ?? 0) > 1
            }
            let answer = rst.map { "answered by \(Observation.describe($0))" } ?? ack.map { "acknowledged by \(Observation.describe($0)), no RST" } ?? "neither acknowledged nor reset"
            return ("\(Observation.describe(w)) → \(answer)", rst, ack)
        }
        let lateSh = lateAnswer(sh), lateCl = lateAnswer(cl)
        let serverReadAfter = GroupAEvidence.calls(o, sh.record, .resp, "read(").dropFirst().first

        let inqBefore: Int = o.value("shutdown+unread.inqBefore") ?? -1, inqAfter: Int = o.value("shutdown+unread.inqAfter") ?? -1
        let shuClose = shu.close.flatMap { c in
            GroupAEvidence.packets(o, shu.record, from: .orig, after: c.time).first { !$0.flags.intersection([.fin, .rst]).isEmpty }
        }
        let shuCloseText = shu.close.map { c in "later close() → " + (shuClose.map { GroupAEvidence.describe($0, after: c) } ?? "no FIN or RST") } ?? "no close()"

        return [
            ClaimResult(claims[0], holdsIf: finSoon(sh) && finSoon(cl),
                        "no unread data: \(ShutdownBoth.what(sh)); \(ShutdownBoth.what(cl))"),
            ClaimResult(claims[1], holdsIf: validOK,
                        "after shutdown(SHUT_RDWR): " + [read, write, sh.close].compactMap { $0.map(Observation.describe) }.joined(separator: ", ")),
            ClaimResult(claims[2], holdsIf: lateSh.rst == nil && lateSh.ack != nil && lateCl.rst != nil,
                        "after shutdown(SHUT_RDWR): \(lateSh.text)"
                        + (serverReadAfter.map { " (then " + Observation.describe($0) + ")" } ?? "")
                        + "; after close(): \(lateCl.text)"),
            ClaimResult(claims[3], holdsIf: isRST(clu.first) && (shu.first.map { $0.flags.contains(.fin) && !$0.flags.contains(.rst) } ?? false),
                        "with \(ShutdownBoth.pending) bytes unread: \(ShutdownBoth.what(shu)); \(ShutdownBoth.what(clu))"),
            ClaimResult(claims[4], holdsIf: inqBefore > 0 && inqAfter == 0,
                        "SIOCINQ \(inqBefore) before shutdown(SHUT_RDWR), \(inqAfter) after; \(shuCloseText); teardown \(shu.record.teardown.name)"),
        ]
    }
}
