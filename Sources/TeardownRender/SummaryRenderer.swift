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

    /// `columns` without the titles (reading a title would retain a String per cell).
    private static let layout: [(width: Int, right: Bool)] = columns.map { ($0.width, $0.right) }

    /// The columns before the endpoints in the wide layout.
    static let wideFixedWidth = columns.dropLast().reduce(0) { $0 + $1.width } + 2 * (columns.count - 1)
    /// The narrowest terminal the wide layout is used on: its fixed columns and a pair of IPv4
    /// endpoints at their longest (`255.255.255.255:65535 ⇄ 255.255.255.255:65535`, 45).
    public static let wideMinimumWidth = wideFixedWidth + 45
    /// The compact layout's first line holds the columns up to `packets`; its second, indented,
    /// the rest.
    static let compactSplit = 6
    static let compactIndent = 4

    /// Whether a terminal of `width` columns (nil: no terminal) gets the compact layout: two
    /// lines per connection, each within 80 columns for IPv4 endpoints.
    public static func isCompact(width: Int?) -> Bool { width.map { $0 < wideMinimumWidth } ?? false }

    /// The column titles, aligned with `line(_:source:)` (two lines in the compact layout).
    public static func header(width: Int? = nil) -> String {
        let titles = columns.map(\.title)
        guard isCompact(width: width) else { return row(titles) }
        return row(Array(titles[..<compactSplit])) + "\n"
            + String(repeating: " ", count: compactIndent) + row(Array(titles[compactSplit...]), from: compactSplit)
    }

    /// One connection: index, teardown, closed by, conn_state, history, packets, payload
    /// bytes each way, duration (seconds), then `client ⇄ server` and the file label if any.
    public static func line(_ record: ConnectionRecord, source: String?) -> String {
        var b: [UInt8] = []
        append(record, source: source, to: &b)
        return String(decoding: b, as: UTF8.self)
    }

    /// Appends `line(_:source:)` (without a newline) to `b`.
    public static func append(_ record: ConnectionRecord, source: String?, to b: inout [UInt8]) {
        let file = FileRenderer(source: source)
        ByteCursor.append(to: &b, initialCapacity: 256) { file.write(record, to: &$0) }
    }

    /// Renders the summary lines of one file, whose label (made safe for a terminal) is
    /// rendered once rather than once per connection.
    ///
    /// Written as bytes straight into the output, cell by cell: this runs once per connection
    /// of a multi-gigabyte capture, and building a String per cell (or per line) cost more
    /// than the whole connection model.
    public struct FileRenderer: Sendable {
        /// `  (label)` after the endpoints, or nothing.
        private let tail: [UInt8]
        private let layout = SummaryRenderer.layout
        /// The terminal's columns, or nil (`RenderOptions.width`).
        private let limit: Int?
        /// Two lines per connection (`isCompact`).
        private let compact: Bool

        public init(source: String?, width: Int? = nil) {
            limit = width
            compact = SummaryRenderer.isCompact(width: width)
            var tail: [UInt8] = []
            if let source {
                ByteCursor.append(to: &tail) { c in
                    c.write("  (")
                    c.writeTerminalSafe(source)
                    c.write(UInt8(ascii: ")"))
                }
            }
            self.tail = tail
        }

        /// Writes `line(_:source:)` for `record`, without a newline; on a terminal, broken
        /// where it is longer than the terminal is wide.
        public func write(_ record: ConnectionRecord, to c: inout ByteCursor) {
            TextWrap.write(limit: limit, indent: 8, &c) { writeCells(record, to: &$0) }
        }

        private func writeCells(_ record: ConnectionRecord, to c: inout ByteCursor) {
            var start = c.count
            c.writeDecimal(UInt64(clamping: record.index))
            pad(from: start, column: 0, &c)

            start = gutter(&c)
            if record.teardown.midstream { c.write("midstream-") }
            c.write(utf8: record.teardown.kind.rawValue)
            pad(from: start, column: 1, &c)

            start = gutter(&c)
            if let closer = record.closedBy { c.write(closer.roleText) } else { c.write(UInt8(ascii: "-")) }
            pad(from: start, column: 2, &c)

            start = gutter(&c)
            c.write(utf8: record.connState.rawValue)
            pad(from: start, column: 3, &c)

            start = gutter(&c)
            var historyWidth = 1
            if record.history.isEmpty { c.write(UInt8(ascii: "-")) } else { historyWidth = c.writeTerminalSafe(record.history) }
            pad(from: start, column: 4, width: historyWidth, &c)

            start = gutter(&c)
            c.writeGrouped(UInt64(clamping: record.orig.packets + record.resp.packets))
            pad(from: start, column: 5, &c)

            if compact {
                c.write(0x0a)
                c.writeSpaces(SummaryRenderer.compactIndent)
            }

            // A direction the capture does not hold (one-sided) is `?`, not 0.
            start = gutter(&c)
            if record.oneSided?.missing == .orig { c.write(UInt8(ascii: "?")) } else { c.writeGrouped(record.orig.payloadBytes) }
            pad(from: start, column: 6, &c)

            start = gutter(&c)
            if record.oneSided?.missing == .resp { c.write(UInt8(ascii: "?")) } else { c.writeGrouped(record.resp.payloadBytes) }
            pad(from: start, column: 7, &c)

            start = gutter(&c)
            c.writeSeconds(nanoseconds: Format.difference(record.end, record.start), decimals: 6)
            pad(from: start, column: 8, &c)

            _ = gutter(&c)
            record.orig.endpoint.withText { c.write($0) }
            c.write(" ⇄ ")
            record.resp.endpoint.withText { c.write($0) }
            c.write(tail)
        }

        /// Pads the cell from `start` to its column; `width` defaults to its length, for the
        /// cells that are ASCII.
        private func pad(from start: Int, column: Int, width: Int? = nil, _ c: inout ByteCursor) {
            guard layout.indices.contains(column) else { return }
            SummaryRenderer.pad(from: start, to: layout[column], width: width ?? c.count - start, &c)
        }
    }

    /// `cells` in the columns from `first` on, the first without a gutter when it is column 0.
    static func row(_ cells: [String], from first: Int = 0) -> String {
        ByteCursor.string { c in
            for (k, cell) in cells.enumerated() {
                let i = first + k
                let start = i > 0 ? gutter(&c) : c.count
                c.write(utf8: cell)
                if layout.indices.contains(i) { pad(from: start, to: layout[i], width: c.scalarCount(since: start), &c) }
            }
        }
    }

    /// The two-space gutter before a column; returns where the cell begins.
    private static func gutter(_ c: inout ByteCursor) -> Int {
        c.write(0x20, 0x20)
        return c.count
    }

    /// Pads the cell that begins at `start` (and runs to the cursor), `width` columns wide, to
    /// its column's width: spaces after it, or before it for a right-aligned column.
    private static func pad(from start: Int, to column: (width: Int, right: Bool), width: Int, _ c: inout ByteCursor) {
        guard column.width > 0 else { return }
        let missing = column.width - width
        guard missing > 0 else { return }
        if column.right {
            c.insertSpaces(missing, at: start)
        } else {
            c.writeSpaces(missing)
        }
    }
}

