import TeardownWire

/// A connection's timeline rows, kept bounded as they stream in.
///
/// Packets that change nothing (no SYN/FIN/RST, no state change, no note) are "plain".
/// In each run of plain packets the first `headKeep` and the last `tailKeep` are kept as
/// rows and the middle is folded into one `FoldEvent`, so a 10,000-segment transfer costs
/// a handful of rows. Memory per connection is O(significant rows), capped by `maxRows`.
struct EventLog {
    static let headKeep = 2
    /// The ring below holds exactly this many.
    static let tailKeep = 2
    /// Beyond this many rows, further rows are counted, not kept.
    static let maxRows = 5_000

    private(set) var rows: [TimelineEvent] = []
    private var headShown = 0
    /// The last `tailKeep` plain packets of the current run, oldest first: two slots and a
    /// count, not an array, so that the common case (a data packet entering the run, the oldest
    /// leaving it for the fold) copies a few words of plain bytes and touches no reference.
    private var tail0 = PlainPacket.zero, tail1 = PlainPacket.zero
    private var tailCount = 0
    private var fold: FoldEvent?
    private var firstFolded = PlainPacket.zero
    private(set) var droppedRows = 0

    /// A packet that is not plain: it ends the current run of plain packets and is a row.
    mutating func append(_ p: consuming PacketEvent) {
        flushRun()
        push(.packet(p))
    }

    /// A plain packet (no SYN/FIN/RST, no state change, no note, not a retransmission, not
    /// truncated): shown if among the first `headKeep` or the last `tailKeep` of its run,
    /// folded otherwise.
    mutating func append(plain p: PlainPacket) {
        if headShown < EventLog.headKeep {
            headShown += 1
            push(.packet(p.event))
            return
        }
        switch tailCount {
        case 0: tail0 = p; tailCount = 1
        case 1: tail1 = p; tailCount = 2
        default:
            absorb(tail0)
            tail0 = tail1
            tail1 = p
        }
    }

    private mutating func absorb(_ p: PlainPacket) {
        let bytes = UInt64(max(0, p.payloadLength))
        if var f = fold {
            f.lastTime = p.time
            f.lastNumber = p.number
            if p.from == .orig { f.origSegments += 1; f.origBytes += bytes } else { f.respSegments += 1; f.respBytes += bytes }
            fold = f
        } else {
            firstFolded = p
            fold = FoldEvent(firstTime: p.time, lastTime: p.time, firstNumber: p.number, lastNumber: p.number,
                             origSegments: p.from == .orig ? 1 : 0, respSegments: p.from == .resp ? 1 : 0,
                             origBytes: p.from == .orig ? bytes : 0, respBytes: p.from == .resp ? bytes : 0)
        }
    }

    /// Ends the current run of plain packets: its fold (if any) and its tail become rows.
    mutating func flushRun() {
        if let f = fold {
            push(f.segments == 1 ? .packet(firstFolded.event) : .fold(f))
        }
        if tailCount > 0 { push(.packet(tail0.event)) }
        if tailCount > 1 { push(.packet(tail1.event)) }
        tailCount = 0
        fold = nil
        headShown = 0
    }

    private mutating func push(_ e: TimelineEvent) {
        if rows.count >= EventLog.maxRows { droppedRows += 1; return }
        // Room for a short connection's rows at once (a handshake, a few data rows, the
        // ending): growing from empty by doubling copied every row up to five times.
        if rows.capacity == 0 { rows.reserveCapacity(EventLog.initialRows) }
        rows.append(e)
    }

    /// Rows reserved on the first: 4 in 5 connections of the small bench capture have 9 to 12.
    static let initialRows = 12

    mutating func finish() -> [TimelineEvent] {
        flushRun()
        return rows
    }
}

/// A plain packet's row as the log holds it while it may still be folded: the fields a
/// `PacketEvent` of a plain packet has, without its arrays (empty for a plain packet) and
/// without any other reference, so it is copied as plain bytes.
struct PlainPacket {
    var time: Timestamp
    var number: Int
    var from: Side
    var flags: TCPFlags
    var relativeSequence: UInt32
    var relativeAcknowledgment: UInt32?
    var payloadLength: Int
    var window: UInt16
    var origState: TCPState
    var respState: TCPState

    static let zero = PlainPacket(time: Timestamp(nanoseconds: 0), number: 0, from: .orig, flags: [],
                                  relativeSequence: 0, relativeAcknowledgment: nil, payloadLength: 0,
                                  window: 0, origState: .closed, respState: .closed)

    /// The row it becomes.
    var event: PacketEvent {
        PacketEvent(time: time, number: number, from: from, flags: flags, relativeSequence: relativeSequence,
                    relativeAcknowledgment: relativeAcknowledgment, payloadLength: payloadLength, window: window,
                    origState: origState, respState: respState)
    }
}

/// A connection's `EventLog`, held by reference: most connections record no events
/// (`--summary`, `--no-events`), and those hold only an empty reference.
///
/// The log is a class's stored property, so every access would be checked at run time for
/// overlapping access. Its only accesses are the one append a packet in `Connection.process`
/// and the read in `makeRecord`, neither inside the other, on whichever single thread holds
/// the connection: the check is switched off for it.
final class EventLogBox {
    @exclusivity(unchecked) var log = EventLog()
}
