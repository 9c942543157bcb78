import TeardownKernel
import TeardownModel
import TeardownWire

/// One connection's ladder as SVG, like Wireshark's flow graph (Statistics › Flow Graph) or
/// the figures of TCP/IP Illustrated: the client's lifeline on the left, the server's on the
/// right, one arrow per packet from sender to receiver, sloped as it travels, with tcpdump's
/// flags and relative seq/ack/len on it; each side's RFC 9293 state after the packet beside
/// its own lifeline (bold with `*` where the packet changed it); socket calls and kernel events
/// in a lane of their own outside each lifeline; the RST drawn apart (a heavy red arrow on a
/// red band); a silence of a millisecond or more opens a gap that grows with its decade. Above,
/// the timeline's header; beneath, its notes and byte ledger, in the timeline's own words.
///
/// The one drawing of a ladder: `--format svg` writes it alone (`standalone`, with its
/// stylesheet and a white background, for an image viewer), and the HTML report inserts the
/// same markup when a connection is opened (`HTMLReport`).
public enum LadderSVG {
    public static let width = 1410
    // Columns (x) of the drawing, in pixels; text is 11 px monospace (about 6.6 px a character).
    static let numberX = 58          // packet number, right-aligned
    static let timeX = 142           // seconds since the first packet, right-aligned
    static let clientLaneX = 452     // client's calls and kernel events, right-aligned
    static let clientStateX = 560    // client's state, right-aligned
    static let clientX = 570         // client's lifeline
    static let serverX = 990         // server's lifeline
    static let serverStateX = 1000   // server's state
    static let serverLaneX = 1096    // server's calls and kernel events
    /// Characters a lane holds; longer text is cut with `…`.
    static let laneCharacters = 46
    /// How far an arrow falls between its sender's lifeline and its receiver's.
    static let drop = 8
    /// Pixels of a header, notes or ledger line (12 px monospace).
    static let textLine = 16

    /// The drawing's stylesheet: inside a standalone SVG, and once in the HTML report's page.
    public static let style: StaticString = """
    .ladder text{fill:#222}\
    .ladder .mono{font-size:12px;white-space:pre}\
    .ladder .life{stroke:#78909c;stroke-width:1.5}\
    .ladder .who{font-weight:bold;text-anchor:middle}\
    .ladder .tm{text-anchor:end;fill:#666}\
    .ladder .num{text-anchor:end;font-weight:bold}\
    .ladder .gap{text-anchor:end;fill:#999;font-style:italic}\
    .ladder .pkt path{stroke:#455a64;fill:#455a64;stroke-width:1.4}\
    .ladder .pkt text{text-anchor:middle}\
    .ladder .syn path{stroke:#2e7d32;fill:#2e7d32}.ladder .syn text{fill:#1b5e20}\
    .ladder .fin path{stroke:#b26a00;fill:#b26a00}.ladder .fin text{fill:#7a4a00}\
    .ladder .rst path{stroke:#c62828;fill:#c62828;stroke-width:3}.ladder .rst text{fill:#b71c1c;font-weight:bold}\
    .ladder .rtx path.l{stroke-dasharray:6 4}\
    .ladder .band{fill:#fdecea}\
    .ladder .st{fill:#777}.ladder .r{text-anchor:end}.ladder .chg{fill:#000;font-weight:bold}\
    .ladder .pn{fill:#666;font-size:10px;text-anchor:middle;font-style:italic}\
    .ladder .call{fill:#00707a}.ladder .kern{fill:#8a6d00}\
    .ladder .tick{stroke:#bbb;stroke-dasharray:2 3}\
    .ladder .fold rect{fill:#f5f5f5;stroke:#999;stroke-dasharray:3 3}.ladder .fold text{text-anchor:middle;fill:#555}\
    .ladder .nev{fill:#555;font-style:italic}
    """

    /// The ladder of `record` as a string (`write`).
    public static func render(_ record: ConnectionRecord, source: String?, standalone: Bool) -> String {
        ByteCursor.string(initialCapacity: 4096 + record.events.count * 200) {
            write(record, source: source, standalone: standalone, to: &$0)
        }
    }

