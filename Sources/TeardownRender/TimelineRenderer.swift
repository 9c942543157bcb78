import TeardownModel
import TeardownWire

/// The annotated timeline: a connection drawn as a two-column ladder, like Wireshark's flow
/// graph or the figures of TCP/IP Illustrated (Stevens, vol. 1, fig. 18.3).
///
/// ```
///  ━━ connection 1 ━━ client 127.0.0.1:43210 ⇄ server 127.0.0.1:8080 ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━
///    ...header...
///   #      time         client            (* = state changed by this packet)            server
///   1  0.000000      SYN-SENT* ├─────────────── [S] seq 0 len 0 ──────────────────▶│ LISTEN
///   2  0.000041   ESTABLISHED* │◀───────────── [S.] seq 0 ack 1 len 0 ─────────────┤ SYN-RECEIVED*
/// ```
///
/// The client (originator) is the left lifeline, the server (responder) the right one; each
/// side's RFC 9293 state after the packet sits next to its own lifeline. Sequence and
/// acknowledgment numbers are relative, as tcpdump prints them (tcpdump(8), "TCP Packets").
/// Every line ends with a newline; nothing is written anywhere.
public enum TimelineRenderer {
    public static func render(_ record: ConnectionRecord, options: RenderOptions) -> String {
        var timeline = Timeline(record: record, options: options)
        timeline.render()
        return timeline.out
    }
}

/// One rendering in progress: the column layout is fixed from the whole record first, so
/// every row of one connection lines up whatever its addresses or numbers.
struct Timeline {
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
        var numberWidth = 1, timeWidth = 8, inner = Timeline.minimumInner
        for event in record.events {
            timeWidth = max(timeWidth, Timeline.relative(event.time, record.start).utf8.count)
            switch event {
            case .packet(let p):
                numberWidth = max(numberWidth, String(p.number).utf8.count)
                inner = max(inner, Timeline.label(p).displayWidth + 6)
            case .fold(let f):
                numberWidth = max(numberWidth, Timeline.range(f).displayWidth)
                inner = max(inner, Timeline.foldText(f).displayWidth + 4)
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
            line(Timeline.indent + paint.paint("(no events recorded)", Painter.dim))
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
            for note in r.notes { line(Timeline.indent + "• " + note.terminalSafe) }
        }
        line("")
        ledger()
    }

    mutating func line(_ s: String) { out += s; out += "\n" }

    mutating func field(_ label: String, _ value: String) {
        line(Timeline.indent + paint.paint(label.padded(to: Timeline.labelWidth), Painter.dim) + value)
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
        field("time", Format.utc(r.start) + " · lasted " + lasted + " s")
        let name = paint.paint(r.teardown.name, Painter.bold + ";" + Timeline.colour(r.teardown.kind))
        let ending = Wording.ending(r)
        field("ended", name + " — " + (ending.first ?? ""))
        for more in ending.dropFirst() { field("", more) }
        field("closed by", Wording.closer(r))
        field("zeek", "conn_state " + paint.paint(r.connState.rawValue, Painter.bold)
              + " · history " + paint.paint(r.history.isEmpty ? "-" : r.history.terminalSafe, Painter.bold))
        if let rst = r.rst {
            var s = paint.paint("[\(rst.shape.rawValue)]", Painter.red) + " from the \(rst.from.role) at packet \(rst.packetNumber)"
            if let acked = rst.acknowledged, acked > 0 {
                s += ", acknowledging \(Format.grouped(acked)) bytes of the \(rst.from.other.role)'s data"
            }
            field("reset", s)
            field("", rst.validity.explanation)
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
        let t = time.map { Timeline.relative($0, r.start) } ?? ""
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
        let label = Timeline.label(p)
        let glyph = p.flags.contains(.rst) ? "━" : (p.isRetransmission ? "╌" : "─")
        let room = inner - 2 - label.displayWidth - 1  // two spaces round the label, one arrowhead
        let before = String(repeating: glyph, count: max(1, room / 2))
        let after = String(repeating: glyph, count: max(1, room - room / 2))
        let colour = Timeline.colour(p.flags)
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
        let text = Timeline.foldText(f)
        let ladder: String
        if text.displayWidth + 2 <= inner {
            let room = inner - text.displayWidth
            ladder = "┊" + String(repeating: " ", count: room / 2) + paint.paint(text, Painter.dim)
                + String(repeating: " ", count: room - room / 2) + "┊"
        } else {
            ladder = "┊ " + paint.paint(text, Painter.dim)
        }
        line(lead(number: Timeline.range(f), time: f.firstTime) + blankState + " " + ladder)
    }

    mutating func callRow(_ c: CallEvent) {
        var text = c.call.terminalSafe + " = " + String(c.result)
        if let e = c.errno { text += " " + e.terminalSafe }
        if let d = c.durationNanoseconds { text += "  (" + Format.duration(nanoseconds: d) + ")" }
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
            return Timeline.indent + "  " + paint.paint(label.padded(to: 24), style) + cell(a) + cell(b)
        }
        line(Timeline.indent + paint.paint("bytes".padded(to: 26), Painter.bold)
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
            if let problem = Timeline.ledgerMismatch(r.side(side).bytes) {
                let direction = side == .orig ? "client → server" : "server → client"
                line(Timeline.indent + paint.paint("!! ledger does not add up (\(direction)): " + problem,
                                                   Painter.bold + ";" + Painter.red))
            }
        }
    }

    /// Why a direction's application rows do not add up, or nil when they do (or are absent).
    /// The identity is `lost = written − read by peer = never sent + unacked + unread`.
    static func ledgerMismatch(_ l: DirectionLedger) -> String? {
        var problems: [String] = []
        let lostText = l.lost.map { Format.grouped($0) } ?? "missing"
        if let w = l.written, let rd = l.readByPeer {
            if w < rd {
                problems.append("read by peer \(Format.grouped(rd)) exceeds written \(Format.grouped(w))")
            } else if l.lost != w - rd {
                problems.append("written − read = \(Format.grouped(w - rd)) but lost = \(lostText)")
            }
        }
        if let a = l.neverSent, let b = l.unacked, let c = l.unread {
            let (ab, o1) = a.addingReportingOverflow(b)
            let (sum, o2) = ab.addingReportingOverflow(c)
            if o1 || o2 {
                problems.append("never sent + unacked + unread overflows")
            } else if l.lost != sum {
                problems.append("never sent + unacked + unread = \(Format.grouped(sum)) but lost = \(lostText)")
            }
        }
        return problems.isEmpty ? nil : problems.joined(separator: "; ")
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
