import TeardownModel
import TeardownWire
@testable import TeardownRender

// The String-building timeline renderer as it was before the byte renderer replaced it
// (commit 9087b16), kept verbatim as an oracle: `TimelineEquivalenceTests` checks that the
// byte renderer prints exactly what this printed, on the fixtures and on perturbed records.
// Pieces with tests of their own are called, not copied: `Timeline.ledgerMismatch`, which the
// byte renderer did not rewrite (`TimelineTests`), `Format`'s numbers (`FormatTests`) and `Painter`.

// The String role names the renderer had; it now writes static strings (`roleText`).
extension Side {
    var role: String { self == .orig ? "client" : "server" }
}

extension ClosedBy {
    var role: String {
        switch self {
        case .orig: return "client"
        case .resp: return "server"
        case .both: return "both"
        }
    }
}

/// One rendering in progress: the column layout is fixed from the whole record first, so
/// every row of one connection lines up whatever its addresses or numbers.
struct ReferenceTimeline {
    let r: ConnectionRecord
    let options: RenderOptions
    let paint: Painter
    /// Width of the packet-number column (packet numbers and fold ranges).
    let numberWidth: Int
    /// Width of the relative-time column.
    let timeWidth: Int
    /// A state name (`SYN-RECEIVED` is the longest, 12) plus the change marker.
    let stateWidth = 13
    /// Columns between the two lifelines.
    let inner: Int
    var out = ""

    /// The narrowest ladder: wide enough for `[P.] seq 1,000,000 ack 1,000,000 len 65,535`.
    static let minimumInner = 56
    static let indent = "   "
    static let labelWidth = 11

    init(record: ConnectionRecord, options: RenderOptions) {
        r = record
        self.options = options
        paint = Painter(enabled: options.color)
        var numberWidth = 1, timeWidth = 8, inner = ReferenceTimeline.minimumInner
        for event in record.events {
            timeWidth = max(timeWidth, ReferenceTimeline.relative(event.time, record.start).utf8.count)
            switch event {
            case .packet(let p):
                numberWidth = max(numberWidth, String(p.number).utf8.count)
                inner = max(inner, ReferenceTimeline.label(p).displayWidth + 6)
            case .fold(let f):
                numberWidth = max(numberWidth, ReferenceTimeline.range(f).displayWidth)
                inner = max(inner, ReferenceTimeline.foldText(f).displayWidth + 4)
            case .call, .note:
                break
            }
        }
        self.numberWidth = numberWidth
        self.timeWidth = timeWidth
        self.inner = inner
        out.reserveCapacity(256 + record.events.count * (inner + 60))
    }

    /// Columns of a full row.
    var totalWidth: Int { 1 + numberWidth + 2 + timeWidth + 2 + stateWidth + 1 + inner + 2 + 1 + stateWidth }

    // MARK: Whole connection

    mutating func render() {
        header()
        line("")
        if r.events.isEmpty {
            line(ReferenceTimeline.indent + paint.paint("(no events recorded)", Painter.dim))
        } else {
            columnHeader()
            for event in r.events {
                switch event {
                case .packet(let p): packetRow(p)
                case .fold(let f): foldRow(f)
                case .call(let c): callRow(c)
                case .note(let n): noteRow(n)
                }
            }
        }
        if !r.notes.isEmpty {
            line("")
            for note in r.notes { line(ReferenceTimeline.indent + "• " + note.terminalSafe) }
        }
        line("")
        ledger()
    }

    mutating func line(_ s: String) { out += s; out += "\n" }

    mutating func field(_ label: String, _ value: String) {
        line(ReferenceTimeline.indent + paint.paint(label.padded(to: ReferenceTimeline.labelWidth), Painter.dim) + value)
    }

    // MARK: Header

