import TeardownKernel
import TeardownWire

/// A kernel event placed on a connection: the side whose socket it is about. Its time is on the
/// packet clock; its 4-tuple is the socket's (taken from the socket's other events when the
/// event's own was not yet filled in, as for the SYN-SENT of connect(), traced before the
/// local port is chosen).
public struct KernelRow: Sendable, Hashable {
    public var side: Side
    public var event: KernelEvent
    public init(side: Side, event: KernelEvent) { self.side = side; self.event = event }
}

/// What the kernel lane says about one RST segment of the capture.
public enum KernelResetAccount: Sendable, Hashable {
    /// A tcp_send_reset of this host accounts for it, with the kernel's reason (nil before Linux
    /// 6.10, whose tracepoint gives none).
    case sent(RSTReason?)
    /// Its sender's end is a socket of this host the kernel traced, yet no tcp_send_reset of
    /// this host accounts for it: something else sent it (a middlebox, a firewall, an injected
    /// reset).
    case notSentHere
}

/// The kernel's events of one recording, on the packet clock, and what they can vouch for.
public struct KernelLane: Sendable, Hashable {
    public var events: [KernelEvent]
    /// tcp_send_reset was recorded with the layout of Linux 6.10 and later, which traces every
    /// RST the host sends, also those answering a segment for which no socket exists (older
    /// kernels traced only RSTs of full sockets). Only then is an RST that no local reset
    /// accounts for said not to be this host's.
    public var tracesEveryReset: Bool

    public init(events: [KernelEvent], tracesEveryReset: Bool) {
        self.events = events; self.tracesEveryReset = tracesEveryReset
    }
}

/// Joins the kernel's events to the connections of a capture: by 4-tuple, and by socket address
/// (`skaddr`) across the events of one socket's life.
public enum KernelJoin {
    /// How far apart an RST on the wire and the tcp_send_reset that sent it may be: the tap sees
    /// the segment a few microseconds after the tracepoint fires; 50 ms leaves room for a loaded
    /// machine without pairing unrelated resets (each is used once, the nearest first).
    public static let resetTolerance: Int64 = 50_000_000
    /// A socket's first events (connect()'s SYN-SENT) precede its first packet: an event this
    /// close before a connection's start belongs to it rather than to the one before.
    public static let startSlack: Int64 = 10_000_000

    /// A 4-tuple as a socket sees it: its own end, then its peer's.
    struct Tuple: Hashable { var local: Endpoint; var remote: Endpoint }

    static func complete(_ e: Endpoint?) -> Bool {
        guard let e else { return false }
        return e.port != 0 && (e.address.high != 0 || e.address.low != 0)
    }

    /// Each event with the 4-tuple of its socket: its own when complete, else the one another
    /// event of the same socket life gives (a life ends at the socket's change to CLOSE, after
    /// which its address may be reused). Events keep their order.
    public static func resolved(_ events: [KernelEvent]) -> [KernelEvent] {
        var out = events
        var lives: [UInt64: (head: Int, closed: Bool)] = [:]   // socket -> first index of its current life
        var lifeTuple: [Int: (Endpoint, Endpoint)] = [:]   // first index of a life -> its tuple
        var lifeOf = [Int](repeating: -1, count: events.count)
        let order = events.indices.sorted { (events[$0].time, $0) < (events[$1].time, $1) }
        for i in order {
            let e = events[i]
            guard let s = e.socket, s != 0 else { continue }
            var isStateChange = false
            var closes = false
            if case .stateChange(_, let to, _) = e.kind { isStateChange = true; closes = to == .close }
            // A closed socket's RST (tcp_send_active_reset runs after the change to CLOSE) is
            // still its own; only a state change starts a new life at the address.
            var life = lives[s] ?? (i, false)
            if life.closed && isStateChange { life = (i, false) }
            lifeOf[i] = life.head
            if lifeTuple[life.head] == nil, complete(e.source), complete(e.destination) {
                lifeTuple[life.head] = (e.source!, e.destination!)
            }
            if closes { life.closed = true }
            lives[s] = life
        }
        for i in out.indices where lifeOf[i] >= 0 && !(complete(out[i].source) && complete(out[i].destination)) {
            if let (src, dst) = lifeTuple[lifeOf[i]] { out[i].source = src; out[i].destination = dst }
        }
        return out
    }

