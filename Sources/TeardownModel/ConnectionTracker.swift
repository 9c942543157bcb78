import TeardownSpeed
import TeardownWire

/// The connection table: routes each segment to its connection, reports a connection once its
/// ending is complete, and forgets it.
///
/// Memory is bounded by the connections open at once (plus those lingering after their ending,
/// see `Configuration.linger`), never by the length of the capture.
public struct ConnectionTracker {
    public struct Configuration: Sendable {
        /// Keep timeline rows and notes (off for `--summary` and `--no-events`: faster).
        public var recordEvents: Bool
        /// Keep connection notes (cheap; on unless only counting).
        public var recordNotes: Bool
        /// With `recordEvents`, only connections whose index is at most this keep their rows
        /// (the HTML report draws the ladders of the first ones only; `--format svg` draws one).
        public var recordEventsUpToIndex = Int.max
        /// How long (in packet time) a finished connection waits for stragglers (a last ACK,
        /// an RST in TIME-WAIT, data still in flight after an RST) before it is reported.
        public var linger: Int64
        /// A connection with no packet for this long (packet time) is reported and forgotten
        /// (Zeek's tcp_inactivity_timeout is 5 minutes too).
        public var idleTimeout: Int64
        /// A connection that is only its originator's SYNs, never answered, is reported after this
        /// long without a packet (packet time). 130 s outlasts Linux's whole SYN retry schedule
        /// (tcp_syn_retries = 6: 1 + 2 + … + 64 = 127 s, tcp(7)), after which the client has given
        /// up; holding such attempts for the full idle timeout made memory follow the capture's
        /// length (a scan or a dead server leaves thousands of them).
        public var unansweredTimeout: Int64
        /// At most this many connections are held; beyond it the least recently active are
        /// evicted (reported with a note), so SYN floods and scans cannot exhaust memory.
        public var maxConnections: Int
        /// The seed of the flow table's hash. It decides nothing that is reported (connections
        /// are reported in order of first packet whatever the seed), only where flows sit in the
        /// table. Readers of untrusted input pass a random one, so that no capture can be made in
        /// advance whose flows all collide; tests pass a fixed one (the default).
        public var hashSeed: UInt64
        public init(recordEvents: Bool = true, recordNotes: Bool = true, lingerNanoseconds: Int64 = 2_000_000_000,
                    idleTimeoutNanoseconds: Int64 = 300_000_000_000, maxConnections: Int = 500_000,
                    unansweredTimeoutNanoseconds: Int64 = 130_000_000_000, hashSeed: UInt64 = 0x7EA2_D0E5_EED5_0001) {
            self.recordEvents = recordEvents
            self.recordNotes = recordNotes
            self.linger = lingerNanoseconds
            self.idleTimeout = idleTimeoutNanoseconds
            self.unansweredTimeout = min(unansweredTimeoutNanoseconds, idleTimeoutNanoseconds)
            self.maxConnections = max(1, maxConnections)
            self.hashSeed = hashSeed
        }
    }

    public let configuration: Configuration
    /// Connections live in `slots` and are changed in place there; `table` maps a flow to its
    /// slot. A reported connection's slot is reused for a later one, so the slots grow only to
    /// the peak number of connections held at once.
    /// Invariant: every slot `table` names holds a connection.
    /// `table`'s iteration order depends on its hash seed: everything that reports while
    /// walking it collects first and sorts by connection index.
    @usableFromInline package private(set) var table: FlowTable<FlowKey, Int>
    @usableFromInline package var slots = SlotArray<Connection>()
    private var freeSlots: [Int] = []
    /// Finished connections waiting out their linger time, oldest first.
    @usableFromInline package var finished = LookaheadQueue<Lingering>()