    mutating func header() {
        let title = "━━ connection \(r.index) ━━ client \(r.orig.endpoint) ⇄ server \(r.resp.endpoint) "
        let rule = String(repeating: "━", count: max(3, totalWidth - 1 - title.displayWidth))
        line(" " + paint.paint(title + rule, Painter.bold))

        var capture = options.source.map { $0.terminalSafe + " · " } ?? ""
        capture += "packets \(r.firstPacketNumber)–\(r.lastPacketNumber) · "
        capture += "\(Format.grouped(r.orig.packets + r.resp.packets)) segments "
        capture += "(client \(Format.grouped(r.orig.packets)), server \(Format.grouped(r.resp.packets)))"
        field("capture", capture)
        let lasted = Format.seconds(nanoseconds: Format.difference(r.end, r.start), decimals: 6)
        field("time", ReferenceWording.utc(r.start) + " · lasted " + lasted + " s")
        let name = paint.paint(r.teardown.name, Painter.bold + ";" + ReferenceTimeline.colour(r.teardown.kind))
        let ending = ReferenceWording.ending(r)
        field("ended", name + " — " + (ending.first ?? ""))
        for more in ending.dropFirst() { field("", more) }
        field("closed by", ReferenceWording.closer(r))
        field("zeek", "conn_state " + paint.paint(r.connState.rawValue, Painter.bold)
              + " · history " + paint.paint(r.history.isEmpty ? "-" : r.history.terminalSafe, Painter.bold))
        if let rst = r.rst {
            var s = paint.paint("[\(rst.shape.rawValue)]", Painter.red) + " from the \(rst.from.role) at packet \(rst.packetNumber)"
            if let acked = rst.acknowledged, acked > 0 {
                s += ", acknowledging \(Format.grouped(acked)) bytes of the \(rst.from.other.role)'s data"
            }
            field("reset", s)
            field("", ReferenceWording.explanation(rst.validity))
        }
    }

    /// Colour of a teardown kind: red for the abrupt endings, yellow for the unfinished ones.
    static func colour(_ kind: TeardownKind) -> String {
        switch kind {
        case .graceful, .simultaneousClose: return Painter.green
        case .abortByOriginator, .abortByResponder, .resetAfterClose, .refused: return Painter.red
        case .halfClosed, .unanswered, .open: return Painter.yellow
        }
    }

    // MARK: Rows

    /// The fixed-width start of every row: packet number and relative time.
    func lead(number: String, time: Timestamp?) -> String {
        let t = time.map { ReferenceTimeline.relative($0, r.start) } ?? ""
        return " " + number.leftPadded(to: numberWidth) + "  " + t.leftPadded(to: timeWidth) + "  "
    }

    var blankLead: String { String(repeating: " ", count: 1 + numberWidth + 2 + timeWidth + 2) }
    var blankState: String { String(repeating: " ", count: stateWidth) }

    mutating func columnHeader() {
        let hint = "* = state changed by this packet"
        let pad = max(0, inner + 2 - hint.displayWidth)
        let ladder = String(repeating: " ", count: pad / 2) + hint + String(repeating: " ", count: pad - pad / 2)
        line(paint.paint(" " + "#".leftPadded(to: numberWidth) + "  " + "time".leftPadded(to: timeWidth) + "  ", Painter.dim)
             + paint.paint("client".leftPadded(to: stateWidth - 1), Painter.bold) + "  "
             + paint.paint(ladder, Painter.dim) + " " + paint.paint("server", Painter.bold))
    }

    /// `SYN-SENT*`, right-aligned against the client lifeline or left-aligned after the server's.
    func stateCell(_ state: TCPState, changed: Bool, rightAligned: Bool) -> String {
        // The marker slot keeps client names flush with their lifeline; server names need no trailing pad.
        let text = state.rawValue + (changed ? "*" : (rightAligned ? " " : ""))
        let styled = paint.paint(text, changed ? Painter.bold : Painter.dim)
        let pad = String(repeating: " ", count: max(0, stateWidth - text.displayWidth))
        return rightAligned ? pad + styled : styled
    }