/// The final count of connections by how they ended, printed after `--summary` output.
public struct TeardownTally: Sendable {
    /// Count per teardown seen, in the order first seen: a handful of entries, searched in
    /// line (cheaper than hashing, once per connection).
    private var counts: [(teardown: Ending, count: Int)] = []
    /// Connections added so far.
    public private(set) var total = 0
    /// Diagnoses by code, in the order of `Diagnosis.Code.allCases` (empty until the first).
    private var diagnoses: [Int] = []

    public init() {}

    public mutating func add(_ record: ConnectionRecord) {
        add(record.teardown, 1)
        for d in record.diagnoses { add(d.code, 1) }
    }

    private mutating func add(_ code: Diagnosis.Code, _ n: Int) {
        if diagnoses.isEmpty { diagnoses = Array(repeating: 0, count: Diagnosis.Code.allCases.count) }
        diagnoses[Diagnosis.Code.allCases.firstIndex(of: code)!] += n
    }

    /// How many diagnoses of `code` were made.
    public func count(_ code: Diagnosis.Code) -> Int {
        diagnoses.isEmpty ? 0 : diagnoses[Diagnosis.Code.allCases.firstIndex(of: code)!]
    }

    private mutating func add(_ teardown: Ending, _ n: Int) {
        if let i = counts.firstIndex(where: { $0.teardown == teardown }) {
            counts[i].count += n
        } else {
            counts.append((teardown, n))
        }
        total += n
    }