    /// A finished connection waiting out its linger time: where it is (its flow's hash and its
    /// slot, to check it is still there and report it without hashing again) and when it finished.
    @usableFromInline
    package struct Lingering: SlotReference {
        let key: FlowKey
        @usableFromInline package let hash: UInt64
        @usableFromInline package let slot: Int
        let index: Int
        let at: Int64
    }
    private var nextIndex = 1
    /// When each host, and each responder's service, was last heard on a connection the tracker
    /// let go of: the evidence that a FIN receiver silent at the end of the input is alive
    /// (close-wait-leak).
    private var heard: HostsHeard
    public private(set) var segmentsProcessed = 0
    /// The largest number of connections held at once.
    public private(set) var peakOpenConnections = 0
    /// Connections reported because they were idle longer than `idleTimeout`.
    public private(set) var idleExpired = 0
    /// Connections evicted because the table was full.
    public private(set) var evicted = 0
    /// Packet time of the last idle sweep.
    private var lastSweep: Int64?
    /// Idle sweeps run every tenth of the idle timeout (packet time), at least every second:
    /// a connection is reported at most 10% late, and a sweep (a walk over the table) stays rare.
    private var sweepInterval: Int64 { max(1_000_000_000, configuration.idleTimeout / 10) }

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        table = FlowTable(seed: configuration.hashSeed)
        heard = HostsHeard(seed: configuration.hashSeed)
    }

    /// Connections currently held (open or lingering).
    public var openConnections: Int { table.count }

    /// Connections held whose ending is not complete (not those waiting out their linger).
    public var unfinishedConnections: Int { table.reduce(0) { $0 + (slots[$1.value].facts.isFinished ? 0 : 1) } }

    /// When the connection held between `a` and `b` (outside any tunnel) began, if one is held.
    public func startOfConnection(between a: Endpoint, _ b: Endpoint) -> Timestamp? {
        table[FlowKey(a, b)].map { slots[$0].start }
    }

    /// The hash function of this tracker's table, for a reading stage that fills in
    /// `DecodedPacket.flow` ahead of `process(_:emit:)`.
    public var flowHasher: FlowHasher { FlowHasher(table.hasher) }

    /// Feeds a batch of packets, in order; packets that are not TCP segments are skipped.
    /// `flow` of every TCP packet must come from this tracker's `flowHasher`.
    /// Connections whose reporting time has come are passed to `emit`, not yet made into
    /// records (`FinishedConnection.record()`): replay makes them on its printing thread.
    ///
    /// The same as `process(_:time:packetNumber:emit:)` on each segment, with the flows found
    /// already (on the reading thread, in replay).
    public mutating func process(_ batch: PacketBatch, emit: (consuming FinishedConnection) -> Void) {
        batch.walk(tracking: &self) { tracker, p in
            tracker.process(p.segment, flow: p.flow, time: p.time, packetNumber: p.number, emit: emit)
        }
    }

    /// Feeds one segment. Connections whose reporting time has come are passed to `emit`.
    public mutating func process(_ seg: TCPSegment, time: Timestamp, packetNumber: Int, emit: (ConnectionRecord) -> Void) {
        process(seg, flow: flowHasher.flow(of: seg), time: time, packetNumber: packetNumber, emit: { emit($0.record()) })
    }

    @inline(__always)
    private mutating func process(_ seg: TCPSegment, flow: FlowHash, time: Timestamp, packetNumber: Int,
                                  emit: (consuming FinishedConnection) -> Void) {
        segmentsProcessed += 1
        if let oldest = finished.first, time.nanoseconds &- oldest.at > configuration.linger {
            expire(before: time.nanoseconds, emitFinished: emit)
        }
        if let last = lastSweep {
            if time.nanoseconds &- last >= sweepInterval { sweepIdle(now: time.nanoseconds, emit: emit) }
        } else {
            lastSweep = time.nanoseconds
        }
        let key = FlowKey(seg, flow)
        guard let slot = table[key, hash: flow.value] else {
            start(seg, key: key, hash: flow.value, time: time, packetNumber: packetNumber, emit: emit)
            return
        }
        switch slots[slot].process(seg, time: time, packetNumber: packetNumber) {
        case .applied:
            break
        case .finished:
            finished.append(Lingering(key: key, hash: flow.value, slot: slot, index: slots[slot].index, at: time.nanoseconds))
        case .newIncarnation(let why):
            let previous = slots[slot].index
            report(key, emit: emit)
            start(seg, key: key, hash: flow.value, time: time, packetNumber: packetNumber,
                  follows: .tupleReused(previous: previous, why), emit: emit)
        }
    }

    /// Removes a connection from the table and reports it. The connection stays in its freed
    /// slot until a new one overwrites it.
    private mutating func report(_ key: FlowKey, reason: Note? = nil, emit: (consuming FinishedConnection) -> Void) {
        report(key, hash: table.hash(key), reason: reason, emit: emit)
    }

    /// `report(_:reason:emit:)` for a key whose hash `h` is known.
    private mutating func report(_ key: FlowKey, hash h: UInt64, reason: Note? = nil,
                                 emit: (consuming FinishedConnection) -> Void) {
        guard let slot = table.removeValue(forKey: key, hash: h) else { return }
        freeSlots.append(slot)
        if let reason { slots[slot].forgottenReason = reason }
        heard.note(orig: slots[slot].orig.endpoint, resp: slots[slot].resp.endpoint, last: slots[slot].end.nanoseconds)
        emit(FinishedConnection(connection: slots[slot], recordNotes: configuration.recordNotes))
    }

    private mutating func start(_ seg: TCPSegment, key: FlowKey, hash: UInt64, time: Timestamp, packetNumber: Int,
                                follows: Note? = nil, emit: (consuming FinishedConnection) -> Void) {
        // The originator is the SYN sender; otherwise Zeek's port heuristic decides (see ZeekRoles).
        // A SYN-ACK's sender is the responder whatever its ports (it answered a SYN); Zeek's
        // view flips it only by the ports, and later (ZeekTCPState).
        let zeekFlip = ZeekRoles.shouldFlip(firstSegmentFlags: seg.flags, sourcePort: seg.source.port,
                                            destinationPort: seg.destination.port)
        let flip = zeekFlip || seg.flags.isSuperset(of: [.syn, .ack])
        let orig = flip ? seg.destination : seg.source
        let resp = flip ? seg.source : seg.destination
        let index = nextIndex
        nextIndex += 1
        let c = Connection(index: index, orig: orig, resp: resp, time: time, packetNumber: packetNumber,
                           recordEvents: configuration.recordEvents && index <= configuration.recordEventsUpToIndex, rolesFlipped: flip, zeekRolesFlipped: zeekFlip,
                           follows: follows)
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            slots[slot] = consume c
        } else {
            slot = slots.append(consume c)
        }
        if slots[slot].process(seg, from: flip ? .resp : .orig, time: time, packetNumber: packetNumber) {
            finished.append(Lingering(key: key, hash: hash, slot: slot, index: index, at: time.nanoseconds))
        }
        table.updateValue(slot, forKey: key, hash: hash)
        if table.count > peakOpenConnections { peakOpenConnections = table.count }
        if table.count > configuration.maxConnections { evictLeastRecent(emit: emit) }
    }

    /// Reports connections idle for longer than `idleTimeout` (unanswered SYNs: longer than
    /// `unansweredTimeout`), in order of first packet.
    private mutating func sweepIdle(now: Int64, emit: (consuming FinishedConnection) -> Void) {
        lastSweep = now
        let cutoff = now &- configuration.idleTimeout
        let unansweredCutoff = now &- configuration.unansweredTimeout
        var stale: [(key: FlowKey, index: Int, unanswered: Bool)] = []
        for (key, slot) in table {
            let c = slots[slot].end.nanoseconds
            if c < cutoff {
                stale.append((key, slots[slot].index, false))
            } else if c < unansweredCutoff && slots[slot].isUnansweredAttempt {
                stale.append((key, slots[slot].index, true))
            }
        }
        guard !stale.isEmpty else { return }
        stale.sort { $0.index < $1.index }
        let idle = Note.idleTimeout(seconds: configuration.idleTimeout / 1_000_000_000)
        let unanswered = Note.unansweredTimeout(seconds: configuration.unansweredTimeout / 1_000_000_000)
        for v in stale {
            idleExpired += 1
            report(v.key, reason: v.unanswered ? unanswered : idle, emit: emit)
        }
    }

    /// The table is over its cap: evicts the least recently active 1% (at least one), so the
    /// sort is paid once per hundred insertions, not on every one.
    private mutating func evictLeastRecent(emit: (consuming FinishedConnection) -> Void) {
        let n = max(1, table.count / 100)
        // Connections whose ending is complete go first: they were only waiting for stragglers,
        // so they are reported early, as finished, not as evicted. Then the least recently active.
        var ages: [(open: Bool, at: Int64, index: Int, key: FlowKey)] = []
        ages.reserveCapacity(table.count)
        for (key, slot) in table {
            ages.append((!slots[slot].facts.isFinished, slots[slot].end.nanoseconds, slots[slot].index, key))
        }
        ages.sort { (!$0.open ? 0 : 1, $0.at, $0.index) < (!$1.open ? 0 : 1, $1.at, $1.index) }
        let reason = Note.evicted(limit: configuration.maxConnections)
        for victim in ages.prefix(n) {
            if victim.open {
                evicted += 1
                report(victim.key, reason: reason, emit: emit)
            } else {
                report(victim.key, emit: emit)
            }
        }
    }

    /// Reports finished connections whose linger time ended before `now` (packet time).
    public mutating func expire(before now: Int64, emit: (ConnectionRecord) -> Void) {
        expire(before: now, emitFinished: { emit($0.record()) })
    }

    private mutating func expire(before now: Int64, emitFinished emit: (consuming FinishedConnection) -> Void) {
        while let f = finished.first, now &- f.at > configuration.linger {
            finished.removeFirst()
            // Still this connection (not reported since, by a new incarnation or eviction, and
            // its slot not taken by another)?
            if slots[f.slot].index == f.index, table[f.key, hash: f.hash] == f.slot {
                report(f.key, hash: f.hash, emit: emit)
            }
        }
    }

    /// End of input: reports every connection still held, in order of first packet.
    public mutating func finish(emit: (ConnectionRecord) -> Void) {
        finishHandingOver { emit($0.record()) }
    }

    /// `finish(emit:)`, handing over the connections before they are made into records (as
    /// `process(_:emit:)` over a batch does).
    public mutating func finishHandingOver(_ emit: (consuming FinishedConnection) -> Void) {
        var held = table.map { (slot: $0.value, index: slots[$0.value].index) }
        held.sort { $0.index < $1.index }
        // The input's last packet belongs to a connection still held (a later packet is what
        // expires a lingering one), so the latest end among them is the input's end.
        var inputEnd: Int64?
        for h in held where inputEnd.map({ slots[h.slot].end.nanoseconds > $0 }) ?? true {
            inputEnd = slots[h.slot].end.nanoseconds
        }
        for h in held { heard.note(orig: slots[h.slot].orig.endpoint, resp: slots[h.slot].resp.endpoint, last: slots[h.slot].end.nanoseconds) }
        for h in held {
            var f = FinishedConnection(connection: slots[h.slot], recordNotes: configuration.recordNotes)
            f.inputEnd = inputEnd
            f.heard = heard.of(orig: slots[h.slot].orig.endpoint, resp: slots[h.slot].resp.endpoint)
            emit(f)
        }
        table.removeAll()
        slots = SlotArray()
        freeSlots.removeAll()
        finished.removeAll()
    }
}

