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
        /// At most this many connections are held; beyond it the least recently active are
        /// evicted (reported with a note), so SYN floods and scans cannot exhaust memory.
        public var maxConnections: Int
        public init(recordEvents: Bool = true, recordNotes: Bool = true, lingerNanoseconds: Int64 = 2_000_000_000,
                    idleTimeoutNanoseconds: Int64 = 300_000_000_000, maxConnections: Int = 500_000) {
            self.recordEvents = recordEvents
            self.recordNotes = recordNotes
            self.linger = lingerNanoseconds
            self.idleTimeout = idleTimeoutNanoseconds
            self.maxConnections = max(1, maxConnections)
        }
    }

    /// A direction-free key: the two endpoints in canonical order (gopacket's symmetric flow key).
    struct FlowKey: Hashable {
        var low: Endpoint
        var high: Endpoint
        init(_ a: Endpoint, _ b: Endpoint) {
            if a < b { low = a; high = b } else { low = b; high = a }
        }
    }

    public let configuration: Configuration
    /// Each connection lives in a box, mutated in place through the reference: a `Connection`
    /// is about a kilobyte, and reading it out of a dictionary or array slot would copy it on
    /// every packet (measured: 20% of replay time in memmove before this).
    final class Box {
        var c: Connection
        init(_ c: Connection) { self.c = c }
    }
    private var table: [FlowKey: Box] = [:]
    /// Finished connections waiting out their linger time, oldest first.
    private var finished: [(key: FlowKey, index: Int, at: Int64)] = []
    private var finishedHead = 0
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
    public var unfinishedConnections: Int { table.values.reduce(0) { $0 + ($1.c.isFinished ? 0 : 1) } }

    /// Feeds one segment. Connections whose reporting time has come are passed to `emit`.
    public mutating func process(_ seg: TCPSegment, time: Timestamp, packetNumber: Int, emit: (ConnectionRecord) -> Void) {
        segmentsProcessed += 1
        if finishedHead < finished.count { expire(before: time.nanoseconds, emit: emit) }
        if let last = lastSweep {
            if time.nanoseconds &- last >= sweepInterval { sweepIdle(now: time.nanoseconds, emit: emit) }
        } else {
            lastSweep = time.nanoseconds
        }
        let key = FlowKey(seg.source, seg.destination)
        guard let box = table[key] else {
            start(seg, key: key, time: time, packetNumber: packetNumber, emit: emit)
            return
        }
        switch box.c.process(seg, time: time, packetNumber: packetNumber) {
        case .applied:
            break
        case .finished:
            finished.append((key, box.c.index, time.nanoseconds))
        case .newIncarnation:
            table.removeValue(forKey: key)
            emit(box.c.makeRecord(recordNotes: configuration.recordNotes))
            start(seg, key: key, time: time, packetNumber: packetNumber, emit: emit)
        }
    }

    private mutating func start(_ seg: TCPSegment, key: FlowKey, time: Timestamp, packetNumber: Int, emit: (ConnectionRecord) -> Void) {
        // The originator is the SYN sender; otherwise Zeek's port heuristic decides (see ZeekRoles).
        let flip = ZeekRoles.shouldFlip(firstSegmentFlags: seg.flags, sourcePort: seg.source.port,
                                        destinationPort: seg.destination.port)
        let orig = flip ? seg.destination : seg.source
        let resp = flip ? seg.source : seg.destination
        let box = Box(Connection(index: nextIndex, orig: orig, resp: resp, time: time, packetNumber: packetNumber,
                                 recordEvents: configuration.recordEvents, rolesFlipped: flip))
        nextIndex += 1
        let done = box.c.process(seg, from: flip ? .resp : .orig, time: time, packetNumber: packetNumber)
        table[key] = box
        if done { finished.append((key, box.c.index, time.nanoseconds)) }
        if table.count > peakOpenConnections { peakOpenConnections = table.count }
        if table.count > configuration.maxConnections { evictLeastRecent(emit: emit) }
    }

    /// Reports connections idle for longer than `idleTimeout`, in order of first packet.
    private mutating func sweepIdle(now: Int64, emit: (ConnectionRecord) -> Void) {
        lastSweep = now
        let cutoff = now &- configuration.idleTimeout
        var stale: [(key: FlowKey, box: Box)] = []
        for (key, box) in table where box.c.end.nanoseconds < cutoff { stale.append((key, box)) }
        guard !stale.isEmpty else { return }
        stale.sort { $0.box.c.index < $1.box.c.index }
        for v in stale {
            table.removeValue(forKey: v.key)
            var c = v.box.c
            c.forgottenReason = "no packet for \(configuration.idleTimeout / 1_000_000_000) s: reported as idle and forgotten"
            idleExpired += 1
            emit(c.makeRecord(recordNotes: configuration.recordNotes))
        }
    }

    /// The table is over its cap: evicts the least recently active 1% (at least one), so the
    /// sort is paid once per hundred insertions, not on every one.
    private mutating func evictLeastRecent(emit: (ConnectionRecord) -> Void) {
        let n = max(1, table.count / 100)
        var ages: [(at: Int64, index: Int, key: FlowKey)] = []
        ages.reserveCapacity(table.count)
        for (key, box) in table { ages.append((box.c.end.nanoseconds, box.c.index, key)) }
        ages.sort { ($0.at, $0.index) < ($1.at, $1.index) }
        for victim in ages.prefix(n) {
            guard var c = table.removeValue(forKey: victim.key)?.c else { continue }
            c.forgottenReason = "evicted: more than \(Format.thousands(configuration.maxConnections)) connections were open at once"
            evicted += 1
            emit(c.makeRecord(recordNotes: configuration.recordNotes))
        }
    }

    /// Reports finished connections whose linger time ended before `now` (packet time).
    public mutating func expire(before now: Int64, emit: (ConnectionRecord) -> Void) {
        while finishedHead < finished.count {
            let f = finished[finishedHead]
            guard now &- f.at > configuration.linger else { break }
            finishedHead += 1
            if let box = table[f.key], box.c.index == f.index {
                table.removeValue(forKey: f.key)
                emit(box.c.makeRecord(recordNotes: configuration.recordNotes))
            }
        }
        if finishedHead > 1024 && finishedHead * 2 > finished.count {
            finished.removeFirst(finishedHead)
            finishedHead = 0
        }
    }

    /// End of input: reports every connection still held, in order of first packet.
    public mutating func finish(emit: (ConnectionRecord) -> Void) {
        let all = table.values.sorted { $0.c.index < $1.c.index }
        table.removeAll()
        finished.removeAll()
        finishedHead = 0
        for box in all { emit(box.c.makeRecord(recordNotes: configuration.recordNotes)) }
    }
}
