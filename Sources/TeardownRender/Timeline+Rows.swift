import TeardownKernel
import TeardownModel
import TeardownWire

/// The ladder's rows: the column header, then one row per packet, fold, socket call and note
/// (packet rows with their ladder notes).
extension Timeline {
    /// The fixed-width start of a row: blank packet-number column, relative time, gutter.
    func lead(time: Timestamp, _ c: inout ByteCursor) {
        c.writeSpaces(margin + numberWidth + gap)
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
            c.writeSpaces(margin + numberWidth - 1)
            c.write(UInt8(ascii: "#"))
            c.writeSpaces(gap)
            c.writeSpaces(timeWidth - 4)
            c.write("time  ")
        }
        paint(Style.bold, &c) { c in
            c.writeSpaces(stateWidth - 1 - 6)
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
        let name = compact ? state.shortText : state.text
        if rightAligned { c.writeSpaces(stateWidth - 1 - name.utf8CodeUnitCount) }
        paint(changed ? Style.bold : Style.dim, &c) { c in
            c.write(name)
            if changed { c.write(UInt8(ascii: "*")) } else if rightAligned { c.write(0x20) }
        }
    }

    /// A packet's row; `labelWidth` is its label's columns, as the layout measured them.
    func packetRow(_ p: PacketEvent, labelWidth: Int, _ c: inout ByteCursor) {
        var origChanged = false, respChanged = false
        for t in p.transitions {
            if t.side == .orig { origChanged = true } else { respChanged = true }
        }
        let glyph = p.flags.contains(.rst) ? Glyph.heavy : (p.isRetransmission ? Glyph.dashed : Glyph.light)
        let room = inner - 2 - labelWidth - 1  // two spaces round the label, one arrowhead
        let before = max(1, room / 2)
        let after = max(1, room - room / 2)
        let style = Timeline.style(p.flags)

        if !compact { c.write(0x20) }
        let mark = c.count
        c.writeInt(p.number)
        c.insertSpaces(numberWidth - (c.count - mark), at: mark)
        c.writeSpaces(gap)
        writeTime(p.time, &c)
        stateCell(p.origState, changed: origChanged, rightAligned: true, &c)
        c.write(0x20)
        // The arrow starts on the sender's lifeline and points at the receiver's, which is drawn
        // outside the arrow's colour. (Each end is written as its own literal: a literal's
        // length is then a constant, and the write is three stores.)
        let fromClient = p.from == .orig
        if !fromClient { c.write("│") }
        if let style, color { c.write(style.sgr) }
        if fromClient { c.write("├") } else { c.write("◀") }
        c.writeRepeated(glyph, count: before)
        c.write(0x20)
        Timeline.writeLabel(p, compact: compact, &c)
        c.write(0x20)
        c.writeRepeated(glyph, count: after)
        if fromClient { c.write("▶") } else { c.write("┤") }
        if style != nil, color { c.write(Style.reset) }
        if fromClient { c.write("│") }
        c.write(0x20)
        stateCell(p.respState, changed: respChanged, rightAligned: false, &c)
        c.write(0x0a)

        // Every packet note (retransmission, snaplen cut, RST judgement) comes from the model.
        for note in p.notes {
            TextWrap.write(limit: limit, indent: blankWidth + 6, &c) { ladderNote(note, &$0) }
        }
    }

    /// `↳ note` inside the ladder, between the lifelines when it fits.
    func ladderNote(_ note: Note, _ c: inout ByteCursor) {
        c.writeSpaces(blankWidth)
        c.write(" │  ")
        var width = 0
        paint(Style.dim, &c) { c in
            c.write("↳ ")
            let mark = c.count
            note.write(to: &c)
            width = 2 + c.scalarCount(since: mark)
        }
        let body = 2 + width
        if body + 1 <= inner {
            c.writeSpaces(inner - body)
            c.write("│")
        }
        c.write(0x0a)
    }