    /// Writes the `<svg>` element of `record`'s ladder; `standalone` adds the XML declaration,
    /// the stylesheet and a white background. `source` names the file in the header's
    /// `capture` line.
    public static func write(_ record: ConnectionRecord, source: String?, standalone: Bool, to c: inout ByteCursor) {
        var body: [UInt8] = []
        var height = 0
        ByteCursor.append(to: &body, initialCapacity: 2048 + record.events.count * 200) { b in
            height = Drawing(record: record, source: source).write(to: &b)
        }
        if standalone { c.write("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n") }
        c.write("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"ladder\" data-connection=\"")
        c.writeInt(record.index)
        c.write("\" width=\"")
        c.writeInt(width)
        c.write("\" height=\"")
        c.writeInt(height)
        c.write("\" viewBox=\"0 0 ")
        c.writeInt(width)
        c.write(UInt8(ascii: " "))
        c.writeInt(height)
        c.write("\" font-family=\"DejaVu Sans Mono,Menlo,Consolas,monospace\" font-size=\"11\"><title>connection ")
        c.writeInt(record.index)
        c.write(": client ")
        record.orig.endpoint.withText { c.write($0) }
        c.write(" ⇄ server ")
        record.resp.endpoint.withText { c.write($0) }
        c.write(", ")
        c.write(utf8: record.teardown.name)
        c.write("</title>")
        if standalone {
            c.write("<style>")
            c.write(style)
            c.write("</style><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>")
        }
        c.write(body)
        c.write("</svg>")
        if standalone { c.write(0x0a) }
    }
}

/// One ladder being drawn: a single pass over the record's rows, each placed below the last.
private struct Drawing {
    let r: ConnectionRecord
    let source: String?
    /// The text timeline of the same record (no colour): its header, notes, ledger, call and
    /// label words are used as they are, so the ladder says what the timeline says.
    let timeline: Timeline
    typealias L = LadderSVG

    init(record: ConnectionRecord, source: String?) {
        r = record
        self.source = source
        timeline = Timeline(record: record, color: false)
    }

    /// Writes the drawing's elements; returns its height.
    func write(to c: inout ByteCursor) -> Int {
        var y = 8
        // The header, as the timeline prints it.
        var prefix: [UInt8] = []
        if let source {
            ByteCursor.append(to: &prefix) { p in
                _ = p.writeTerminalSafe(source)
                p.write(" · ")
            }
        }
        y = monoLines(x: 8, top: y, c: &c) { timeline.header(sourcePrefix: prefix, &$0) }
        y += 10
        let top = y
        // Who is who, over each lifeline.
        for (x, role, side) in [(L.clientX, "client", r.orig), (L.serverX, "server", r.resp)] {
            c.write("<text class=\"who\" x=\"")
            c.writeInt(x)
            c.write("\" y=\"")
            c.writeInt(y + 11)
            c.write("\">")
            c.write(utf8: role)
            c.write("</text><text class=\"who\" x=\"")
            c.writeInt(x)
            c.write("\" y=\"")
            c.writeInt(y + 25)
            c.write("\">")
            side.endpoint.withText { c.write($0) }
            c.write("</text>")
        }
        y += 34
        var previous: Timestamp?
        for event in r.events {
            let t = event.time
            if let previous {
                let gap = Format.difference(t, previous)
                if gap >= 1_000_000 {
                    // A gap that grows by decade: 1 ms, 10 ms, 100 ms, 1 s, 10 s and more.
                    var decades = 0, ms = gap / 1_000_000
                    while ms > 0 && decades < 6 { decades += 1; ms /= 10 }
                    if gap >= 100_000_000 {
                        c.write("<text class=\"gap\" x=\"")
                        c.writeInt(L.timeX)
                        c.write("\" y=\"")
                        c.writeInt(y + 4 + decades * 3)
                        c.write("\">+")
                        c.writeSeconds(nanoseconds: gap, decimals: 3)
                        c.write(" s</text>")
                    }
                    y += decades * 6
                }
            }
            previous = t
            switch event {
            case .packet(let p): y = packet(p, y, &c)
            case .fold(let f): y = fold(f, y, &c)
            case .call(let call):
                let text = ByteCursor.string { _ = timeline.callText(call, &$0) }
                y = laneRow(text, side: call.side, kind: "call", time: call.time, y, &c)
            case .kernel(let k):
                y = laneRow(KernelWording.row(k.event), side: k.side, kind: "kern", time: k.event.time, y, &c)
            case .note(let n):
                time(n.time, y + 11, &c)
                c.write("<text class=\"nev\" x=\"")
                c.writeInt(L.clientX + 8)
                c.write("\" y=\"")
                c.writeInt(y + 11)
                c.write("\">— ")
                if let side = n.side {
                    c.write(side.roleText)
                    c.write(": ")
                }
                c.writeMarkupSafe(ByteCursor.string { n.note.write(to: &$0) })
                c.write("</text>")
                y += 16
            }
        }
        if r.events.isEmpty {
            c.write("<text class=\"nev\" x=\"")
            c.writeInt(L.clientX + 8)
            c.write("\" y=\"")
            c.writeInt(y + 11)
            c.write("\">(no events recorded)</text>")
            y += 16
        }
        y += 6
        c.write("<path class=\"life\" d=\"")
        for x in [L.clientX, L.serverX] {   // the two lifelines
            c.write("M")
            c.writeInt(x)
            c.write(UInt8(ascii: " "))
            c.writeInt(top + 30)
            c.write("V")
            c.writeInt(y)
        }
        c.write("\"/>")
        y += 14
        if !r.notes.isEmpty {
            y = monoLines(x: 8, top: y, c: &c) { timeline.notes(&$0) }
            y += 8
        }
        y = monoLines(x: 8, top: y, c: &c) { timeline.ledger(&$0) }
        return y + 8
    }

