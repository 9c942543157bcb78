import TeardownKernel
import TeardownWire

/// The kernel's events of a live capture, held until the connections they belong to are
/// printed. Events come in as they are read (`add`), each with the 4-tuple of its socket
/// (`KernelJoin.resolved`: connect()'s SYN-SENT waits here until another event of its socket
/// names the tuple); a connection about to be printed takes the events of its 4-tuple
/// (`take`), and what no connection of the capture can claim is forgotten (`prune`): the
/// tracepoints see every socket of the machine, in every namespace.
///
/// Memory is bounded by the events of connections held by the tracker plus those of the last
/// `prune` horizon.
public struct PendingKernelEvents {
    /// Events with their 4-tuple, by the socket's own end and its peer's.
    var byTuple: [KernelJoin.Tuple: [KernelEvent]] = [:]
    /// Events of a socket whose 4-tuple is not known yet (a listener's never is).
    var waiting: [KernelEvent] = []

    public init() {}

    /// Events held.
    public var count: Int { byTuple.values.reduce(waiting.count) { $0 + $1.count } }

    /// Adds events read from the kernel (on the packet clock).
    public mutating func add(_ events: [KernelEvent]) {
        guard !events.isEmpty else { return }
        let all = KernelJoin.resolved(waiting + events)
        waiting = []
        for e in all {
            if KernelJoin.complete(e.source), KernelJoin.complete(e.destination) {
                byTuple[KernelJoin.Tuple(local: e.source!, remote: e.destination!), default: []].append(e)
            } else if let socket = e.socket, socket != 0 {
                waiting.append(e)
            }
            // Without a socket (inet_sk_error_report, or a reset sent for none) nothing can
            // name the 4-tuple the event lacks: `KernelJoin.relevant` leaves it out as well.
        }
    }

    /// Takes the events of the sockets of the connection between `a` and `b` (either end),
    /// except those at or after `cutoff` (nanoseconds, packet clock): when a newer connection
    /// on the same 4-tuple has begun, its events are its own (`KernelJoin.attach` gives an event
    /// to the last connection begun by its time, less `KernelJoin.startSlack`).
    public mutating func take(between a: Endpoint, _ b: Endpoint, before cutoff: Int64 = .max) -> [KernelEvent] {
        var out: [KernelEvent] = []
        for key in [KernelJoin.Tuple(local: a, remote: b), KernelJoin.Tuple(local: b, remote: a)] {
            guard let list = byTuple[key] else { continue }
            let kept = list.filter { $0.time.nanoseconds >= cutoff }
            out += list.filter { $0.time.nanoseconds < cutoff }
            byTuple[key] = kept.isEmpty ? nil : kept
        }
        return out
    }

    /// Forgets the events before `horizon` (nanoseconds, packet clock) of 4-tuples on which
    /// `held` says no connection is held (other programs' sockets, other namespaces', or
    /// events that came after their connection was printed), and those whose 4-tuple never
    /// became known.
    public mutating func prune(before horizon: Int64, held: (Endpoint, Endpoint) -> Bool) {
        waiting.removeAll { $0.time.nanoseconds < horizon }
        for (key, list) in byTuple where !held(key.local, key.remote) {
            let kept = list.filter { $0.time.nanoseconds >= horizon }
            byTuple[key] = kept.isEmpty ? nil : kept
        }
    }
}
