import CPrefetch
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
        public init(recordEvents: Bool = true, recordNotes: Bool = true, lingerNanoseconds: Int64 = 2_000_000_000,
                    idleTimeoutNanoseconds: Int64 = 300_000_000_000, maxConnections: Int = 500_000,
                    unansweredTimeoutNanoseconds: Int64 = 130_000_000_000) {
            self.recordEvents = recordEvents
            self.recordNotes = recordNotes
            self.linger = lingerNanoseconds
            self.idleTimeout = idleTimeoutNanoseconds
            self.unansweredTimeout = min(unansweredTimeoutNanoseconds, idleTimeoutNanoseconds)
            self.maxConnections = max(1, maxConnections)
        }
    }

    /// A direction-free key: the two endpoints in canonical order (gopacket's symmetric flow key).
    struct FlowKey: Hashable {
        var low: Endpoint
        var high: Endpoint
        init(_ a: Endpoint, _ b: Endpoint) {
            self = Self.ordering(a, b).key
        }

        /// The key of the flow between `a` and `b`, and whether `a` comes first in it: the one
        /// place the order is decided (`FlowHasher.flow(from:to:)` records it per packet, and
        /// `init(_:_:)` must agree with it).
        @inline(__always)
        static func ordering(_ a: Endpoint, _ b: Endpoint) -> (key: FlowKey, aIsLow: Bool) {
            a < b ? (FlowKey(ordered: a, b), true) : (FlowKey(ordered: b, a), false)
        }

        /// The key of endpoints already in order (`low < high`).
        @inline(__always)
        init(ordered low: Endpoint, _ high: Endpoint) {
            self.low = low
            self.high = high
        }

        /// The key of `seg`'s flow, ordered as `flow` says (no comparison).
        @inline(__always)
        init(_ seg: TCPSegment, _ flow: FlowHash) {
            if flow.sourceIsLow { low = seg.source; high = seg.destination } else { low = seg.destination; high = seg.source }
        }

        /// Equality compares the same fields, words first.
        static func == (a: FlowKey, b: FlowKey) -> Bool {
            a.low.address.low == b.low.address.low && a.high.address.low == b.high.address.low
                && a.low.port == b.low.port && a.high.port == b.high.port
                && a.low.address.high == b.low.address.high && a.high.address.high == b.high.address.high
                && a.low.address.isIPv6 == b.low.address.isIPv6 && a.high.address.isIPv6 == b.high.address.isIPv6
        }

        /// Hashed as two words, one short `Hasher` pass. The tracker itself uses `FlowTable`,
        /// which has its own hash; this is for tests that check it against a `Dictionary`.
        /// The words fold the IPv6 high halves into the low halves with odd multipliers; equal
        /// keys hash equally.
        func hash(into h: inout Hasher) {
            let ports = UInt64(low.port) | UInt64(high.port) << 16
            let families: UInt64 = (low.address.isIPv6 ? 1 : 0) | (high.address.isIPv6 ? 2 : 0)
            h.combine(low.address.low ^ (high.address.high &* 0x9E37_79B9_7F4A_7C15) ^ (ports << 32))
            h.combine(high.address.low ^ (low.address.high &* 0xC2B2_AE3D_27D4_EB4F) ^ families)
        }
    }

    public let configuration: Configuration
    /// Connections live in `slots` and are mutated in place there (`slots[i].process(...)`):
    /// a `Connection` is about a kilobyte, and reading it out of its slot would copy it on
    /// every packet. `table` maps a flow to its slot; a freed slot is reused, so the slots
    /// grow only to the peak number of connections held at once.
    /// Invariant: every slot `table` names holds a connection.
    /// `table`'s iteration order is arbitrary (and random per run): everything that reports
    /// while walking it collects first and sorts by connection index.
    private var table = FlowTable()
    private var slots = SlotArray()
    private var freeSlots: [Int] = []
    /// Finished connections waiting out their linger time, oldest first.
    private var finished: [Lingering] = []
    private var finishedHead = 0
    /// Entries of `finished` before this one have had their memory prefetched (`prefetchLingering`).
    private var finishedPrefetched = 0

    /// A finished connection waiting out its linger time: where it is (its flow's hash and its
    /// slot, to check it is still there and report it without hashing again) and when it finished.
    private struct Lingering {
        let key: FlowKey
        let hash: UInt64
        let slot: Int
        let index: Int
        let at: Int64
    }
    private var nextIndex = 1
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
    }

    /// Connections currently held (open or lingering).
    public var openConnections: Int { table.count }

    /// Connections held whose ending is not complete (not those waiting out their linger).
    public var unfinishedConnections: Int { table.reduce(0) { $0 + (slots[$1.value].facts.isFinished ? 0 : 1) } }

    /// The hash function of this tracker's table, for a reading stage that fills in
    /// `DecodedPacket.flow` ahead of `process(_:emit:)`.
    public var flowHasher: FlowHasher { table.hasher }

    /// How far ahead `process(_:emit:)` starts loading what a packet will need: the packet
    /// itself `batchLookahead` packets ahead (replay's reading thread wrote it, on the other
    /// core), its flow's table bucket `flowLookahead` ahead, then (once that bucket has had
    /// time to arrive) its connection `connectionLookahead` ahead. With 10,000 connections
    /// open, a packet's connection is rarely in the core's own cache; loading it while the
    /// packets before it are worked on overlaps those misses with work.
    static let batchLookahead = 32
    static let flowLookahead = 24
    static let connectionLookahead = 12

    /// Feeds a batch of packets, in order; packets that are not TCP segments are skipped.
    /// `flow` of every TCP packet must come from this tracker's `flowHasher`.
    /// Connections whose reporting time has come are passed to `emit`, not yet made into
    /// records (`FinishedConnection.record()`): replay makes them on its printing thread.
    ///
    /// The same as `process(_:time:packetNumber:emit:)` on each segment, but the flow hashes
    /// are computed already (on the reading thread, in replay), the memory each packet needs is
    /// prefetched a few packets ahead, and segments are read where they lie in the batch.
    public mutating func process(_ packets: UnsafeBufferPointer<DecodedPacket>, emit: (consuming FinishedConnection) -> Void) {
        guard let base = packets.baseAddress else { return }
        let n = packets.count
        for i in 0..<n {
            if i &+ Self.batchLookahead < n {
                // The batch was written on the reading thread's core: its lines come from there.
                prefetchLines(UnsafeRawPointer(base + i + Self.batchLookahead), bytes: MemoryLayout<DecodedPacket>.size)
            }
            if i &+ Self.flowLookahead < n {
                let q = base + i + Self.flowLookahead
                if case .tcp = q.pointee.status { table.prefetch(hash: q.pointee.flow.value) }
            }
            if i &+ Self.connectionLookahead < n {
                let q = base + i + Self.connectionLookahead
                if case .tcp = q.pointee.status,
                   let slot = table[FlowKey(q.pointee.segment, q.pointee.flow), hash: q.pointee.flow.value] {
                    slots.prefetch(slot)
                }
            }
            let p = base + i
            if case .tcp = p.pointee.status {
                process(p.pointee.segment, flow: p.pointee.flow, time: p.pointee.time,
                        packetNumber: p.pointee.number, emit: emit)
            }
        }
    }

    /// Feeds one segment. Connections whose reporting time has come are passed to `emit`.
    public mutating func process(_ seg: TCPSegment, time: Timestamp, packetNumber: Int, emit: (ConnectionRecord) -> Void) {
        process(seg, flow: table.hasher.flow(of: seg), time: time, packetNumber: packetNumber, emit: { emit($0.record()) })
    }

    @inline(__always)
    private mutating func process(_ seg: TCPSegment, flow: FlowHash, time: Timestamp, packetNumber: Int,
                                  emit: (consuming FinishedConnection) -> Void) {
        segmentsProcessed += 1
        if finishedHead < finished.count {
            prefetchLingering()
            if time.nanoseconds &- finished[finishedHead].at > configuration.linger {
                expire(before: time.nanoseconds, emitFinished: emit)
            }
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
        case .newIncarnation:
            report(key, emit: emit)
            start(seg, key: key, hash: flow.value, time: time, packetNumber: packetNumber, emit: emit)
        }
    }

    /// Removes a connection from the table and reports it. The record is made in place; the
    /// connection stays in its freed slot until a new one overwrites it (no kilobyte copy to
    /// move it out, none to blank the slot).
    private mutating func report(_ key: FlowKey, reason: String? = nil, emit: (consuming FinishedConnection) -> Void) {
        report(key, hash: table.hash(key), reason: reason, emit: emit)
    }

    /// `report(_:reason:emit:)` for a key whose hash `h` is known.
    private mutating func report(_ key: FlowKey, hash h: UInt64, reason: String? = nil,
                                 emit: (consuming FinishedConnection) -> Void) {
        guard let slot = table.removeValue(forKey: key, hash: h) else { return }
        freeSlots.append(slot)
        if let reason { slots[slot].forgottenReason = reason }
        emit(FinishedConnection(connection: slots[slot], recordNotes: configuration.recordNotes))
    }

    private mutating func start(_ seg: TCPSegment, key: FlowKey, hash: UInt64, time: Timestamp, packetNumber: Int,
                                emit: (consuming FinishedConnection) -> Void) {
        // The originator is the SYN sender; otherwise Zeek's port heuristic decides (see ZeekRoles).
        let flip = ZeekRoles.shouldFlip(firstSegmentFlags: seg.flags, sourcePort: seg.source.port,
                                        destinationPort: seg.destination.port)
        let orig = flip ? seg.destination : seg.source
        let resp = flip ? seg.source : seg.destination
        let index = nextIndex
        nextIndex += 1
        // Built straight into its slot and processed there: a Connection is about a kilobyte.
        let c = Connection(index: index, orig: orig, resp: resp, time: time, packetNumber: packetNumber,
                           recordEvents: configuration.recordEvents, rolesFlipped: flip)
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
        let idle = "no packet for \(configuration.idleTimeout / 1_000_000_000) s: reported as idle and forgotten"
        let unanswered = "no answer for \(configuration.unansweredTimeout / 1_000_000_000) s: reported and forgotten"
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
        let reason = "evicted: more than \(Format.thousands(configuration.maxConnections)) connections were open at once"
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
        while finishedHead < finished.count {
            let f = finished[finishedHead]
            guard now &- f.at > configuration.linger else { break }
            finishedHead += 1
            // Still this connection (not reported since, by a new incarnation or eviction, and
            // its slot not taken by another)?
            if slots[f.slot].index == f.index, table[f.key, hash: f.hash] == f.slot {
                report(f.key, hash: f.hash, emit: emit)
            }
        }
        if finishedHead > 1024 && finishedHead * 2 > finished.count {
            finished.removeFirst(finishedHead)
            finishedPrefetched = max(0, finishedPrefetched - finishedHead)
            finishedHead = 0
        }
    }

    /// How many connections at the head of the linger queue have their memory prefetched.
    static let lingeringLookahead = 2

    /// Starts loading what reporting the next lingering connections will read: their table
    /// bucket and their whole connection (copied out when reported). Each entry is prefetched
    /// once, when it comes within `lingeringLookahead` of the head. A connection lingers for
    /// seconds of packet time, so by the time it is reported it has long left the cache; about one
    /// packet in sixteen reports one (the large bench capture), and those misses were most of
    /// `expire`'s time.
    @inline(__always)
    private mutating func prefetchLingering() {
        let end = min(finished.count, finishedHead &+ Self.lingeringLookahead)
        guard finishedPrefetched < end else { return }
        if finishedPrefetched < finishedHead { finishedPrefetched = finishedHead }   // reported unprefetched
        while finishedPrefetched < end {
            let f = finished[finishedPrefetched]
            table.prefetch(hash: f.hash)
            slots.prefetch(f.slot)
            finishedPrefetched &+= 1
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
        for h in held { emit(FinishedConnection(connection: slots[h.slot], recordNotes: configuration.recordNotes)) }
        table.removeAll()
        slots = SlotArray()
        freeSlots.removeAll()
        finished.removeAll()
        finishedHead = 0
        finishedPrefetched = 0
    }
}

