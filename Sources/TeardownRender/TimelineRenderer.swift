import TeardownKernel
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
    /// come from the writers themselves, counting instead of writing (`TextSink`, `Columns`),
    /// before the first row is written: every glyph drawn is one column.
    public struct FileRenderer: Sendable {
        let color: Bool
        /// The terminal's columns, or nil (`RenderOptions.width`).
        let width: Int?
        /// `label · ` before the packet range in the `capture` row, or nothing.
        private let sourcePrefix: [UInt8]

        public init(options: RenderOptions) {
            color = options.color
            width = options.width
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
            let timeline = Timeline(record: record, color: color, limit: width)
            timeline.write(sourcePrefix: sourcePrefix, to: &c)
        }
    }
}

/// One connection's layout and its rendering: the column widths are fixed from the whole
/// record first, so every row of one connection lines up whatever its addresses or numbers.
///
/// A class: the rendering hands `self` to closures (`TextWrap.write`, `paint`), and a struct
/// holding the record was copied into each, the record's every reference retained and
/// released with it; a class is one reference.
final class Timeline {
    let r: ConnectionRecord
    let color: Bool
    /// Width of the packet-number column (packet numbers and fold ranges).
    let numberWidth: Int
    /// Width of the relative-time column.
    let timeWidth: Int
    /// A state name (`SYN-RECEIVED` is the longest, 12) plus the change marker; in the compact
    /// layout, the short name (`FIN-WAIT-1`, 10) plus the marker.
    let stateWidth: Int
    /// Columns between the two lifelines.
    let inner: Int
    /// The terminal's columns, or nil: no limit (`RenderOptions.width`).
    let limit: Int?
    /// The compact layout: the wide ladder does not fit `limit`, so the states take their short
    /// names and the ladder is as narrow as its rows allow.
    let compact: Bool
    /// Columns of each packet row's label (`labelWidth`, compact or not as the layout is), in
    /// the order of the packet rows: measured once, by the layout, and used again by the row.
    /// Memory of its own rather than an array: an append is a call the optimiser cannot see
    /// through, and the layout's loop then copied every packet row (its arrays retained and
    /// released) to keep it alive across the call.
    private let labelWidths: UnsafeMutableBufferPointer<Int32>

    /// The narrowest ladder: wide enough for `[P.] seq 1,000,000 ack 1,000,000 len 65,535`.
    static let minimumInner = 56
    /// The narrowest compact ladder: the column header's hint, `* = state changed by this
    /// packet`, under it.
    static let compactMinimumInner = 30
    static let indentWidth = 3
    static let labelWidth = 11
    static let wideStateWidth = 13
    static let compactStateWidth = 11

    init(record: ConnectionRecord, color: Bool, limit: Int? = nil) {
        r = record
        self.color = color
        self.limit = limit
        var numberWidth = 1, timeWidth = 8, inner = Timeline.minimumInner
        let labelWidths = UnsafeMutableBufferPointer<Int32>.allocate(capacity: record.events.count)
        var packets = 0   // at most one a row, so within the rows' count
        for event in record.events {
            switch event {
            case .packet(let p):
                timeWidth = max(timeWidth, Timeline.relativeWidth(p.time, record.start))
                numberWidth = max(numberWidth, Width.int(p.number))
                let label = Timeline.labelWidth(p)
                labelWidths[packets] = Int32(truncatingIfNeeded: label)
                packets &+= 1
                inner = max(inner, label + 6)
            case .fold(let f):
                timeWidth = max(timeWidth, Timeline.relativeWidth(f.firstTime, record.start))
                numberWidth = max(numberWidth, Timeline.rangeWidth(f))
                inner = max(inner, Timeline.foldTextWidth(f) + 4)
            case .call(let c):
                timeWidth = max(timeWidth, Timeline.relativeWidth(c.time, record.start))
            case .note(let n):
                timeWidth = max(timeWidth, Timeline.relativeWidth(n.time, record.start))
            case .kernel(let k):
                timeWidth = max(timeWidth, Timeline.relativeWidth(k.event.time, record.start))
                inner = max(inner, KernelWording.row(k.event).unicodeScalars.count + 3)
            }
        }
        self.numberWidth = numberWidth
        self.timeWidth = timeWidth
        let wide = Timeline.totalWidth(numberWidth: numberWidth, timeWidth: timeWidth, stateWidth: Timeline.wideStateWidth, inner: inner)
        if let limit, wide > limit {
            // What the rows need, from the same measures as the wide ladder's minimum but
            // without it; then as much of the room left as the wide ladder would have taken.
            compact = true
            stateWidth = Timeline.compactStateWidth
            var needed = Timeline.compactMinimumInner
            packets = 0
            for event in record.events {
                switch event {
                case .packet(let p):
                    let label = Timeline.labelWidth(p, compact: true)
                    labelWidths[packets] = Int32(truncatingIfNeeded: label)
                    packets &+= 1
                    needed = max(needed, label + 6)
                case .fold(let f): needed = max(needed, Timeline.foldTextWidth(f, short: true) + 4)
                case .call, .kernel, .note: break   // broken at spaces when they do not fit
                }
            }
            let room = limit - Timeline.totalWidth(numberWidth: numberWidth, timeWidth: timeWidth, stateWidth: stateWidth, inner: 0, compact: true)
            self.inner = max(needed, min(inner, room))
        } else {
            compact = false
            stateWidth = Timeline.wideStateWidth
            self.inner = inner
        }
        self.labelWidths = labelWidths
    }