    mutating func packetRow(_ p: PacketEvent) {
        let changed = Set(p.transitions.map(\.side))
        let label = ReferenceTimeline.label(p)
        let glyph = p.flags.contains(.rst) ? "━" : (p.isRetransmission ? "╌" : "─")
        let room = inner - 2 - label.displayWidth - 1  // two spaces round the label, one arrowhead
        let before = String(repeating: glyph, count: max(1, room / 2))
        let after = String(repeating: glyph, count: max(1, room - room / 2))
        let colour = ReferenceTimeline.colour(p.flags)
        let ladder: String
        if p.from == .orig {
            ladder = paint.paint("├" + before + " " + label + " " + after + "▶", colour) + "│"
        } else {
            ladder = "│" + paint.paint("◀" + before + " " + label + " " + after + "┤", colour)
        }
        line(lead(number: String(p.number), time: p.time)
             + stateCell(p.origState, changed: changed.contains(.orig), rightAligned: true) + " "
             + ladder + " "
             + stateCell(p.respState, changed: changed.contains(.resp), rightAligned: false))

        // The model writes every packet note (retransmission, snaplen cut, RST judgement): one source.
        for note in p.notes { ladderText("↳ " + note.terminalSafe, style: Painter.dim) }
    }

    /// A line of text inside the ladder, between the lifelines when it fits.
    mutating func ladderText(_ text: String, style: String) {
        let body = "  " + text
        let styled = paint.paint(text, style)
        if body.displayWidth + 1 <= inner {
            let pad = String(repeating: " ", count: inner - body.displayWidth)
            line(blankLead + blankState + " │  " + styled + pad + "│")
        } else {
            line(blankLead + blankState + " │  " + styled)
        }
    }

    mutating func foldRow(_ f: FoldEvent) {
        let text = ReferenceTimeline.foldText(f)
        let ladder: String
        if text.displayWidth + 2 <= inner {
            let room = inner - text.displayWidth
            ladder = "┊" + String(repeating: " ", count: room / 2) + paint.paint(text, Painter.dim)
                + String(repeating: " ", count: room - room / 2) + "┊"
        } else {
            ladder = "┊ " + paint.paint(text, Painter.dim)
        }
        line(lead(number: ReferenceTimeline.range(f), time: f.firstTime) + blankState + " " + ladder)
    }

    mutating func callRow(_ c: CallEvent) {
        var text = c.call.terminalSafe + " = " + String(c.result)
        if let e = c.errno { text += " " + e.terminalSafe }
        if let d = c.durationNanoseconds { text += "  (" + ReferenceWording.duration(nanoseconds: d) + ")" }
        let styled = paint.paint(text, Painter.cyan)
        let pad = String(repeating: " ", count: max(0, inner - 1 - text.displayWidth))
        let ladder: String
        if c.side == .orig {
            ladder = "├╴" + styled + pad + "│"
        } else {
            ladder = "│" + pad + styled + "╶┤"
        }
        line(lead(number: "", time: c.time) + blankState + " " + ladder)
    }

    mutating func noteRow(_ n: NoteEvent) {
        let text = "— " + (n.side.map { $0.role + ": " } ?? "") + n.text.terminalSafe
        line(lead(number: "", time: n.time) + paint.paint(text, Painter.dim + ";" + Painter.italic))
    }

    // MARK: Ledger