    /// The lines `body` writes as the timeline would, one `<text>` each, monospace with its
    /// spaces kept; returns the y below the last.
    func monoLines(x: Int, top: Int, c: inout ByteCursor, _ body: (inout ByteCursor) -> Void) -> Int {
        var text: [UInt8] = []
        ByteCursor.append(to: &text, initialCapacity: 2048, body)
        var y = top
        c.write("<g class=\"mono\">")
        text.withUnsafeBytes { all in
            var start = 0
            for i in 0..<all.count where all[i] == 0x0a {
                y += L.textLine
                if i > start {
                    c.write("<text xml:space=\"preserve\" x=\"")
                    c.writeInt(x)
                    c.write("\" y=\"")
                    c.writeInt(y - 4)
                    c.write("\">")
                    c.writeMarkupSafe(bytes: UnsafeRawBufferPointer(rebasing: all[start..<i]))
                    c.write("</text>")
                }
                start = i + 1
            }
        }
        c.write("</g>")
        return y
    }

    /// Seconds since the first packet, right-aligned in the time column at baseline `y`.
    func time(_ t: Timestamp, _ y: Int, _ c: inout ByteCursor) {
        c.write("<text class=\"tm\" x=\"")
        c.writeInt(L.timeX)
        c.write("\" y=\"")
        c.writeInt(y)
        c.write("\">")
        c.writeSeconds(nanoseconds: Format.difference(t, r.start), decimals: 6)
        c.write("</text>")
    }

    /// `opening` (up to the x attribute's opening quote), then a rectangle's geometry.
    func rect(_ opening: StaticString, x: Int, y: Int, width: Int, height: Int, _ c: inout ByteCursor) {
        c.write(opening)
        c.writeInt(x)
        c.write("\" y=\"")
        c.writeInt(y)
        c.write("\" width=\"")
        c.writeInt(width)
        c.write("\" height=\"")
        c.writeInt(height)
        c.write("\"/>")
    }

    /// The packet number (or range) `number` writes, then the time, at baseline `y`.
    func numberAndTime(_ t: Timestamp, _ y: Int, _ c: inout ByteCursor, number: (inout ByteCursor) -> Void) {
        c.write("<text class=\"num\" x=\"")
        c.writeInt(L.numberX)
        c.write("\" y=\"")
        c.writeInt(y)
        c.write("\">")
        number(&c)
        c.write("</text>")
        time(t, y, &c)
    }

    /// A side's state beside its lifeline at baseline `y`.
    func state(_ s: TCPState, changed: Bool, side: Side, _ y: Int, _ c: inout ByteCursor) {
        c.write(side == .orig ? "<text class=\"st r" : "<text class=\"st")
        if changed { c.write(" chg") }
        c.write("\" x=\"")
        c.writeInt(side == .orig ? L.clientStateX : L.serverStateX)
        c.write("\" y=\"")
        c.writeInt(y)
        c.write("\">")
        c.write(s.text)
        if changed { c.write(UInt8(ascii: "*")) }
        c.write("</text>")
    }

