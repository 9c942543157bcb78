import TeardownModel
import TeardownWire

/// `--summary`: one fixed-width line per connection, for captures too large to read as timelines.
///
/// Every column has a fixed width so lines from different connections align without seeing
/// them all first; the endpoints, whose width varies most (IPv6), come last so they cannot
/// push the other columns out of line.
public enum SummaryRenderer {
    static let columns: [(title: String, width: Int, right: Bool)] = [
        ("#", 6, true), ("teardown", 29, false), ("by", 6, false), ("state", 6, false),
        ("history", 10, false), ("packets", 8, true), ("bytes c→s", 12, true),
        ("bytes s→c", 12, true), ("duration", 10, true), ("client ⇄ server", 0, false),
    ]

    /// The column titles, aligned with `line(_:source:)`.
    public static func header() -> String {
        row(columns.map(\.title))
    }

    /// One connection: index, teardown, closed by, conn_state, history, packets, payload
    /// bytes each way, duration (seconds), then `client ⇄ server` and the file label if any.
    public static func line(_ record: ConnectionRecord, source: String?) -> String {
        // Built as bytes in one reserved buffer, cell by cell: this runs once per connection of
        // a multi-gigabyte capture, and appending to a String piece by piece (or padding copies
        // of each cell) cost more than the whole connection model.
        var b: [UInt8] = []
        b.reserveCapacity(192)
        append(String(record.index), column: 0, to: &b)
        append(record.teardown.name, column: 1, to: &b)
        append(record.closedBy?.role ?? "-", column: 2, to: &b)
        append(record.connState.rawValue, column: 3, to: &b)
        append(record.history.isEmpty ? "-" : record.history.terminalSafe, column: 4, to: &b)
        append(Format.grouped(record.orig.packets + record.resp.packets), column: 5, to: &b)
        append(Format.grouped(record.orig.payloadBytes), column: 6, to: &b)
        append(Format.grouped(record.resp.payloadBytes), column: 7, to: &b)
        append(Format.seconds(nanoseconds: Format.difference(record.end, record.start), decimals: 6), column: 8, to: &b)
        append(record.orig.endpoint.description + " ⇄ " + record.resp.endpoint.description, column: 9, to: &b)
        if let source { b.append(contentsOf: ("  (" + source.terminalSafe + ")").utf8) }
        return String(decoding: b, as: UTF8.self)
    }

    static func row(_ cells: [String]) -> String {
        var b: [UInt8] = []
        for (i, cell) in cells.enumerated() { append(cell, column: i, to: &b) }
        return String(decoding: b, as: UTF8.self)
    }

    /// Appends one cell of column `i`, preceded by the two-space gutter, padded to the column's width.
    private static func append(_ cell: String, column i: Int, to b: inout [UInt8]) {
        let c = columns[i]
        if i > 0 { b.append(0x20); b.append(0x20) }
        let missing = c.width == 0 ? 0 : max(0, c.width - cell.displayWidth)
        if c.right { b.append(contentsOf: repeatElement(0x20, count: missing)) }
        b.append(contentsOf: cell.utf8)
        if !c.right { b.append(contentsOf: repeatElement(0x20, count: missing)) }
    }
}

/// The final count of connections by how they ended, printed after `--summary` output.
public struct TeardownTally: Sendable {
    private var counts: [Teardown: Int] = [:]
    /// Connections added so far.
    public private(set) var total = 0

    public init() {}

    public mutating func add(_ record: ConnectionRecord) {
        counts[record.teardown, default: 0] += 1
        total += 1
    }

    /// How many connections ended this way.
    public func count(_ teardown: Teardown) -> Int { counts[teardown] ?? 0 }

    /// Adds another tally's counts (files replayed in parallel, each with its own tally).
    public mutating func merge(_ other: TeardownTally) {
        for (teardown, n) in other.counts { counts[teardown, default: 0] += n }
        total += other.total
    }

    /// ```
    /// 42 connections by teardown:
    ///   graceful                          30   71.4%
    ///   abort-by-responder                 5   11.9%
    /// ```
    /// Most frequent first; ties in the order `TeardownKind` lists them, mid-stream variants
    /// after their whole counterparts. Every line ends with a newline.
    public func render(color: Bool) -> String {
        let paint = Painter(enabled: color)
        var out = paint.paint("\(Format.grouped(total)) connection\(total == 1 ? "" : "s")"
                              + (total == 0 ? "" : " by teardown:"), Painter.bold) + "\n"
        let order = TeardownKind.allCases
        func rank(_ t: Teardown) -> Int { (order.firstIndex(of: t.kind) ?? 0) * 2 + (t.midstream ? 1 : 0) }
        let sorted = counts.sorted { a, b in a.value != b.value ? a.value > b.value : rank(a.key) < rank(b.key) }
        let countWidth = max(5, Format.grouped(total).utf8.count)
        for (teardown, n) in sorted {
            let name = teardown.name.padded(to: 30)
            out += "  " + paint.paint(name, Timeline.colour(teardown.kind)) + Format.grouped(n).leftPadded(to: countWidth)
                + "  " + TeardownTally.percent(n, of: total).leftPadded(to: 6) + "\n"
        }
        return out
    }

    /// `71.4%`, rounded half up with integer arithmetic.
    static func percent(_ n: Int, of total: Int) -> String {
        guard total > 0 else { return "–" }
        let permille = (n.multipliedReportingOverflow(by: 1000).partialValue + total / 2) / total
        return "\(permille / 10).\(permille % 10)%"
    }
}