    func foldRow(_ f: FoldEvent, _ c: inout ByteCursor) {
        c.writeSpaces(margin + numberWidth - Timeline.rangeWidth(f))
        Timeline.writeRange(f, &c)
        c.writeSpaces(gap)
        writeTime(f.firstTime, &c)
        c.writeSpaces(stateWidth)
        c.write(0x20)
        // The compact ladder leaves out the bytes by direction when they do not fit (the
        // ledger under the timeline has them).
        let short = compact && Timeline.foldTextWidth(f) + 2 > inner
        let width = Timeline.foldTextWidth(f, short: short)
        if width + 2 <= inner {
            let room = inner - width
            c.write("┊")
            c.writeSpaces(room / 2)
            paint(Style.dim, &c) { Timeline.writeFoldText(f, short: short, &$0) }
            c.writeSpaces(room - room / 2)
            c.write("┊")
        } else {
            c.write("┊ ")
            paint(Style.dim, &c) { Timeline.writeFoldText(f, short: short, &$0) }
        }
        c.write(0x0a)
    }

    func callRow(_ call: CallEvent, _ c: inout ByteCursor) {
        if compact {
            TextWrap.write(limit: limit, indent: blankWidth + 3, &c) { writeCallRow(call, &$0) }
        } else {
            writeCallRow(call, &c)
        }
    }

    func writeCallRow(_ call: CallEvent, _ c: inout ByteCursor) {
        lead(time: call.time, &c)
        c.writeSpaces(stateWidth)
        c.write(0x20)
        if call.side == .orig {
            c.write("├╴")
            let width = callText(call, &c)
            c.writeSpaces(inner - 1 - width)
            if !compact || width + 1 <= inner { c.write("│") }   // the compact ladder leaves it out of a row it would widen
        } else {
            c.write("│")
            let mark = c.count
            let width = callText(call, &c)
            c.insertSpaces(inner - 1 - width, at: mark)
            c.write("╶┤")
        }
        c.write(0x0a)
    }

    /// `shutdown(SHUT_WR) = -1 ENOTCONN  (12 µs)` in cyan; returns its width in columns,
    /// counted from what it wrote.
    func callText(_ call: CallEvent, _ c: inout ByteCursor) -> Int {
        var width = 0
        paint(Style.cyan, &c) { c in
            let mark = c.count
            c.writeTerminalSafe(call.call)
            c.write(" = ")
            c.writeInt(call.result)
            if let e = call.errno {
                c.write(0x20)
                c.writeTerminalSafe(e)
            }
            if let d = call.durationNanoseconds {
                c.write("  (")
                c.writeDuration(nanoseconds: d)
                c.write(UInt8(ascii: ")"))
            }
            width = c.scalarCount(since: mark)
        }
        return width
    }

    /// A kernel event on the lifeline of the side whose socket it is about, as a call is.
    func kernelRow(_ k: KernelRow, _ c: inout ByteCursor) {
        if compact {
            TextWrap.write(limit: limit, indent: blankWidth + 3, &c) { writeKernelRow(k, &$0) }
        } else {
            writeKernelRow(k, &c)
        }
    }

    func writeKernelRow(_ k: KernelRow, _ c: inout ByteCursor) {
        lead(time: k.event.time, &c)
        c.writeSpaces(stateWidth)
        c.write(0x20)
        let text = KernelWording.row(k.event)
        func body(_ c: inout ByteCursor) -> Int {
            var width = 0
            paint(Style.yellow, &c) { c in
                let mark = c.count
                c.writeTerminalSafe(text)
                width = c.scalarCount(since: mark)
            }
            return width
        }
        if k.side == .orig {
            c.write("├╴")
            let width = body(&c)
            c.writeSpaces(inner - 1 - width)
            if !compact || width + 1 <= inner { c.write("│") }
        } else {
            c.write("│")
            let mark = c.count
            let width = body(&c)
            c.insertSpaces(inner - 1 - width, at: mark)
            c.write("╶┤")
        }
        c.write(0x0a)
    }

    func noteRow(_ n: NoteEvent, _ c: inout ByteCursor) {
        TextWrap.write(limit: limit, indent: margin + numberWidth + gap + timeWidth + 2 + 2, &c) { writeNoteRow(n, &$0) }
    }