    /// Where each record can be found by a socket's 4-tuple, and as which side.
    static func index(_ records: [ConnectionRecord]) -> [Tuple: [(record: Int, side: Side)]] {
        var byTuple: [Tuple: [(record: Int, side: Side)]] = [:]
        for (i, r) in records.enumerated() where r.tunnel == nil && r.tunnelRoutes == .none {
            byTuple[Tuple(local: r.orig.endpoint, remote: r.resp.endpoint), default: []].append((i, .orig))
            byTuple[Tuple(local: r.resp.endpoint, remote: r.orig.endpoint), default: []].append((i, .resp))
        }
        return byTuple
    }

    /// The events (4-tuples resolved) of sockets whose 4-tuple is a connection of `records`; the
    /// rest are other sockets' (other programs, other namespaces) and out of the capture's scope.
    public static func relevant(_ events: [KernelEvent], to records: [ConnectionRecord]) -> [KernelEvent] {
        let byTuple = index(records)
        let ends = Set(byTuple.keys.map(\.local))
        return resolved(events).filter { e in
            if isListenerReset(e) { return ends.contains(e.source!) }
            guard let s = e.source, let d = e.destination else { return false }
            return byTuple[Tuple(local: s, remote: d)] != nil
        }
    }

    /// A tcp_send_reset traced on a listening socket: the reset of a connection not yet accepted
    /// (tcp_check_req's embryonic reset: the accept queue full with tcp_abort_on_overflow=1, or
    /// a bad segment for a request socket). The tracepoint then gives the listener's own
    /// address and no peer (0.0.0.0:0), so it is placed by its local end and time alone.
    static func isListenerReset(_ e: KernelEvent) -> Bool {
        guard case .sendReset(let state, _) = e.kind, complete(e.source), !complete(e.destination) else { return false }
        return state == .listen || state == nil
    }

