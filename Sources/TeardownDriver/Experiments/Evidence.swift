import Foundation
import TeardownModel
import TeardownRender
import TeardownWire

/// What the experiments' judges share to turn what was observed into evidence text: calls made
/// on one connection, packets sent after a call, the byte ledger, the kernel's sockets.
enum Evidence {
    /// Calls made on `side`'s socket of `r` whose text starts with `prefix`, in time order.
    static func calls(_ o: Observation, _ r: ConnectionRecord, _ side: Side, _ prefix: String) -> [RecordedCall] {
        let me = r.side(side).endpoint, peer = r.side(side.other).endpoint
        return o.calls.filter { $0.local == me && $0.remote == peer && $0.call.hasPrefix(prefix) }
    }

    /// Calls made on the connection whose client port is `clientPort` (by either side or a child).
    static func calls(_ o: Observation, onClientPort clientPort: UInt16) -> [RecordedCall] {
        o.calls.filter { $0.local?.port == clientPort || $0.remote?.port == clientPort }
    }

    /// Packets from `side` carrying all of `flags`, sent at or after `time` (and before `before`).
    static func packets(_ o: Observation, _ r: ConnectionRecord, from side: Side, with flags: TCPFlags = [],
                        after time: Timestamp, before: Timestamp? = nil) -> [PacketEvent] {
        o.packets(r).filter { p in
            p.from == side && p.flags.isSuperset(of: flags) && p.time >= time && (before.map { p.time < $0 } ?? true)
        }
    }

    /// "packet 9 [F.] 0.041 ms after close() began".
    static func describe(_ p: PacketEvent, after c: RecordedCall) -> String {
        "\(Observation.describe(p)) \(Observation.ms(p.time.nanoseconds - c.time.nanoseconds)) after \(c.call) began"
    }

    /// The call with its result and duration: "client close() = 0 (took 1000 ms)".
    static func describeTimed(_ c: RecordedCall) -> String {
        "\(Observation.describe(c)) (took \(Observation.ms(c.durationNanoseconds)))"
    }

    /// The call and its result, without the actor: "write(5) = -1 EPIPE".
    static func result(_ c: RecordedCall?) -> String {
        guard let c else { return "no such call" }
        return "\(c.call) = \(c.result)" + (c.errno.map { " " + $0 } ?? "")
    }

    /// Milliseconds from `a` to `b` as text ("1.234 ms").
    static func after(_ a: Timestamp, _ b: Timestamp) -> String {
        Observation.ms(b.nanoseconds - a.nanoseconds)
    }

    /// When `c` returned.
    static func end(_ c: RecordedCall) -> Timestamp { Timestamp(nanoseconds: c.time.nanoseconds + c.durationNanoseconds) }

    /// "written 30,000 → sent 30,000 → acknowledged 30,000 → read 30,000; lost 0".
    static func ledger(_ l: DirectionLedger) -> String {
        func n(_ v: UInt64?) -> String { v.map { Format.thousands($0) } ?? "?" }
        var s = "written \(n(l.written)) → sent \(n(l.sent)) → acknowledged \(n(l.acked)) → read \(n(l.readByPeer)); lost \(n(l.lost))"
        if let lost = l.lost, lost > 0 {
            s += " (never sent \(n(l.neverSent)), sent but unacknowledged \(n(l.unacked)), acknowledged but unread \(n(l.unread)))"
        }
        let problems = l.problems
        if !problems.isEmpty { s += "; LEDGER DOES NOT ADD UP: " + LedgerProblem.text(problems) }
        return s
    }

    /// The kernel's sockets as evidence text, or `none` when it lists none.
    static func kernel(_ list: [KernelSocket], none: String = "kernel lists no socket") -> String {
        list.isEmpty ? none : "kernel: " + list.map(\.description).joined(separator: "; ")
    }

    /// Every claim inconclusive, for `why`.
    static func inconclusive(_ claims: [Claim], _ why: String) -> [ClaimResult] {
        claims.map { ClaimResult($0, .inconclusive, why) }
    }
}
