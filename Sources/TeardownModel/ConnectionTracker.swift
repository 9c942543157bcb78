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
        public init(recordEvents: Bool = true, recordNotes: Bool = true, lingerNanoseconds: Int64 = 2_000_000_000) {
            self.recordEvents = recordEvents
            self.recordNotes = recordNotes
            self.linger = lingerNanoseconds
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
    private var table: [FlowKey: Connection] = [:]
    /// Finished connections waiting out their linger time, oldest first.
    private var finished: [(key: FlowKey, index: Int, at: Int64)] = []
    private var finishedHead = 0
    private var nextIndex = 1
    public private(set) var segmentsProcessed = 0
    /// The largest number of connections held at once.
    public private(set) var peakOpenConnections = 0

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Connections currently held (open or lingering).
    public var openConnections: Int { table.count }

    /// Feeds one segment. Connections whose reporting time has come are passed to `emit`.
    public mutating func process(_ seg: TCPSegment, time: Timestamp, packetNumber: Int, emit: (ConnectionRecord) -> Void) {
        segmentsProcessed += 1
        expire(before: time.nanoseconds, emit: emit)
        let key = FlowKey(seg.source, seg.destination)
        if let i = table.index(forKey: key) {
            let side: Side = table.values[i].orig.endpoint == seg.source ? .orig : .resp
            if table.values[i].isNewIncarnation(seg, from: side) {
                let old = table.remove(at: i).value
                emit(old.makeRecord(recordNotes: configuration.recordNotes))
                start(seg, key: key, time: time, packetNumber: packetNumber)
                return
            }
            if table.values[i].process(seg, from: side, time: time, packetNumber: packetNumber) {
                finished.append((key, table.values[i].index, time.nanoseconds))
            }
            return
        }
        start(seg, key: key, time: time, packetNumber: packetNumber)
    }

    private mutating func start(_ seg: TCPSegment, key: FlowKey, time: Timestamp, packetNumber: Int) {
        // The originator is the SYN sender; otherwise Zeek's port heuristic decides (see ZeekRoles).
        let flip = ZeekRoles.shouldFlip(firstSegmentFlags: seg.flags, sourcePort: seg.source.port,
                                        destinationPort: seg.destination.port)
        let orig = flip ? seg.destination : seg.source
        let resp = flip ? seg.source : seg.destination
        var c = Connection(index: nextIndex, orig: orig, resp: resp, time: time, packetNumber: packetNumber,
                           recordEvents: configuration.recordEvents, rolesFlipped: flip)
        nextIndex += 1
        let done = c.process(seg, from: flip ? .resp : .orig, time: time, packetNumber: packetNumber)
        table[key] = c
        if done { finished.append((key, c.index, time.nanoseconds)) }
        if table.count > peakOpenConnections { peakOpenConnections = table.count }
    }

    /// Reports finished connections whose linger time ended before `now` (packet time).
    public mutating func expire(before now: Int64, emit: (ConnectionRecord) -> Void) {
        while finishedHead < finished.count {
            let f = finished[finishedHead]
            guard now &- f.at > configuration.linger else { break }
            finishedHead += 1
            if let i = table.index(forKey: f.key), table.values[i].index == f.index {
                let c = table.remove(at: i).value
                emit(c.makeRecord(recordNotes: configuration.recordNotes))
            }
        }
        if finishedHead > 1024 && finishedHead * 2 > finished.count {
            finished.removeFirst(finishedHead)
            finishedHead = 0
        }
    }

    /// End of input: reports every connection still held, in order of first packet.
    public mutating func finish(emit: (ConnectionRecord) -> Void) {
        let all = table.values.sorted { $0.index < $1.index }
        table.removeAll()
        finished.removeAll()
        finishedHead = 0
        for c in all { emit(c.makeRecord(recordNotes: configuration.recordNotes)) }
    }
}