    /// A packet: its arrow, label, number, time, both states and its notes; returns the next y.
    func packet(_ p: PacketEvent, _ y: Int, _ c: inout ByteCursor) -> Int {
        let fromClient = p.from == .orig
        let start = fromClient ? L.clientX : L.serverX, end = fromClient ? L.serverX : L.clientX
        let ya = y + 14, yb = ya + L.drop
        let height = 30 + 13 * p.notes.count
        let isRST = p.flags.contains(.rst)
        if isRST {   // the RST apart: a band across the ladder behind it
            rect("<rect class=\"band\" x=\"", x: L.timeX + 8, y: y + 1, width: LadderSVG.width - L.timeX - 16, height: height - 2, &c)
        }
        numberAndTime(p.time, ya + 4, &c) { $0.writeInt(p.number) }
        c.write("<g class=\"pkt")
        if isRST { c.write(" rst") } else if p.flags.contains(.fin) { c.write(" fin") } else if p.flags.contains(.syn) { c.write(" syn") }
        if p.isRetransmission { c.write(" rtx") }
        c.write("\" data-packet=\"")
        c.writeInt(p.number)
        c.write("\"><path class=\"l\" d=\"M")
        c.writeInt(start)
        c.write(UInt8(ascii: " "))
        c.writeInt(ya)
        c.write("L")
        c.writeInt(end)
        c.write(UInt8(ascii: " "))
        c.writeInt(yb)
        c.write("\"/><path d=\"M")
        c.writeInt(end)
        c.write(UInt8(ascii: " "))
        c.writeInt(yb)
        c.write(fromClient ? "l-10-5v10z\"/>" : "l10-5v10z\"/>")
        let mid = (L.clientX + L.serverX) / 2, ym = (ya + yb) / 2 - 4
        c.write("<text x=\"")
        c.writeInt(mid)
        c.write("\" y=\"")
        c.writeInt(ym)
        c.write("\" transform=\"rotate(")
        c.write(fromClient ? "1.09 " : "-1.09 ")
        c.writeInt(mid)
        c.write(UInt8(ascii: " "))
        c.writeInt(ym)
        c.write(")\">")
        Timeline.writeLabel(p, &c)
        c.write("</text></g>")
        var origChanged = false, respChanged = false
        for t in p.transitions {
            if t.side == .orig { origChanged = true } else { respChanged = true }
        }
        state(p.origState, changed: origChanged, side: .orig, (fromClient ? ya : yb) + 4, &c)
        state(p.respState, changed: respChanged, side: .resp, (fromClient ? yb : ya) + 4, &c)
        for (i, note) in p.notes.enumerated() {
            c.write("<text class=\"pn\" x=\"")
            c.writeInt(mid)
            c.write("\" y=\"")
            c.writeInt(yb + 15 + 13 * i)
            c.write("\">↳ ")
            c.writeMarkupSafe(ByteCursor.string { note.write(to: &$0) })
            c.write("</text>")
        }
        return y + height
    }

    /// Packets folded into one row: a dashed box between the lifelines with what it holds.
    func fold(_ f: FoldEvent, _ y: Int, _ c: inout ByteCursor) -> Int {
        numberAndTime(f.firstTime, y + 17, &c) { Timeline.writeRange(f, &$0) }
        c.write("<g class=\"fold\" data-packets=\"")
        c.writeInt(f.segments)
        rect("\"><rect x=\"", x: L.clientX + 6, y: y + 4, width: L.serverX - L.clientX - 12, height: 18, &c)
        c.write("<text x=\"")
        c.writeInt((L.clientX + L.serverX) / 2)
        c.write("\" y=\"")
        c.writeInt(y + 17)
        c.write("\">")
        Timeline.writeFoldText(f, &c)
        c.write("</text></g>")
        return y + 28
    }

    /// A socket call or kernel event in its side's lane, a dotted tick joining it to the
    /// lifeline; returns the next y.
    func laneRow(_ text: String, side: Side, kind: StaticString, time t: Timestamp, _ y: Int, _ c: inout ByteCursor) -> Int {
        time(t, y + 11, &c)
        let client = side == .orig
        c.write("<path class=\"tick\" d=\"M")
        c.writeInt(client ? L.clientLaneX + 4 : L.serverX)
        c.write(UInt8(ascii: " "))
        c.writeInt(y + 7)
        c.write("H")
        c.writeInt(client ? L.clientX : L.serverLaneX - 4)
        c.write("\"/><text class=\"")
        c.write(kind)
        if client { c.write(" r") }
        c.write("\" x=\"")
        c.writeInt(client ? L.clientLaneX : L.serverLaneX)
        c.write("\" y=\"")
        c.writeInt(y + 11)
        c.write("\">")
        let scalars = text.unicodeScalars
        if scalars.count > L.laneCharacters {
            var cut = String.UnicodeScalarView()
            cut.append(contentsOf: scalars.prefix(L.laneCharacters - 1))
            c.writeMarkupSafe(String(cut) + "…")
        } else {
            c.writeMarkupSafe(text)
        }
        c.write("</text>")
        return y + 16
    }
}