    deinit {
        labelWidths.deallocate()
    }

    static func totalWidth(numberWidth: Int, timeWidth: Int, stateWidth: Int, inner: Int, compact: Bool = false) -> Int {
        (compact ? 0 : 1) + numberWidth + (compact ? 1 : 2) + timeWidth + 2 + stateWidth + 1 + inner + 2 + 1 + stateWidth
    }

    /// The space before a row's packet number: none in the compact layout.
    var margin: Int { compact ? 0 : 1 }
    /// The gutter between the packet-number and time columns: one space in the compact layout.
    var gap: Int { compact ? 1 : 2 }

    /// Columns of a full row.
    var totalWidth: Int { Timeline.totalWidth(numberWidth: numberWidth, timeWidth: timeWidth, stateWidth: stateWidth, inner: inner, compact: compact) }

    /// Columns before the ladder's left lifeline on a row without a packet state: number,
    /// time and the client's state cell, all blank.
    var blankWidth: Int { margin + numberWidth + gap + timeWidth + 2 + stateWidth }

    /// `body`'s text in `style` when colour is on (`Style`).
    @inline(__always)
    func paint(_ style: Style, _ c: inout ByteCursor, _ body: (inout ByteCursor) -> Void) {
        c.paint(style, when: color, body)
    }

    // MARK: Whole connection

    func write(sourcePrefix: [UInt8], to c: inout ByteCursor) {
        TextWrap.write(limit: limit, indent: Timeline.indentWidth + Timeline.labelWidth, &c) {
            header(sourcePrefix: sourcePrefix, &$0)
        }
        c.write(0x0a)
        if r.events.isEmpty {
            c.write("   ")
            paint(Style.dim, &c) { $0.write("(no events recorded)") }
            c.write(0x0a)
        } else {
            columnHeader(&c)
            var packetRows = 0
            for event in r.events {
                switch event {
                case .packet(let p):
                    packetRow(p, labelWidth: Int(labelWidths[packetRows]), &c)
                    packetRows &+= 1
                case .fold(let f): foldRow(f, &c)
                case .call(let call): callRow(call, &c)
                case .note(let n): noteRow(n, &c)
                case .kernel(let k): kernelRow(k, &c)
                }
            }
        }
        if !r.notes.isEmpty {
            c.write(0x0a)
            TextWrap.write(limit: limit, indent: 5, &c) { notes(&$0) }
        }
        c.write(0x0a)
        TextWrap.write(limit: limit, indent: 5, &c) { ledger(&$0) }
    }

    /// The connection's notes, a `•` line each.
    func notes(_ c: inout ByteCursor) {
        for note in r.notes {
            c.write("   • ")
            note.write(to: &c)
            c.write(0x0a)
        }
    }
}
