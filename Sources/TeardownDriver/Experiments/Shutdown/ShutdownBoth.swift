import Foundation
import TeardownModel
import TeardownWire

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

    /// The four connections, in the order they run: the client calls shutdown(SHUT_RDWR) or
    /// close(), with nothing unread or with the server's data unread.
    enum Variant: CaseIterable {
        case shutdown, close, shutdownUnread, closeUnread
        var shutdown: Bool { self == .shutdown || self == .shutdownUnread }
        var unread: Bool { self == .shutdownUnread || self == .closeUnread }
    }
    static let pending = 100, late = 6

    public init() {}

    /// What one connection showed.
    struct Connection {
        var port: UInt16?
        /// The client's receive queue (SIOCINQ) before and after shutdown(SHUT_RDWR); -1 when
        /// not measured.
        var inqBefore = -1, inqAfter = -1
    }

    public struct Findings: ExperimentFindings {
        var connections: [Variant: Connection] = [:]
        public init() {}
    }

    public func perform(_ lab: Lab, _ notes: Notebook<Findings>) throws {
        for v in Variant.allCases { try one(lab, notes, v) }
    }

    func one(_ lab: Lab, _ notes: Notebook<Findings>, _ v: Variant) throws {
        let port = try lab.serve(closingListener: .afterServing) { s in
            if v.unread { s.write(count: ShutdownBoth.pending, pattern: Array("pending".utf8)) }
            let r = s.read(max: 1024)                          // 0 at the client's FIN
            if r == 0 && !v.unread {
                lab.sleep(ms: 5)
                s.write(count: ShutdownBoth.late, pattern: Array("late!\n".utf8))
            }
            lab.sleep(ms: 60)
            s.read(max: 1024)
            s.close()
        }
        notes.connections[v, default: Connection()].port = port
        let c = try lab.connect(to: port)
        lab.sleep(ms: 20)                                      // the server's pending data (if any) has arrived
        notes.connections[v, default: Connection()].inqBefore = Int(c.queues().receive)
        if v.shutdown {
            c.shutdown(.both)
            notes.connections[v, default: Connection()].inqAfter = Int(c.queues().receive)
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

    func seen(_ o: Observation, _ found: Findings, _ v: Variant) -> Seen? {
        guard let port = found.connections[v]?.port, let r = o.records(serverPort: port).first,
              let action = Evidence.calls(o, r, .orig, v.shutdown ? "shutdown(" : "close()").first else { return nil }
        // The first FIN or RST the client sent after the call.
        let first = Evidence.packets(o, r, from: .orig, after: action.time).first { !$0.flags.intersection([.fin, .rst]).isEmpty }
        return Seen(record: r, action: action, first: first, close: Evidence.calls(o, r, .orig, "close()").first)
    }

    static func what(_ s: Seen) -> String {
        s.first.map { "\(s.action.call) → \(Evidence.describe($0, after: s.action))" } ?? "\(s.action.call) → no FIN or RST"
    }

    public func judge(_ o: Observation, _ found: Findings) -> [ClaimResult] {
        guard let sh = seen(o, found, .shutdown), let cl = seen(o, found, .close),
              let shu = seen(o, found, .shutdownUnread), let clu = seen(o, found, .closeUnread) else {
            return Evidence.inconclusive(claims, "a connection or its shutdown()/close() was not captured")
        }
        func finSoon(_ s: Seen) -> Bool {
            s.first.map { $0.flags.contains(.fin) && !$0.flags.contains(.rst) && $0.time.nanoseconds - s.action.time.nanoseconds < 10_000_000 } ?? false
        }
        func isRST(_ p: PacketEvent?) -> Bool { p?.flags.contains(.rst) ?? false }

        // fd-stays-valid: the calls on the descriptor after shutdown() on the first connection.
        let r = sh.record
        let after = Evidence.calls(o, r, .orig, "").filter { $0.time > sh.action.time }
        let read = after.first { $0.call.hasPrefix("read(") }, write = after.first { $0.call.hasPrefix("write(") }
        let validOK = read?.result == 0 && write?.result == -1 && sh.close?.result == 0

        // late-data: the server's reply after the client's FIN, and what the client's TCP answered.
        func lateAnswer(_ s: Seen) -> (text: String, rst: PacketEvent?, ack: PacketEvent?) {
            guard let w = Evidence.calls(o, s.record, .resp, "write(").first else { return ("the server did not reply", nil, nil) }
            let rst = Evidence.packets(o, s.record, from: .orig, with: .rst, after: w.time).first
            let ack = Evidence.packets(o, s.record, from: .orig, with: .ack, after: w.time).first {
                !$0.flags.contains(.rst) && ($0.relativeAcknowledgment ?? 0) > 1
            }
            let answer = rst.map { "answered by \(Observation.describe($0))" + (Evidence.resetText(s.record, $0).map { " (\($0))" } ?? "") } ?? ack.map { "acknowledged by \(Observation.describe($0)), no RST" } ?? "neither acknowledged nor reset"
            return ("\(Observation.describe(w)) → \(answer)", rst, ack)
        }
        let lateSh = lateAnswer(sh), lateCl = lateAnswer(cl)
        let serverReadAfter = Evidence.calls(o, sh.record, .resp, "read(").dropFirst().first

        let unread = found.connections[.shutdownUnread] ?? Connection()
        let inqBefore = unread.inqBefore, inqAfter = unread.inqAfter
        let shuClose = shu.close.flatMap { c in
            Evidence.packets(o, shu.record, from: .orig, after: c.time).first { !$0.flags.intersection([.fin, .rst]).isEmpty }
        }
        let shuCloseText = shu.close.map { c in
            "later close() → " + (shuClose.map { Evidence.withReset(Evidence.describe($0, after: c), shu.record, $0.flags.contains(.rst) ? $0 : nil) } ?? "no FIN or RST")
        } ?? "no close()"
        // With the kernel lane: a reset of the later close() for unread data (TCP_ABORT_ON_CLOSE)
        // says the bytes were still in the receive queue then, whatever SIOCINQ said.
        let stillQueued = Evidence.hasLane(shu.record) && Evidence.reason(shuClose)?.name == "TCP_ABORT_ON_CLOSE"

        return [
            ClaimResult(claims[0], holdsIf: finSoon(sh) && finSoon(cl),
                        "no unread data: \(ShutdownBoth.what(sh)); \(ShutdownBoth.what(cl))"),
            ClaimResult(claims[1], holdsIf: validOK,
                        "after shutdown(SHUT_RDWR): " + [read, write, sh.close].compactMap { $0.map(Observation.describe) }.joined(separator: ", ")),
            ClaimResult(claims[2], holdsIf: lateSh.rst == nil && lateSh.ack != nil && lateCl.rst != nil,
                        "after shutdown(SHUT_RDWR): \(lateSh.text)"
                        + (serverReadAfter.map { " (then " + Observation.describe($0) + ")" } ?? "")
                        + "; after close(): \(lateCl.text)"),
            ClaimResult(claims[3], holdsIf: isRST(clu.first) && (shu.first.map { $0.flags.contains(.fin) && !$0.flags.contains(.rst) } ?? false)
                            && Evidence.reasonIs(clu.record, clu.first, ["TCP_ABORT_ON_CLOSE"]),
                        "with \(ShutdownBoth.pending) bytes unread: \(ShutdownBoth.what(shu)); "
                        + Evidence.withReset(ShutdownBoth.what(clu), clu.record, isRST(clu.first) ? clu.first : nil)),
            ClaimResult(claims[4], holdsIf: inqBefore > 0 && inqAfter == 0 && !stillQueued,
                        "SIOCINQ \(inqBefore) before shutdown(SHUT_RDWR), \(inqAfter) after; \(shuCloseText); teardown \(shu.record.teardown.name)"
                        + (stillQueued ? "; so the bytes stayed in the receive queue until close() threw them away" : "")),
        ]
    }
}
