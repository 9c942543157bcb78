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
        let file = FileRenderer(options: options)
        return ByteCursor.string(initialCapacity: 1024 + record.events.count * 160) { file.write(record, to: &$0) }
    }

    /// Renders the timelines of one input, whose label (made safe for a terminal) is rendered
    /// once rather than once per connection.
    ///
    /// Written as bytes straight into the output: the default output mode prints a timeline
    /// per connection of captures with millions of packets, and building a String per cell
    /// (concatenation, padding, colour) cost many times the connection model. Column widths
    /// are counted from the numbers, not from rendered text: every glyph drawn is one column.
    public struct FileRenderer: Sendable {
        let color: Bool
        /// `label · ` before the packet range in the `capture` row, or nothing.
        private let sourcePrefix: [UInt8]

        public init(options: RenderOptions) {
            color = options.color
            var prefix: [UInt8] = []
            if let source = options.source {
                ByteCursor.append(to: &prefix) { c in
                    _ = c.writeTerminalSafe(source)
                    c.write(" · ")
                }
            }
            sourcePrefix = prefix
        }

        /// Writes `render(_:options:)` for `record`: every line, each ending with a newline.
        public func write(_ record: ConnectionRecord, to c: inout ByteCursor) {
            let timeline = Timeline(record: record, color: color)
            timeline.write(sourcePrefix: sourcePrefix, to: &c)
        }
    }
}

/// One connection's layout and its rendering: the column widths are fixed from the whole
/// record first, so every row of one connection lines up whatever its addresses or numbers.
struct Timeline {
    let r: ConnectionRecord
    let color: Bool
    /// Width of the packet-number column (packet numbers and fold ranges).
    let numberWidth: Int
    /// Width of the relative-time column.
    let timeWidth: Int
    /// A state name (`SYN-RECEIVED` is the longest, 12) plus the change marker.
    static let stateWidth = 13
    /// Columns between the two lifelines.
    let inner: Int

    /// The narrowest ladder: wide enough for `[P.] seq 1,000,000 ack 1,000,000 len 65,535`.
    static let minimumInner = 56
    static let indentWidth = 3
    static let labelWidth = 11

    init(record: ConnectionRecord, color: Bool) {
        r = record
        self.color = color
        var numberWidth = 1, timeWidth = 8, inner = Timeline.minimumInner
        for event in record.events {
            switch event {
            case .packet(let p):
                timeWidth = max(timeWidth, Timeline.relativeWidth(p.time, record.start))
                numberWidth = max(numberWidth, Width.int(p.number))
                inner = max(inner, Timeline.labelWidth(p) + 6)
            case .fold(let f):
                timeWidth = max(timeWidth, Timeline.relativeWidth(f.firstTime, record.start))
                numberWidth = max(numberWidth, Timeline.rangeWidth(f))
                inner = max(inner, Timeline.foldTextWidth(f) + 4)
            case .call(let c):
                timeWidth = max(timeWidth, Timeline.relativeWidth(c.time, record.start))
            case .note(let n):
                timeWidth = max(timeWidth, Timeline.relativeWidth(n.time, record.start))
            }
        }
        self.numberWidth = numberWidth
        self.timeWidth = timeWidth
        self.inner = inner
    }

    /// Columns of a full row.
    var totalWidth: Int { 1 + numberWidth + 2 + timeWidth + 2 + Timeline.stateWidth + 1 + inner + 2 + 1 + Timeline.stateWidth }

    /// Columns before the ladder's left lifeline on a row without a packet state: number,
    /// time and the client's state cell, all blank.
    var blankWidth: Int { 1 + numberWidth + 2 + timeWidth + 2 + Timeline.stateWidth }

    // MARK: Whole connection

    func write(sourcePrefix: [UInt8], to c: inout ByteCursor) {
        header(sourcePrefix: sourcePrefix, &c)
        c.write(0x0a)
        if r.events.isEmpty {
            c.write("   ")
            paint(Style.dim, &c) { $0.write("(no events recorded)") }
            c.write(0x0a)
        } else {
            columnHeader(&c)
            for event in r.events {
                switch event {
                case .packet(let p): packetRow(p, &c)
                case .fold(let f): foldRow(f, &c)
                case .call(let call): callRow(call, &c)
                case .note(let n): noteRow(n, &c)
                }
            }
        }
        if !r.notes.isEmpty {
            c.write(0x0a)
            for note in r.notes {
                c.write("   • ")
                _ = c.writeTerminalSafe(note)
                c.write(0x0a)
            }
        }
        c.write(0x0a)
        ledger(&c)
    }