/// Starts loading every cache line of the `bytes` at `start` (`ctd_prefetch`, a hint that never
/// faults): one every 64 bytes, and the line of the last byte, which the stride misses when the
/// object starts late in a line (packets in a batch and connections in a chunk are not aligned
/// to one). In line, with `bytes` a constant: the loop unrolls to the prefetches themselves.
@inline(__always)
func prefetchLines(_ start: UnsafeRawPointer, bytes: Int) {
    for offset in stride(from: 0, to: bytes, by: 64) { ctd_prefetch(start + offset) }
    ctd_prefetch(start + (bytes - 1))
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

    /// The connection's number (order of first packet).
    public var index: Int { connection.index }

    /// The connection's record, as the renderers print it.
    public func record() -> ConnectionRecord { connection.makeRecord(recordNotes: recordNotes) }
}

/// Storage for connections in fixed-size chunks: growing never copies the connections already
/// held (a doubling array would briefly hold two copies of a table of kilobyte-sized
/// connections), and element mutation through the subscript happens in place.
///
/// Slots are not optional (testing an optional kilobyte-sized struct for nil costs an outlined
/// call per packet): a freed slot keeps its reported connection until a new one overwrites it, so
/// what freed slots hold is bounded by the peak number of connections, like the slots themselves.
struct SlotArray {
    private static let chunkShift = 9
    private static let chunkSize = 1 << chunkShift
    private var chunks: [[Connection]] = []
    private(set) var count = 0