    /// How many connections ended this way.
    public func count(_ teardown: Ending) -> Int { counts.first { $0.teardown == teardown }?.count ?? 0 }

    /// Adds another tally's counts (files replayed in parallel, each with its own tally).
    public mutating func merge(_ other: TeardownTally) {
        for (teardown, n) in other.counts { add(teardown, n) }
        for (i, n) in other.diagnoses.enumerated() where n > 0 { add(Diagnosis.Code.allCases[i], n) }
    }

    /// ```
    /// 42 connections by teardown:
    ///   graceful                          30   71.4%
    ///   abort-by-responder                 5   11.9%
    /// ```
    /// Most frequent first; ties in the order `TeardownKind` lists them, mid-stream variants
    /// after their whole counterparts. Every line ends with a newline.
    public func render(color: Bool) -> String {
        ByteCursor.string(initialCapacity: 256) { write(color: color, to: &$0) }
    }

    func write(color: Bool, to c: inout ByteCursor) {
        c.paint(.bold, when: color) { c in
            c.writeGrouped(UInt64(total))
            c.write(" connection")
            if total != 1 { c.write(UInt8(ascii: "s")) }
            if total != 0 { c.write(" by teardown:") }
        }
        c.write(0x0a)
        let order = TeardownKind.allCases
        func rank(_ t: Ending) -> Int { (order.firstIndex(of: t.kind) ?? 0) * 2 + (t.midstream ? 1 : 0) }
        let sorted = counts.sorted { a, b in a.count != b.count ? a.count > b.count : rank(a.teardown) < rank(b.teardown) }
        let countWidth = max(5, Width.grouped(UInt64(total)))
        for (teardown, n) in sorted {
            c.write(0x20, 0x20)
            c.paint(Style.colour(of: teardown.kind).plain, when: color) { c in
                let mark = c.count
                c.write(utf8: teardown.name)
                c.writeSpaces(30 - (c.count - mark))   // names are ASCII
            }
            c.writeSpaces(countWidth - Width.grouped(UInt64(n)))
            c.writeGrouped(UInt64(n))
            c.write(0x20, 0x20)
            TeardownTally.writePercent(n, of: total, to: &c)
            c.write(0x0a)
        }
        writeDiagnoses(color: color, countWidth: countWidth, to: &c)
    }

    /// ```
    /// 3 diagnoses (docs/diagnoses.md):
    ///   keepalive-race                     2
    ///   harmless-reset                     1
    /// ```
    /// Only when a diagnosis was made, so a summary without one reads as before. Most frequent
    /// first, ties in the order of `Diagnosis.Code`.
    func writeDiagnoses(color: Bool, countWidth: Int, to c: inout ByteCursor) {
        let made = diagnoses.reduce(0, +)
        guard made > 0 else { return }
        c.paint(.bold, when: color) { c in
            c.writeGrouped(UInt64(made))
            c.write(made == 1 ? " diagnosis" : " diagnoses")
            c.write(" (docs/diagnoses.md):")
        }
        c.write(0x0a)
        let codes = Diagnosis.Code.allCases
        let order = diagnoses.indices.filter { diagnoses[$0] > 0 }
            .sorted { diagnoses[$0] != diagnoses[$1] ? diagnoses[$0] > diagnoses[$1] : $0 < $1 }
        let width = max(countWidth, Width.grouped(UInt64(made)))
        for i in order {
            c.write(0x20, 0x20)
            let mark = c.count
            c.write(utf8: codes[i].rawValue)
            c.writeSpaces(30 - (c.count - mark))   // codes are ASCII
            c.writeSpaces(width - Width.grouped(UInt64(diagnoses[i])))
            c.writeGrouped(UInt64(diagnoses[i]))
            c.write(0x0a)
        }
    }

    /// `  71.4%` (six columns), rounded half up with integer arithmetic; `–` of nothing.
    static func writePercent(_ n: Int, of total: Int, to c: inout ByteCursor) {
        guard total > 0 else { c.writeSpaces(5); c.write("–"); return }
        let permille = (n.multipliedReportingOverflow(by: 1000).partialValue + total / 2) / total
        let mark = c.count
        c.writeInt(permille / 10)
        c.write(UInt8(ascii: "."))
        c.writeInt(permille % 10)
        c.write(UInt8(ascii: "%"))
        c.insertSpaces(6 - (c.count - mark), at: mark)
    }
}