    // MARK: Colour

    /// ANSI SGR openings (ECMA-48 §8.3.117), as `Painter` writes them.
    enum Style {
        static let bold: StaticString = "\u{1B}[1m", dim: StaticString = "\u{1B}[2m"
        static let red: StaticString = "\u{1B}[31m", green: StaticString = "\u{1B}[32m"
        static let yellow: StaticString = "\u{1B}[33m", cyan: StaticString = "\u{1B}[36m"
        static let dimItalic: StaticString = "\u{1B}[2;3m", boldRed: StaticString = "\u{1B}[1;31m"
        static let reset: StaticString = "\u{1B}[0m"

        /// Bold in the colour of a teardown kind (`Timeline.colour(_:)`).
        static func bold(_ kind: TeardownKind) -> StaticString {
            switch kind {
            case .graceful, .simultaneousClose: return "\u{1B}[1;32m"
            case .abortByOriginator, .abortByResponder, .resetAfterClose, .refused: return "\u{1B}[1;31m"
            case .halfClosed, .unanswered, .open: return "\u{1B}[1;33m"
            }
        }
    }

    /// `body`'s text wrapped in `style` and a reset when colour is on. Every text painted
    /// here is non-empty, as `Painter.paint` requires for it to add the codes.
    @inline(__always)
    func paint(_ style: StaticString, _ c: inout ByteCursor, _ body: (inout ByteCursor) -> Void) {
        if color { c.write(style) }
        body(&c)
        if color { c.write(Style.reset) }
    }

    /// `Painter.dim` label padded to `labelWidth`, after the indent: the start of a header field.
    func field(_ label: StaticString, _ c: inout ByteCursor) {
        c.write("   ")
        paint(Style.dim, &c) {
            $0.write(label)
            $0.writeSpaces(Timeline.labelWidth - label.utf8CodeUnitCount)   // labels are ASCII
        }
    }

    // MARK: Header