    /// `records` with the kernel's view: each connection's events (`kernelEvents`, and as rows
    /// of its timeline), and on each RST what the kernel says of it (`kernelReset` and a note).
    /// An event goes to the last connection on its 4-tuple that had begun by its time (less
    /// `startSlack`), or the first when none had.
    public static func attach(_ lane: KernelLane, to records: [ConnectionRecord]) -> [ConnectionRecord] {
        var out = records
        for i in out.indices { out[i].kernelEvents = [] }
        let byTuple = index(records)
        var resets: [(record: Int, event: KernelEvent, used: Bool)] = []
        var localEnds = Set<Endpoint>()
        var listenerResets: [(event: KernelEvent, used: Bool)] = []
        for e in relevant(lane.events, to: records) {
            if isListenerReset(e) {
                listenerResets.append((e, false))
                localEnds.insert(e.source!)
                continue
            }
            guard let s = e.source, let d = e.destination, let candidates = byTuple[Tuple(local: s, remote: d)] else { continue }
            localEnds.insert(s)
            var chosen = candidates[0]
            for c in candidates where records[c.record].start.nanoseconds &- startSlack <= e.time.nanoseconds { chosen = c }
            out[chosen.record].kernelEvents!.append(KernelRow(side: chosen.side, event: e))
            if case .sendReset = e.kind { resets.append((chosen.record, e, false)) }
        }
        for i in out.indices {
            let rows = out[i].kernelEvents!.sorted { $0.event.time < $1.event.time }
            out[i].kernelEvents = rows
            if out[i].diagnoses.contains(where: { $0.code == .retransmissionGiveUp }) { out[i].diagnoses = Diagnosis.withKernelStates(out[i]) }
            guard !out[i].events.isEmpty || out[i].orig.rst + out[i].resp.rst > 0 else { continue }
            // Each RST segment: the nearest unused reset of the same sender and receiver.
            for (j, event) in out[i].events.enumerated() {
                guard case .packet(var p) = event, p.flags.contains(.rst) else { continue }
                let (from, to) = p.from == .orig ? (out[i].orig.endpoint, out[i].resp.endpoint) : (out[i].resp.endpoint, out[i].orig.endpoint)
                var best: (index: Int, distance: Int64)?
                for (k, r) in resets.enumerated() where !r.used && r.record == i && r.event.source == from && r.event.destination == to {
                    let d = p.time.nanoseconds &- r.event.time.nanoseconds
                    let distance = d < 0 ? 0 &- d : d
                    if distance <= resetTolerance, best == nil || distance < best!.distance { best = (k, distance) }
                }
                // Else a listener's reset from the same end (its peer is not traced), the nearest unused.
                var fromListener: (index: Int, distance: Int64)?
                if best == nil {
                    for (k, r) in listenerResets.enumerated() where !r.used && r.event.source == from {
                        let d = p.time.nanoseconds &- r.event.time.nanoseconds
                        let distance = d < 0 ? 0 &- d : d
                        if distance <= resetTolerance, fromListener == nil || distance < fromListener!.distance { fromListener = (k, distance) }
                    }
                }
                if let (k, _) = best {
                    resets[k].used = true
                    guard case .sendReset(_, let reason) = resets[k].event.kind else { continue }
                    p.kernelReset = .sent(reason)
                    p.notes.append(.kernelReset(reason))
                } else if let (k, _) = fromListener {
                    listenerResets[k].used = true
                    guard case .sendReset(_, let reason) = listenerResets[k].event.kind else { continue }
                    p.kernelReset = .sent(reason)
                    p.notes.append(.kernelReset(reason))
                } else if lane.tracesEveryReset, localEnds.contains(from) {
                    p.kernelReset = .notSentHere
                    p.notes.append(.rstNotFromThisHost)
                } else {
                    continue
                }
                out[i].events[j] = .packet(p)
            }
            // The kernel's word on the RST that ended the connection is evidence for its diagnoses,
            // found from the record itself so that every output mode (rows kept or not) agrees.
            if let rst = out[i].rst {
                let (from, to) = rst.from == .orig ? (out[i].orig.endpoint, out[i].resp.endpoint) : (out[i].resp.endpoint, out[i].orig.endpoint)
                var account: KernelResetAccount?
                func nearest(_ events: [KernelEvent]) -> KernelEvent? {
                    var best: (event: KernelEvent, distance: Int64)?
                    for e in events {
                        let d = rst.time.nanoseconds &- e.time.nanoseconds
                        let distance = d < 0 ? 0 &- d : d
                        if distance <= resetTolerance, best == nil || distance < best!.distance { best = (e, distance) }
                    }
                    return best?.event
                }
                let own = resets.filter { $0.record == i && $0.event.source == from && $0.event.destination == to }.map(\.event)
                if let e = nearest(own) ?? nearest(listenerResets.map(\.event).filter { $0.source == from }),
                   case .sendReset(_, let reason) = e.kind {
                    account = .sent(reason)
                } else if lane.tracesEveryReset, localEnds.contains(from) {
                    account = .notSentHere
                }
                if let account { out[i].diagnoses = Diagnosis.withKernel(out[i], rstAccount: account) }
            }
            if !out[i].events.isEmpty {
                let checks = KernelOracle.check(out[i], rows)
                out[i].kernelStates = checks
                for side in Side.allCases {
                    if let c = checks[side], !c.agrees {
                        out[i].notes.append(.kernelStatesDiffer(side, kernelOnly: c.kernelOnly, inferredOnly: c.inferredOnly))
                    }
                }
            }
            if !out[i].events.isEmpty, !rows.isEmpty { out[i].events = merge(out[i].events, rows) }
        }
        return out
    }

    /// `rows` placed among `events` by time, each before the first row that is not earlier.
    static func merge(_ events: [TimelineEvent], _ rows: [KernelRow]) -> [TimelineEvent] {
        var out: [TimelineEvent] = []
        out.reserveCapacity(events.count + rows.count)
        var j = 0
        for event in events {
            while j < rows.count && rows[j].event.time <= event.time { out.append(.kernel(rows[j])); j += 1 }
            out.append(event)
        }
        out.append(contentsOf: rows[j...].map { .kernel($0) })
        return out
    }
}