    mutating func ledger() {
        let o = r.orig.bytes, s = r.resp.bytes
        let valueWidth = 17
        func row(_ label: String, _ a: UInt64?, _ b: UInt64?, style: String? = nil) -> String {
            func cell(_ v: UInt64?) -> String { (v.map { Format.grouped($0) } ?? "–").leftPadded(to: valueWidth) }
            return ReferenceTimeline.indent + "  " + paint.paint(label.padded(to: 24), style) + cell(a) + cell(b)
        }
        line(ReferenceTimeline.indent + paint.paint("bytes".padded(to: 26), Painter.bold)
             + paint.paint("client → server".leftPadded(to: valueWidth), Painter.bold)
             + paint.paint("server → client".leftPadded(to: valueWidth), Painter.bold))
        line(row("sent", o.sent, s.sent))
        line(row("retransmitted", o.retransmitted, s.retransmitted))
        line(row("acked", o.acked, s.acked))
        if r.rst != nil || o.inFlightAtRST != nil || s.inFlightAtRST != nil {
            line(row("in flight at RST", o.inFlightAtRST, s.inFlightAtRST))
        }
        if r.rst != nil || o.sentAfterRST != nil || s.sentAfterRST != nil {
            line(row("sent after RST", o.sentAfterRST, s.sentAfterRST))
        }
        let application: [(String, KeyPath<DirectionLedger, UInt64?>)] = [
            ("written by app", \.written), ("read by peer app", \.readByPeer),
            ("lost = written − read", \.lost), ("  = never sent", \.neverSent),
            ("  + unacked", \.unacked), ("  + unread", \.unread),
        ]
        for (label, key) in application where o[keyPath: key] != nil || s[keyPath: key] != nil {
            line(row(label, o[keyPath: key], s[keyPath: key]))
        }
        for side in Side.allCases {
            if let problem = Timeline.ledgerMismatch(r.side(side).bytes) {   // not rewritten: the renderer's own
                let direction = side == .orig ? "client → server" : "server → client"
                line(ReferenceTimeline.indent + paint.paint("!! ledger does not add up (\(direction)): " + problem,
                                                   Painter.bold + ";" + Painter.red))
            }
        }
    }

    // MARK: Pieces

    /// Seconds since the connection's first packet, 6 decimals (negative for calls made before it).
    static func relative(_ t: Timestamp, _ start: Timestamp) -> String {
        Format.seconds(nanoseconds: Format.difference(t, start), decimals: 6)
    }

    /// `[P.] seq 1 ack 1 len 30,000`: tcpdump's flags and relative numbers (tcpdump(8)).
    static func label(_ p: PacketEvent) -> String {
        var s = "[" + p.flags.tcpdumpString + "] seq " + Format.grouped(UInt64(p.relativeSequence))
        if let ack = p.relativeAcknowledgment { s += " ack " + Format.grouped(UInt64(ack)) }
        s += " len " + Format.grouped(p.payloadLength)
        if p.window == 0 && !p.flags.contains(.rst) { s += " win 0" }
        if let v = p.rstValidity, v == .inWindow || v == .outOfWindow { s += " · " + v.rawValue }
        return s
    }

    /// `… 9,998 segments, 29,994 bytes (client 20,000 / server 9,994) …`
    static func foldText(_ f: FoldEvent) -> String {
        "… \(Format.grouped(f.segments)) segments, \(Format.grouped(f.bytes)) bytes "
            + "(client \(Format.grouped(f.origBytes)) / server \(Format.grouped(f.respBytes))) …"
    }

    /// `6–10003`: the packet numbers a fold covers.
    static func range(_ f: FoldEvent) -> String { "\(f.firstNumber)–\(f.lastNumber)" }

    /// RST red, FIN yellow, SYN green (the most consequential flag wins), else no colour.
    static func colour(_ flags: TCPFlags) -> String? {
        if flags.contains(.rst) { return Painter.red }
        if flags.contains(.fin) { return Painter.yellow }
        if flags.contains(.syn) { return Painter.green }
        return nil
    }
}

enum ReferenceWording {
    /// Why `closedBy` names that side: it sent the RST, the first FIN, or both FINs crossed.
    static func closer(_ r: ConnectionRecord) -> String {
        guard let c = r.closedBy else { return "nobody: no FIN or RST was seen" }
        switch (c, r.teardown.kind) {
        case (.both, _): return "both: the FINs crossed"
        case (_, .abortByOriginator), (_, .abortByResponder), (_, .refused): return c.role + " (sent the RST)"
        default: return c.role + " (sent the first FIN)"
        }
    }

