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

    /// Padding, appended as a slice (contiguous: one copy, where `repeatElement` goes byte by byte).
    private static let spaces = [UInt8](repeating: 0x20, count: 32)

    /// `columns` without the titles (reading a title would retain a String per cell).
    private static let layout: [(width: Int, right: Bool)] = columns.map { ($0.width, $0.right) }

    /// The column titles, aligned with `line(_:source:)`.
    public static func header() -> String {
        row(columns.map(\.title))
    }

    /// One connection: index, teardown, closed by, conn_state, history, packets, payload
    /// bytes each way, duration (seconds), then `client ⇄ server` and the file label if any.
    public static func line(_ record: ConnectionRecord, source: String?) -> String {
        var b: [UInt8] = []
        b.reserveCapacity(192)
        append(record, source: source, to: &b)
        return String(decoding: b, as: UTF8.self)
    }

    /// Appends `line(_:source:)` (without a newline) to `b`.
    ///
    /// Written as bytes straight into the output buffer, cell by cell: this runs once per
    /// connection of a multi-gigabyte capture, and building a String per cell (or per line)
    /// cost more than the whole connection model.
    public static func append(_ record: ConnectionRecord, source: String?, to b: inout [UInt8]) {
        b.reserveCapacity(b.count + 192)
        // Right-aligned cells are formatted into `cell` first, so their padding can go before them.
        var cell: [UInt8] = []
        cell.reserveCapacity(32)
        func right(_ column: Int, _ format: (inout [UInt8]) -> Void) {
            if column > 0 { _ = gutter(&b) }
            cell.removeAll(keepingCapacity: true)
            format(&cell)
            let missing = layout[column].width - cell.count
            if missing > 0 { b.append(contentsOf: spaces[..<min(missing, spaces.count)]) }
            b.append(contentsOf: cell)
        }

        right(0) { Format.appendDecimal(UInt64(clamping: record.index), to: &$0) }

        var start = gutter(&b)
        if record.teardown.midstream { b.append(contentsOf: "midstream-".utf8) }
        b.append(contentsOf: record.teardown.kind.rawValue.utf8)
        pad(from: start, column: 1, in: &b)

        start = gutter(&b)
        b.append(contentsOf: (record.closedBy?.role ?? "-").utf8)
        pad(from: start, column: 2, in: &b)

        start = gutter(&b)
        b.append(contentsOf: record.connState.rawValue.utf8)
        pad(from: start, column: 3, in: &b)

        start = gutter(&b)
        let ascii = record.history.isEmpty || appendTerminalSafe(record.history, to: &b)
        if record.history.isEmpty { b.append(UInt8(ascii: "-")) }
        pad(from: start, column: 4, ascii: ascii, in: &b)

        right(5) { Format.appendGrouped(UInt64(clamping: record.orig.packets + record.resp.packets), to: &$0) }
        right(6) { Format.appendGrouped(record.orig.payloadBytes, to: &$0) }
        right(7) { Format.appendGrouped(record.resp.payloadBytes, to: &$0) }
        right(8) { Format.appendSeconds(nanoseconds: Format.difference(record.end, record.start), decimals: 6, to: &$0) }

        _ = gutter(&b)
        record.orig.endpoint.appendText(to: &b)
        b.append(contentsOf: " ⇄ ".utf8)
        record.resp.endpoint.appendText(to: &b)
        if let source {
            b.append(contentsOf: "  (".utf8)
            appendTerminalSafe(source, to: &b)
            b.append(UInt8(ascii: ")"))
        }
    }

    static func row(_ cells: [String]) -> String {
        var b: [UInt8] = []
        for (i, cell) in cells.enumerated() {
            let start = i > 0 ? gutter(&b) : b.count
            b.append(contentsOf: cell.utf8)
            pad(from: start, column: i, ascii: false, in: &b)
        }
        return String(decoding: b, as: UTF8.self)
    }

    /// The two-space gutter before a column; returns where the cell begins.
    private static func gutter(_ b: inout [UInt8]) -> Int {
        b.append(0x20); b.append(0x20)
        return b.count
    }

    /// Pads the cell that begins at `start` (and runs to the end of `b`) to its column's width:
    /// spaces after it, or before it for a right-aligned column. Width counts Unicode scalars
    /// (as `String.displayWidth` does): every byte that is not a UTF-8 continuation byte; a
    /// cell known to be ASCII (`ascii`) is as wide as it is long, without looking.
    private static func pad(from start: Int, column i: Int, ascii: Bool = true, in b: inout [UInt8]) {
        let c = layout[i]
        guard c.width > 0 else { return }
        var width = b.count - start
        if !ascii {
            width = 0
            for j in start..<b.count where b[j] & 0xC0 != 0x80 { width += 1 }
        }
        let missing = c.width - width
        guard missing > 0 else { return }
        if c.right {
            b.insert(contentsOf: repeatElement(0x20, count: missing), at: start)
        } else {
            b.append(contentsOf: spaces[..<min(missing, spaces.count)])
        }
    }

    /// Appends `text` as `String.terminalSafe` would make it (controls become U+FFFD).
    /// Returns true if what it appended is printable ASCII.
    @discardableResult
    private static func appendTerminalSafe(_ text: String, to b: inout [UInt8]) -> Bool {
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
            b.append(contentsOf: text.utf8)
            return true
        }
        b.append(contentsOf: text.terminalSafe.utf8)
        return false
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
