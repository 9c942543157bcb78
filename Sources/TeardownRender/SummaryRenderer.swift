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
        var s = row([
            String(record.index),
            record.teardown.name,
            record.closedBy?.role ?? "-",
            record.connState.rawValue,
            record.history.isEmpty ? "-" : record.history.terminalSafe,
            Format.grouped(record.orig.packets + record.resp.packets),
            Format.grouped(record.orig.payloadBytes),
            Format.grouped(record.resp.payloadBytes),
            Format.seconds(nanoseconds: Format.difference(record.end, record.start), decimals: 6),
            "\(record.orig.endpoint) ⇄ \(record.resp.endpoint)",
        ])
        if let source { s += "  (" + source.terminalSafe + ")" }
        return s
    }

    static func row(_ cells: [String]) -> String {
        var s = ""
        for (i, cell) in cells.enumerated() {
            let c = columns[i]
            if i > 0 { s += "  " }
            s += c.width == 0 ? cell : (c.right ? cell.leftPadded(to: c.width) : cell.padded(to: c.width))
        }
        return s
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