    func header(sourcePrefix: [UInt8], _ c: inout ByteCursor) {
        c.write(0x20)
        paint(Style.bold, &c) { c in
            c.write("━━ connection ")
            c.writeInt(r.index)
            c.write(" ━━ client ")
            var titleWidth = 14 + Width.int(r.index) + 11 + 10 + 1
            r.orig.endpoint.withText { c.write($0); titleWidth += $0.count }   // endpoints are ASCII
            c.write(" ⇄ server ")
            r.resp.endpoint.withText { c.write($0); titleWidth += $0.count }
            c.write(0x20)
            c.writeRepeated(Glyph.heavy, count: max(3, totalWidth - 1 - titleWidth))
        }
        c.write(0x0a)

        field("capture", &c)
        c.write(sourcePrefix)
        c.write("packets ")
        c.writeInt(r.firstPacketNumber)
        c.write("–")
        c.writeInt(r.lastPacketNumber)
        c.write(" · ")
        c.writeGrouped(signed: Int64(r.orig.packets + r.resp.packets))
        c.write(" segments (client ")
        c.writeGrouped(signed: Int64(r.orig.packets))
        c.write(", server ")
        c.writeGrouped(signed: Int64(r.resp.packets))
        c.write(")\n")

        field("time", &c)
        c.writeUTC(r.start)
        c.write(" · lasted ")
        c.writeSeconds(nanoseconds: Format.difference(r.end, r.start), decimals: 6)
        c.write(" s\n")

        field("ended", &c)
        paint(Style.bold(r.teardown.kind), &c) { c in
            if r.teardown.midstream { c.write("midstream-") }
            c.write(utf8: r.teardown.kind.rawValue)
        }
        c.write(" — ")
        Wording.writeEnding(r, to: &c) { c in
            c.write(0x0a)
            field("", &c)
        }
        c.write(0x0a)

        field("closed by", &c)
        Wording.writeCloser(r, to: &c)
        c.write(0x0a)

        field("zeek", &c)
        c.write("conn_state ")
        paint(Style.bold, &c) { $0.write(utf8: r.connState.rawValue) }
        c.write(" · history ")
        paint(Style.bold, &c) { c in
            if r.history.isEmpty { c.write(UInt8(ascii: "-")) } else { _ = c.writeTerminalSafe(r.history) }
        }
        c.write(0x0a)

        if let rst = r.rst {
            field("reset", &c)
            paint(Style.red, &c) { c in
                c.write(rst.shape == .withACK ? "[R.]" : "[R]")
            }
            c.write(" from the ")
            c.write(rst.from.roleText)
            c.write(" at packet ")
            c.writeInt(rst.packetNumber)
            if let acked = rst.acknowledged, acked > 0 {
                c.write(", acknowledging ")
                c.writeGrouped(acked)
                c.write(" bytes of the ")
                c.write(rst.from.other.roleText)
                c.write("'s data")
            }
            c.write(0x0a)
            field("", &c)
            c.write(rst.validity.explanationText)
            c.write(0x0a)
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

    /// The fixed-width start of a row: blank packet-number column, relative time, gutter.
    func lead(time: Timestamp, _ c: inout ByteCursor) {
        c.writeSpaces(1 + numberWidth + 2)
        writeTime(time, &c)
    }

    /// Relative time right-aligned in its column, then the two-space gutter.
    @inline(__always)
    func writeTime(_ time: Timestamp, _ c: inout ByteCursor) {
        let mark = c.count
        c.writeSeconds(nanoseconds: Format.difference(time, r.start), decimals: 6)
        c.insertSpaces(timeWidth - (c.count - mark), at: mark)   // ASCII: bytes are columns
        c.write(0x20, 0x20)
    }

    func columnHeader(_ c: inout ByteCursor) {
        let hint: StaticString = "* = state changed by this packet"
        let pad = max(0, inner + 2 - hint.utf8CodeUnitCount)
        paint(Style.dim, &c) { c in
            c.writeSpaces(1 + numberWidth - 1)
            c.write("#  ")
            c.writeSpaces(timeWidth - 4)
            c.write("time  ")
        }
        paint(Style.bold, &c) { c in
            c.writeSpaces(Timeline.stateWidth - 1 - 6)
            c.write("client")
        }
        c.write(0x20, 0x20)
        paint(Style.dim, &c) { c in
            c.writeSpaces(pad / 2)
            c.write(hint)
            c.writeSpaces(pad - pad / 2)
        }
        c.write(0x20)
        paint(Style.bold, &c) { $0.write("server") }
        c.write(0x0a)
    }

    /// `SYN-SENT*`, right-aligned against the client lifeline or left-aligned after the
    /// server's. The marker slot keeps client names flush with their lifeline; server names
    /// need no trailing pad.
    @inline(__always)
    func stateCell(_ state: TCPState, changed: Bool, rightAligned: Bool, _ c: inout ByteCursor) {
        let name = state.text
        if rightAligned { c.writeSpaces(Timeline.stateWidth - 1 - name.utf8CodeUnitCount) }
        paint(changed ? Style.bold : Style.dim, &c) { c in
            c.write(name)
            if changed { c.write(UInt8(ascii: "*")) } else if rightAligned { c.write(0x20) }
        }
    }

    func packetRow(_ p: PacketEvent, _ c: inout ByteCursor) {
        var origChanged = false, respChanged = false
        for t in p.transitions {
            if t.side == .orig { origChanged = true } else { respChanged = true }
        }
        let glyph = p.flags.contains(.rst) ? Glyph.heavy : (p.isRetransmission ? Glyph.dashed : Glyph.light)
        let room = inner - 2 - Timeline.labelWidth(p) - 1  // two spaces round the label, one arrowhead
        let before = max(1, room / 2)
        let after = max(1, room - room / 2)
        let style = Timeline.style(p.flags)

        c.write(0x20)
        let mark = c.count
        c.writeInt(p.number)
        c.insertSpaces(numberWidth - (c.count - mark), at: mark)
        c.write(0x20, 0x20)
        writeTime(p.time, &c)
        stateCell(p.origState, changed: origChanged, rightAligned: true, &c)
        c.write(0x20)
        // The arrow starts on the sender's lifeline and points at the receiver's, which is drawn
        // outside the arrow's colour. (Each end is written as its own literal: a literal's
        // length is then a constant, and the write is three stores.)
        let fromClient = p.from == .orig
        if !fromClient { c.write("│") }
        if let style, color { c.write(style) }
        if fromClient { c.write("├") } else { c.write("◀") }
        c.writeRepeated(glyph, count: before)
        c.write(0x20)
        Timeline.writeLabel(p, &c)
        c.write(0x20)
        c.writeRepeated(glyph, count: after)
        if fromClient { c.write("▶") } else { c.write("┤") }
        if style != nil, color { c.write(Style.reset) }
        if fromClient { c.write("│") }
        c.write(0x20)
        stateCell(p.respState, changed: respChanged, rightAligned: false, &c)
        c.write(0x0a)

        // The model writes every packet note (retransmission, snaplen cut, RST judgement): one source.
        for note in p.notes { ladderNote(note, &c) }
    }

    /// `↳ note` inside the ladder, between the lifelines when it fits.
    func ladderNote(_ note: String, _ c: inout ByteCursor) {
        c.writeSpaces(blankWidth)
        c.write(" │  ")
        var width = 0
        paint(Style.dim, &c) { c in
            c.write("↳ ")
            width = 2 + c.writeTerminalSafe(note)
        }
        let body = 2 + width
        if body + 1 <= inner {
            c.writeSpaces(inner - body)
            c.write("│")
        }
        c.write(0x0a)
    }

    func foldRow(_ f: FoldEvent, _ c: inout ByteCursor) {
        c.write(0x20)
        c.writeSpaces(numberWidth - Timeline.rangeWidth(f))
        c.writeInt(f.firstNumber)
        c.write("–")
        c.writeInt(f.lastNumber)
        c.write(0x20, 0x20)
        writeTime(f.firstTime, &c)
        c.writeSpaces(Timeline.stateWidth)
        c.write(0x20)
        let width = Timeline.foldTextWidth(f)
        if width + 2 <= inner {
            let room = inner - width
            c.write("┊")
            c.writeSpaces(room / 2)
            paint(Style.dim, &c) { Timeline.writeFoldText(f, &$0) }
            c.writeSpaces(room - room / 2)
            c.write("┊")
        } else {
            c.write("┊ ")
            paint(Style.dim, &c) { Timeline.writeFoldText(f, &$0) }
        }
        c.write(0x0a)
    }

    func callRow(_ call: CallEvent, _ c: inout ByteCursor) {
        lead(time: call.time, &c)
        c.writeSpaces(Timeline.stateWidth)
        c.write(0x20)
        if call.side == .orig {
            c.write("├╴")
            let width = callText(call, &c)
            c.writeSpaces(inner - 1 - width)
            c.write("│")
        } else {
            c.write("│")
            let mark = c.count
            let width = callText(call, &c)
            c.insertSpaces(inner - 1 - width, at: mark)
            c.write("╶┤")
        }
        c.write(0x0a)
    }

    /// `shutdown(SHUT_WR) = -1 ENOTCONN  (12 µs)` in cyan; returns its width in columns.
    func callText(_ call: CallEvent, _ c: inout ByteCursor) -> Int {
        var width = 0
        paint(Style.cyan, &c) { c in
            width = c.writeTerminalSafe(call.call) + 3 + Width.int(call.result)
            c.write(" = ")
            c.writeInt(call.result)
            if let e = call.errno {
                c.write(0x20)
                width += 1 + c.writeTerminalSafe(e)
            }
            if let d = call.durationNanoseconds {
                c.write("  (")
                let mark = c.count
                c.writeDuration(nanoseconds: d)
                width += 3 + c.scalarCount(since: mark) + 1
                c.write(UInt8(ascii: ")"))
            }
        }
        return width
    }

    func noteRow(_ n: NoteEvent, _ c: inout ByteCursor) {
        lead(time: n.time, &c)
        paint(Style.dimItalic, &c) { c in
            c.write("— ")
            if let side = n.side {
                c.write(side.roleText)
                c.write(": ")
            }
            _ = c.writeTerminalSafe(n.text)
        }
        c.write(0x0a)
    }

    // MARK: Ledger

    func ledger(_ c: inout ByteCursor) {
        let o = r.orig.bytes, s = r.resp.bytes
        c.write("   ")
        paint(Style.bold, &c) { $0.write("bytes                     ") }
        paint(Style.bold, &c) { $0.write("  client → server") }
        paint(Style.bold, &c) { $0.write("  server → client") }
        c.write(0x0a)
        Timeline.ledgerRow("sent                    ", o.sent, s.sent, &c)
        Timeline.ledgerRow("retransmitted           ", o.retransmitted, s.retransmitted, &c)
        Timeline.ledgerRow("acked                   ", o.acked, s.acked, &c)
        if r.rst != nil || o.inFlightAtRST != nil || s.inFlightAtRST != nil {
            Timeline.ledgerRow("in flight at RST        ", o.inFlightAtRST, s.inFlightAtRST, &c)
        }
        if r.rst != nil || o.sentAfterRST != nil || s.sentAfterRST != nil {
            Timeline.ledgerRow("sent after RST          ", o.sentAfterRST, s.sentAfterRST, &c)
        }
        if o.written != nil || s.written != nil { Timeline.ledgerRow("written by app          ", o.written, s.written, &c) }
        if o.readByPeer != nil || s.readByPeer != nil {
            Timeline.ledgerRow("read by peer app        ", o.readByPeer, s.readByPeer, &c)
        }
        if o.lost != nil || s.lost != nil { Timeline.ledgerRow("lost = written − read   ", o.lost, s.lost, &c) }
        if o.neverSent != nil || s.neverSent != nil { Timeline.ledgerRow("  = never sent          ", o.neverSent, s.neverSent, &c) }
        if o.unacked != nil || s.unacked != nil { Timeline.ledgerRow("  + unacked             ", o.unacked, s.unacked, &c) }
        if o.unread != nil || s.unread != nil { Timeline.ledgerRow("  + unread              ", o.unread, s.unread, &c) }
        for side in Side.allCases {
            if let problem = Timeline.ledgerMismatch(r.side(side).bytes) {
                c.write("   ")
                paint(Style.boldRed, &c) { c in
                    c.write("!! ledger does not add up (")
                    c.write(side == .orig ? "client → server" : "server → client")
                    c.write("): ")
                    c.write(utf8: problem)
                }
                c.write(0x0a)
            }
        }
    }

    /// `     sent                 1,234   5`: a label (padded to 24 columns by the caller),
    /// then one cell per direction right-aligned in 17 columns (`–` when absent).
    @inline(__always)
    static func ledgerRow(_ label: StaticString, _ a: UInt64?, _ b: UInt64?, _ c: inout ByteCursor) {
        c.write("     ")
        c.write(label)
        ledgerCell(a, &c)
        ledgerCell(b, &c)
        c.write(0x0a)
    }

    static func ledgerCell(_ v: UInt64?, _ c: inout ByteCursor) {
        if let v {
            c.writeSpaces(17 - Width.grouped(v))
            c.writeGrouped(v)
        } else {
            c.writeSpaces(16)
            c.write("–")
        }
    }

    /// Why a direction's application rows do not add up, or nil when they do (or are absent).
    /// The identity is `lost = written − read by peer = never sent + unacked + unread`.
    static func ledgerMismatch(_ l: DirectionLedger) -> String? {
        var problems: [String] = []
        func lostText() -> String { l.lost.map { Format.grouped($0) } ?? "missing" }
        if let w = l.written, let rd = l.readByPeer {
            if w < rd {
                problems.append("read by peer \(Format.grouped(rd)) exceeds written \(Format.grouped(w))")
            } else if l.lost != w - rd {
                problems.append("written − read = \(Format.grouped(w - rd)) but lost = \(lostText())")
            }
        }
        if let a = l.neverSent, let b = l.unacked, let c = l.unread {
            let (ab, o1) = a.addingReportingOverflow(b)
            let (sum, o2) = ab.addingReportingOverflow(c)
            if o1 || o2 {
                problems.append("never sent + unacked + unread overflows")
            } else if l.lost != sum {
                problems.append("never sent + unacked + unread = \(Format.grouped(sum)) but lost = \(lostText())")
            }
        }
        return problems.isEmpty ? nil : problems.joined(separator: "; ")
    }

    // MARK: Pieces

    /// Columns of the seconds since the connection's first packet, 6 decimals (negative for
    /// calls made before it), as `writeTime` writes them.
    static func relativeWidth(_ t: Timestamp, _ start: Timestamp) -> Int {
        Width.seconds(nanoseconds: Format.difference(t, start))
    }

    /// `[P.] seq 1 ack 1 len 30,000`: tcpdump's flags and relative numbers (tcpdump(8)).
    static func label(_ p: PacketEvent) -> String { Format.text { writeLabel(p, &$0) } }

    static func writeLabel(_ p: PacketEvent, _ c: inout ByteCursor) {
        c.write(UInt8(ascii: "["))
        c.writeTcpdumpFlags(p.flags)
        c.write("] seq ")
        c.writeGrouped(UInt64(p.relativeSequence))
        if let ack = p.relativeAcknowledgment {
            c.write(" ack ")
            c.writeGrouped(UInt64(ack))
        }
        c.write(" len ")
        c.writeGrouped(signed: Int64(p.payloadLength))
        if p.window == 0 && !p.flags.contains(.rst) { c.write(" win 0") }
        switch p.rstValidity {
        case .inWindow?: c.write(" · in-window")
        case .outOfWindow?: c.write(" · out-of-window")
        default: break
        }
    }

    /// Columns of `label(p)`, counted from its numbers.
    static func labelWidth(_ p: PacketEvent) -> Int {
        var w = 1 + Width.tcpdumpFlags(p.flags) + 6 + Width.grouped(UInt64(p.relativeSequence))
        if let ack = p.relativeAcknowledgment { w += 5 + Width.grouped(UInt64(ack)) }
        w += 5 + Width.grouped(signed: Int64(p.payloadLength))
        if p.window == 0 && !p.flags.contains(.rst) { w += 6 }
        switch p.rstValidity {
        case .inWindow?: w += 12
        case .outOfWindow?: w += 16
        default: break
        }
        return w
    }

    /// `… 9,998 segments, 29,994 bytes (client 20,000 / server 9,994) …`
    static func foldText(_ f: FoldEvent) -> String { Format.text { writeFoldText(f, &$0) } }

    static func writeFoldText(_ f: FoldEvent, _ c: inout ByteCursor) {
        c.write("… ")
        c.writeGrouped(signed: Int64(f.segments))
        c.write(" segments, ")
        c.writeGrouped(f.bytes)
        c.write(" bytes (client ")
        c.writeGrouped(f.origBytes)
        c.write(" / server ")
        c.writeGrouped(f.respBytes)
        c.write(") …")
    }

    /// Columns of `foldText(f)`.
    static func foldTextWidth(_ f: FoldEvent) -> Int {
        2 + Width.grouped(signed: Int64(f.segments)) + 11 + Width.grouped(f.bytes) + 15
            + Width.grouped(f.origBytes) + 10 + Width.grouped(f.respBytes) + 3
    }

    /// Columns of `6–10003`, the packet numbers a fold covers, as `foldRow` writes them.
    static func rangeWidth(_ f: FoldEvent) -> Int { Width.int(f.firstNumber) + 1 + Width.int(f.lastNumber) }

    /// The escape sequence that colours a packet's arrow: RST red, FIN yellow, SYN green (the
    /// most consequential flag wins), else none.
    static func style(_ flags: TCPFlags) -> StaticString? {
        if flags.contains(.rst) { return Style.red }
        if flags.contains(.fin) { return Style.yellow }
        if flags.contains(.syn) { return Style.green }
        return nil
    }
}

/// The three-byte UTF-8 box-drawing glyphs a ladder's arrows are drawn with, one column
/// each, as runs of 32 that a row copies from (an arrow is two runs of 20 or so).
enum Glyph {
    /// `━` U+2501: RSTs and the header rule.
    static let heavy: StaticString = "━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━"
    /// `╌` U+254C: retransmissions.
    static let dashed: StaticString = "╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌"
    /// `─` U+2500: every other segment.
    static let light: StaticString = "────────────────────────────────"
}

/// Columns of formatted values, counted without formatting them: the timeline's layout is
/// fixed from every row's width before the first row is written. Each one equals
/// `displayWidth` of the text the matching writer produces (checked in `WidthTests`).
enum Width {
    /// Decimal digits of `v`.
    static func digits(_ v: UInt64) -> Int {
        var n = 1, rest = v
        while rest >= 10 { rest /= 10; n += 1 }
        return n
    }

    /// `String(v)`.
    static func int(_ v: Int) -> Int { int(Int64(v)) }

    /// `String(v)`.
    static func int(_ v: Int64) -> Int { (v < 0 ? 1 : 0) + digits(v.magnitude) }

    /// `Format.grouped(v)`: the digits and a comma per full group of three after the first.
    static func grouped(_ v: UInt64) -> Int {
        let d = digits(v)
        return d + (d - 1) / 3
    }

    /// `Format.grouped(v)` for a signed value.
    static func grouped(signed v: Int64) -> Int { (v < 0 ? 1 : 0) + grouped(v.magnitude) }

    /// `Format.seconds(nanoseconds:decimals: 6)`.
    static func seconds(nanoseconds: Int64) -> Int {
        let scaled = (nanoseconds.magnitude + 500) / 1_000   // cannot overflow: magnitude <= 2^63
        return (nanoseconds < 0 && scaled != 0 ? 1 : 0) + digits(scaled / 1_000_000) + 7
    }

    /// `TCPFlags.tcpdumpString`: one letter per flag it prints, or `none`.
    static func tcpdumpFlags(_ flags: TCPFlags) -> Int {
        let n = (flags.rawValue & 0xFF).nonzeroBitCount   // F S R P . U E W; not AE
        return n == 0 ? 4 : n
    }
}

extension TCPState {
    /// `rawValue` as a static string (no String to copy the bytes from).
    var text: StaticString {
        switch self {
        case .closed: return "CLOSED"
        case .listen: return "LISTEN"
        case .synSent: return "SYN-SENT"
        case .synReceived: return "SYN-RECEIVED"
        case .established: return "ESTABLISHED"
        case .finWait1: return "FIN-WAIT-1"
        case .finWait2: return "FIN-WAIT-2"
        case .closing: return "CLOSING"
        case .timeWait: return "TIME-WAIT"
        case .closeWait: return "CLOSE-WAIT"
        case .lastAck: return "LAST-ACK"
        }
    }
}

extension ByteCursor {
    /// `count` glyphs from `run`, a run of one three-byte glyph (none when `count` is not
    /// positive): copied a run at a time.
    mutating func writeRepeated(_ run: StaticString, count: Int) {
        guard count > 0, run.hasPointerRepresentation else { return }
        let glyphsPerRun = run.utf8CodeUnitCount / 3
        var left = count
        while left > 0 {
            let n = min(left, glyphsPerRun)
            write(UnsafeRawBufferPointer(start: run.utf8Start, count: n &* 3))
            left &-= n
        }
    }

    /// `TCPFlags.tcpdumpString`, in tcpdump's order (print-tcp.c `tcp_flag_values`): F S R P . U E W.
    mutating func writeTcpdumpFlags(_ flags: TCPFlags) {
        let bits = flags.rawValue
        guard bits & 0xFF != 0 else { write("none"); return }
        if bits & 0x001 != 0 { write(UInt8(ascii: "F")) }
        if bits & 0x002 != 0 { write(UInt8(ascii: "S")) }
        if bits & 0x004 != 0 { write(UInt8(ascii: "R")) }
        if bits & 0x008 != 0 { write(UInt8(ascii: "P")) }
        if bits & 0x010 != 0 { write(UInt8(ascii: ".")) }
        if bits & 0x020 != 0 { write(UInt8(ascii: "U")) }
        if bits & 0x040 != 0 { write(UInt8(ascii: "E")) }
        if bits & 0x080 != 0 { write(UInt8(ascii: "W")) }
    }
}