    /// How the connection ended, from the classification and who closed: the main sentence
    /// first, then qualifications (half-close, mid-stream), one per line of the header.
    static func ending(_ r: ConnectionRecord) -> [String] {
        let closer = r.closedBy?.role
        var s: String
        switch r.teardown.kind {
        case .graceful:
            switch r.closedBy {
            case .orig?, .resp?:
                let first = closer ?? "client"
                let second = r.closedBy == .orig ? "server" : "client"
                s = "the \(first) closed first, then the \(second); both FINs were acknowledged"
            case .both?: s = "both sides closed; both FINs were acknowledged"
            case nil: s = "FIN both ways, both acknowledged"
            }
        case .halfClosed:
            if let c = r.closedBy, c != .both {
                let other = c == .orig ? "server" : "client"
                s = "the \(c.role) sent FIN; the \(other) had not closed when the capture ended"
            } else {
                s = "one side sent FIN; the other had not closed when the capture ended"
            }
        case .simultaneousClose:
            s = "the FINs crossed: each side closed before it saw the other's FIN"
        case .abortByOriginator:
            s = "the client reset the connection while it was open"
        case .abortByResponder:
            s = "the server reset the connection while it was open"
        case .resetAfterClose:
            if let rst = r.rst {
                s = "a bare RST from the \(rst.from.role) answered data sent to its closed socket"
            } else {
                s = "a bare RST answered data sent to a closed socket"
            }
        case .refused:
            s = "the server answered the SYN with RST: nothing was listening"
        case .unanswered:
            s = "the client's SYN got no answer"
        case .open:
            s = "no ending was seen before the capture ended"
        }
        var lines = [s]
        if r.halfClose, let c = r.closedBy, c != .both {
            let other = c == .orig ? "server" : "client"
            lines.append("the \(other) kept sending after the \(c.role)'s FIN (half-close)")
        } else if r.halfClose {
            lines.append("data was sent after the first FIN (half-close)")
        }
        if r.teardown.midstream {
            lines.append("the capture joined mid-stream, so the start is missing")
        }
        return lines
    }

    static func explanation(_ v: RSTValidity) -> String {
        switch v {
        case .exact: return "exact sequence number: the receiver accepts it and the connection is reset"
        case .inWindow: return "in window but not exact: Linux answers with a challenge ACK and the connection survives (RFC 5961 §3.2)"
        case .outOfWindow: return "out of window: the receiver drops it silently (RFC 5961 §3.2)"
        case .unknown: return "the receiver's window was not seen, so its verdict is unknown"
        }
    }

    /// A call's duration in the unit that reads best: `850 ns`, `12 µs`, `1.234 ms`, `2.000000 s`.
    static func duration(nanoseconds ns: Int64) -> String {
        let m = ns.magnitude
        let sign = ns < 0 ? "-" : ""
        if m < 1_000 { return sign + String(m) + " ns" }
        if m < 1_000_000 { return sign + String((m + 500) / 1_000) + " µs" }
        if m < 1_000_000_000 {
            let micros = (m + 500) / 1_000
            return sign + String(micros / 1_000) + "." + Format.zeroPadded(micros % 1_000, width: 3) + " ms"
        }
        return Format.seconds(nanoseconds: ns, decimals: 6) + " s"
    }

    /// UTC calendar time, `2024-05-01 12:00:00.123456 UTC`, from nanoseconds since the epoch
    /// (sub-microsecond digits are dropped, not rounded, so the second never rolls over).
    /// Civil-from-days after H. Hinnant, "chrono-Compatible Low-Level Date Algorithms".
    static func utc(_ t: Timestamp) -> String {
        let ns = t.nanoseconds
        var secs = ns / 1_000_000_000
        var sub = ns % 1_000_000_000
        if sub < 0 { sub += 1_000_000_000; secs -= 1 }
        var days = secs / 86_400
        var sod = secs % 86_400
        if sod < 0 { sod += 86_400; days -= 1 }
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ v: Int64) -> String { Format.zeroPadded(UInt64(v), width: 2) }
        return "\(year)-\(two(month))-\(two(day)) \(two(sod / 3600)):\(two(sod % 3600 / 60)):\(two(sod % 60))."
            + Format.zeroPadded(UInt64(sub) / 1_000, width: 6) + " UTC"
    }
}