    subscript(i: Int) -> Connection {
        get { chunks[i >> Self.chunkShift][i & (Self.chunkSize - 1)] }
        _modify { yield &chunks[i >> Self.chunkShift][i & (Self.chunkSize - 1)] }
    }

    /// Where each chunk's elements start, for `prefetch`. A chunk never grows past the
    /// capacity it is made with, so its storage stays put; only a copy of the whole array,
    /// then mutated, would move it (the copy's prefetches would then load the original's
    /// memory: a wasted hint, never a fault, as a prefetch cannot fault).
    private var bases: [UnsafeRawPointer] = []

    /// Starts loading the connection in slot `i` into the cache (every line of it: a packet
    /// touches most of a connection). Reads the chunk's address from `bases`, not from
    /// `chunks`: taking a chunk out of `chunks` retains it, an atomic operation that stalled
    /// the tracking thread until the misses before it were served.
    @inline(__always)
    func prefetch(_ i: Int) {
        let chunk = i >> Self.chunkShift
        guard chunk < bases.count else { return }
        let start = bases[chunk] + (i & (Self.chunkSize - 1)) &* MemoryLayout<Connection>.stride
        prefetchLines(start, bytes: MemoryLayout<Connection>.size)
    }

    /// Adds a slot holding `c`; returns its index.
    mutating func append(_ c: Connection) -> Int {
        if count & (Self.chunkSize - 1) == 0 {
            var chunk: [Connection] = []
            chunk.reserveCapacity(Self.chunkSize)
            chunk.withUnsafeBufferPointer { if let base = $0.baseAddress { bases.append(UnsafeRawPointer(base)) } }
            chunks.append(chunk)
        }
        chunks[chunks.count - 1].append(c)
        count += 1
        return count - 1
    }

}
