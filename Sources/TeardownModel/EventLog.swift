import TeardownWire

/// A connection's timeline rows, kept bounded as they stream in.
///
/// Packets that change nothing (no SYN/FIN/RST, no state change, no note) are "plain".
/// In each run of plain packets the first `headKeep` and the last `tailKeep` are kept as
/// rows and the middle is folded into one `FoldEvent`, so a 10,000-segment transfer costs
/// a handful of rows. Memory per connection is O(significant rows), capped by `maxRows`.
struct EventLog {
    static let headKeep = 2
    static let tailKeep = 2
    /// Beyond this many rows, further rows are counted, not kept.
    static let maxRows = 5_000

    private(set) var rows: [TimelineEvent] = []
    private var headShown = 0
    private var tail: [PacketEvent] = []
    private var fold: FoldEvent?
    private var firstFolded: PacketEvent?
    private(set) var droppedRows = 0

    mutating func append(_ event: TimelineEvent, plain: Bool) {
        if plain, case .packet(let p) = event {
            append(p, plain: true)
        } else {
            flushRun()
            push(event)
        }
    }

    /// `append(.packet(p), plain:)`, with the packet row taken as it is (not wrapped in a
    /// `TimelineEvent` to be matched back out).
    mutating func append(_ p: consuming PacketEvent, plain: Bool) {
        guard plain else {
            flushRun()
            push(.packet(p))
            return
        }
        if headShown < EventLog.headKeep {
            headShown += 1
            push(.packet(p))
            return
        }
        tail.append(p)
        if tail.count > EventLog.tailKeep {
            absorb(tail.removeFirst())
        }
    }

    private mutating func absorb(_ p: PacketEvent) {
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
            if f.segments == 1, let only = firstFolded {
                push(.packet(only))
            } else {
                push(.fold(f))
            }
        }
        for p in tail { push(.packet(p)) }
        tail.removeAll(keepingCapacity: true)
        fold = nil
        firstFolded = nil
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