/// A connection the tracker is done with, not yet made into its record. `record()` makes it;
/// replay calls it on its printing thread, so that building records (classification, byte
/// ledgers, notes, the history string) is not done on the tracking thread.
///
/// It holds a copy of the connection: the tracker never changes that connection again (its
/// slot is freed, and a new connection overwrites it whole), so the copy, and the event log
/// the two share, can be read on another thread.
public struct FinishedConnection: @unchecked Sendable {
    let connection: Connection
    let recordNotes: Bool
    /// The time of the input's last packet, for a connection reported at the end of the input
    /// (nil: reported before it).
    var inputEnd: Int64?
    /// For a connection reported at the end of the input: when its originator's host and its
    /// responder's service were last heard on any connection (`HostsHeard`).
    var heard: (orig: Int64?, resp: Int64?) = (nil, nil)

    /// The connection's number (order of first packet).
    public var index: Int { connection.index }

    /// The connection's record, as the renderers print it.
    public func record() -> ConnectionRecord { connection.makeRecord(recordNotes: recordNotes, inputEnd: inputEnd, heard: heard) }
}

/// When hosts were last heard: each address on any connection, and each responder's endpoint
/// (its service), by the last packet of the connections the tracker has let go of. Read at the
/// end of the input, for a FIN receiver silent until then: a silence that the capture's end
/// merely cut off says less than one kept while the same host (or service) went on talking.
/// Kept in a `FlowTable` (a seeded multiply-mix hash, a third of `Dictionary`'s cost: this runs
/// for every connection). Bounded: past `limit` keys it starts again (the rule then says less,
/// never more).
struct HostsHeard {
    /// An address (port 0) or a responder's endpoint.
    struct Key: FlowTableKey {
        var high: UInt64, low: UInt64, port: UInt32
        init(_ a: IPAddress, port: UInt16?) {
            high = a.high; low = a.low
            self.port = port.map { UInt32($0) | 1 << 16 } ?? 0
        }
        func hash(seed: UInt64) -> UInt64 { SeededHasher.mix(low, high, 0, 0, small: UInt64(port), seed: seed) }
    }

    static let limit = 1 << 18
    private var heard: FlowTable<Key, Int64>

    init(seed: UInt64) { heard = FlowTable(seed: seed) }

    /// A connection between `orig` and `resp` whose last packet came at `t`.
    mutating func note(orig: Endpoint, resp: Endpoint, last t: Int64) {
        if heard.count >= HostsHeard.limit { heard.removeAll() }
        bump(Key(orig.address, port: nil), t)
        bump(Key(resp.address, port: nil), t)
        bump(Key(resp.address, port: resp.port), t)
    }

    private mutating func bump(_ key: Key, _ t: Int64) {
        let h = heard.hash(key)
        if let v = heard[key, hash: h], v >= t { return }
        heard.updateValue(t, forKey: key, hash: h)
    }

    /// The originator's host, by its address; the responder's service, by its endpoint.
    func of(orig: Endpoint, resp: Endpoint) -> (orig: Int64?, resp: Int64?) {
        (heard[Key(orig.address, port: nil)], heard[Key(resp.address, port: resp.port)])
    }
}

/// The batch walk (TeardownSpeed) reads the table, the slots and the linger queue to load, ahead
/// of time, what coming packets will need.
extension ConnectionTracker: BatchTracking {}
