import TeardownModel
import TeardownWire

/// `--format tsv`: a header line naming the columns, then one tab-separated line per
/// connection, for awk, `sort -t$'\t'`, `cut` and spreadsheets.
///
/// The columns are stable (docs/output.md lists them; a new one is only ever added at the end)
/// and named as the JSON keys are (`orig`/`resp` for the client and the server). Numbers are
/// written raw: integers without thousands separators, times as seconds since the epoch and
/// durations as seconds, both with nine decimals. A value the input cannot tell (a direction
/// that was not captured, a ledger row without socket calls, no RST) is an empty field, never
/// 0. In text fields a tab, newline, carriage return and backslash are written `\t`, `\n`, `\r`
/// and `\\`, other control characters `\xNN`, so a line is always one record.
public enum TSVRenderer {
    /// The ledger rows each direction has a column for, in order.
    static let ledgerRows: [StaticString] = ["sent", "retransmitted", "acked", "in_flight_at_rst", "written", "read_by_peer", "lost"]

    /// The column names, in order.
    public static let columns: [String] = {
        var names = ["file", "index", "orig_addr", "orig_port", "resp_addr", "resp_port", "teardown", "closed_by",
                     "conn_state", "history", "rst_from", "start", "end", "duration",
                     "orig_packets", "resp_packets", "orig_payload_bytes", "resp_payload_bytes"]
        for side in ["orig", "resp"] {
            for row in ledgerRows { names.append("\(side)_\(row)") }
        }
        names.append("diagnoses")
        return names
    }()

    /// The header line (without a newline).
    public static func header() -> String { columns.joined(separator: "\t") }

    /// Renders the lines of one file, whose label (escaped) is rendered once.
    public struct FileRenderer: Sendable {
        private let label: [UInt8]

        public init(source: String?) {
            var label: [UInt8] = []
            if let source { ByteCursor.append(to: &label) { TSVRenderer.writeEscaped(source, to: &$0) } }
            self.label = label
        }

        /// One connection's line, without a newline.
        public func write(_ r: ConnectionRecord, to c: inout ByteCursor) {
            let tab = UInt8(ascii: "\t")
            c.write(label); c.write(tab)
            c.writeInt(r.index); c.write(tab)
            for s in [r.orig, r.resp] {
                s.endpoint.address.withText { c.write($0) }; c.write(tab)
                c.writeInt(Int(s.endpoint.port)); c.write(tab)
            }
            c.write(utf8: r.teardown.name); c.write(tab)
            if let closer = r.closedBy { c.write(utf8: closer.rawValue) }
            c.write(tab)
            c.write(utf8: r.connState.rawValue); c.write(tab)
            TSVRenderer.writeEscaped(r.history, to: &c); c.write(tab)
            if let rst = r.rst { c.write(utf8: rst.from.rawValue) }
            c.write(tab)
            c.writeSeconds(nanoseconds: r.start.nanoseconds, decimals: 9); c.write(tab)
            c.writeSeconds(nanoseconds: r.end.nanoseconds, decimals: 9); c.write(tab)
            c.writeSeconds(nanoseconds: Format.difference(r.end, r.start), decimals: 9); c.write(tab)
            // A direction the capture does not hold (one-sided) has no counts.
            for side in Side.allCases {
                if r.oneSided?.missing != side { c.writeInt(r.side(side).packets) }
                c.write(tab)
            }
            for side in Side.allCases {
                if r.oneSided?.missing != side { c.writeDecimal(r.side(side).payloadBytes) }
                c.write(tab)
            }
            for side in Side.allCases {
                let l = r.side(side).bytes
                let values: [UInt64?] = [
                    l.unknown.contains(.sent) ? nil : l.sent,
                    l.unknown.contains(.retransmitted) ? nil : l.retransmitted,
                    l.unknown.contains(.acked) ? nil : l.acked,
                    l.unknown.contains(.inFlightAtRST) ? nil : l.inFlightAtRST,
                    l.written, l.readByPeer, l.lost,
                ]
                for v in values {
                    if let v { c.writeDecimal(v) }
                    c.write(tab)
                }
            }
            for (i, d) in r.diagnoses.enumerated() {
                if i > 0 { c.write(UInt8(ascii: ",")) }
                c.write(utf8: d.code.rawValue)
            }
        }
    }

    /// `text` with its tab, newline, carriage return and backslash escaped as `\t`, `\n`, `\r`,
    /// `\\` and other control characters as `\xNN`.
    static func writeEscaped(_ text: String, to c: inout ByteCursor) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        for b in text.utf8 {
            switch b {
            case 0x09: c.write(UInt8(ascii: "\\"), UInt8(ascii: "t"))
            case 0x0a: c.write(UInt8(ascii: "\\"), UInt8(ascii: "n"))
            case 0x0d: c.write(UInt8(ascii: "\\"), UInt8(ascii: "r"))
            case 0x5c: c.write(UInt8(ascii: "\\"), UInt8(ascii: "\\"))
            case 0..<0x20, 0x7f:
                c.write(UInt8(ascii: "\\"), UInt8(ascii: "x"))
                c.write(hex[Int(b >> 4)], hex[Int(b & 0xf)])
            default: c.write(b)
            }
        }
    }
}