    func writeNoteRow(_ n: NoteEvent, _ c: inout ByteCursor) {
        lead(time: n.time, &c)
        paint(Style.dimItalic, &c) { c in
            c.write("— ")
            if let side = n.side {
                c.write(side.roleText)
                c.write(": ")
            }
            n.note.write(to: &c)
        }
        c.write(0x0a)
    }

    /// Columns of the seconds since the connection's first packet, 6 decimals (negative for
    /// calls made before it), as `writeTime` writes them.
    static func relativeWidth(_ t: Timestamp, _ start: Timestamp) -> Int {
        Width.seconds(nanoseconds: Format.difference(t, start))
    }

    /// `[P.] seq 1 ack 1 len 30,000`: tcpdump's flags and relative numbers (tcpdump(8)).
    @inline(__always)
    static func writeLabel<Sink: TextSink>(_ p: PacketEvent, compact: Bool = false, _ c: inout Sink) {
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
        if compact { return }   // the RST's ladder note says it
        switch p.rstValidity {
        case .inWindow?: c.write(" · in-window")
        case .outOfWindow?: c.write(" · out-of-window")
        default: break
        }
    }

    /// Columns of `writeLabel(p)`: what it writes, counted.
    static func labelWidth(_ p: PacketEvent, compact: Bool = false) -> Int { Columns.of { writeLabel(p, compact: compact, &$0) } }

    /// `… 9,998 segments, 29,994 bytes (client 20,000 / server 9,994) …`
    @inline(__always)
    /// (`short`: `… 9,998 segments, 29,994 bytes …`.)
    static func writeFoldText<Sink: TextSink>(_ f: FoldEvent, short: Bool = false, _ c: inout Sink) {
        c.write("… ")
        c.writeGrouped(signed: Int64(f.segments))
        c.write(" segments, ")
        c.writeGrouped(f.bytes)
        if short {
            c.write(" bytes …")
            return
        }
        c.write(" bytes (client ")
        c.writeGrouped(f.origBytes)
        c.write(" / server ")
        c.writeGrouped(f.respBytes)
        c.write(") …")
    }

    /// Columns of `writeFoldText(f)`.
    static func foldTextWidth(_ f: FoldEvent, short: Bool = false) -> Int { Columns.of { writeFoldText(f, short: short, &$0) } }

    /// `6–10003`: the packet numbers a fold covers.
    @inline(__always)
    static func writeRange<Sink: TextSink>(_ f: FoldEvent, _ c: inout Sink) {
        c.writeInt(f.firstNumber)
        c.write("–")
        c.writeInt(f.lastNumber)
    }

    /// Columns of `writeRange(f)`.
    static func rangeWidth(_ f: FoldEvent) -> Int { Columns.of { writeRange(f, &$0) } }

    /// The colour of a packet's arrow: RST red, FIN yellow, SYN green (the most consequential
    /// flag wins), else none.
    static func style(_ flags: TCPFlags) -> Style? {
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

extension TCPState {
    /// The compact layout's name: RFC 9293's own short names in its state diagram (§3.3.2,
    /// Figure 5: `SYN-RCVD`, `ESTAB`), and `text` for the rest, which are at most 10 columns.
    var shortText: StaticString {
        switch self {
        case .synReceived: return "SYN-RCVD"
        case .established: return "ESTAB"
        case .closed, .listen, .synSent, .finWait1, .finWait2, .closing, .timeWait, .closeWait, .lastAck: return text
        }
    }

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
    /// positive): one bounds check, then copied a run at a time (an arrow is one copy). In
    /// line, so that the run's length is a constant.
    @inline(__always)
    mutating func writeRepeated(_ run: StaticString, count: Int) {
        guard count > 0, run.hasPointerRepresentation else { return }
        let runBytes = run.utf8CodeUnitCount - run.utf8CodeUnitCount % 3   // whole glyphs
        guard runBytes > 0, let p = claim(count &* 3) else { return }
        let source = UnsafeRawPointer(run.utf8Start)
        var d = UnsafeMutableRawPointer(p)
        var left = count &* 3
        while left > runBytes {
            ByteCursor.copy(runBytes, from: source, to: d)
            d += runBytes
            left &-= runBytes
        }
        ByteCursor.copy(left, from: source, to: d)
    }
}
