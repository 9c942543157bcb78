import TeardownModel
import TeardownWire

/// The header of a connection's timeline: the title rule, then one labelled field a line
/// (capture, time, ended, closed by, zeek, reset).
extension Timeline {
    func header(sourcePrefix: [UInt8], _ c: inout ByteCursor) {
        c.write(0x20)
        paint(Style.bold, &c) { c in
            var title = MeasuredCursor(c)
            writeTitle(&title)
            c = title.cursor
            var rule = max(3, totalWidth - 1 - title.columns)
            // On a terminal too narrow for the title and a rule, the title alone, broken at
            // spaces (`TextWrap`).
            if let limit, 1 + title.columns + rule > limit { rule = max(0, limit - 1 - title.columns) }
            c.writeRepeated(Glyph.heavy, count: rule)
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

        if let tunnel = r.tunnel {
            field("tunnel", &c)
            writeTunnel(tunnel, &c)
            c.write(0x0a)
        }

        field("time", &c)
        c.writeUTC(r.start)
        c.write(" · lasted ")
        c.writeSeconds(nanoseconds: Format.difference(r.end, r.start), decimals: 6)
        c.write(" s\n")

        field("ended", &c)
        paint(Style.colour(of: r.teardown.kind).bold, &c) { c in
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

        if let one = r.oneSided {
            field("one-sided", &c)
            c.write("only ")
            c.write(one.seen.roleText)
            c.write(" → ")
            c.write(one.missing.roleText)
            c.write(" was captured; ")
            c.write(one.missing.roleText)
            c.write(" → ")
            c.write(one.seen.roleText)
            c.write(" is missing")
            c.write(0x0a)
        }

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

        for d in r.diagnoses {
            field("diagnosis", &c)
            paint(Style.bold, &c) { $0.write(utf8: d.code.rawValue) }
            c.write(" (confidence ")
            c.write(utf8: d.confidence.rawValue)
            c.write(") · evidence packets ")
            for (i, n) in d.evidence.enumerated() {
                if i > 0 { c.write(", ") }
                c.writeInt(n)
            }
            c.write(0x0a)
            writeWrapped(d.text, width: max(40, min(totalWidth, limit ?? .max) - Timeline.indentWidth - Timeline.labelWidth), &c)
        }
    }

    /// `text` as header lines under an empty label, broken at spaces to `width` columns (a word
    /// longer than that stands alone). The words are ASCII but for `–`, `§` and `µ`, one column each.
    func writeWrapped(_ text: String, width: Int, _ c: inout ByteCursor) {
        var column = 0
        field("", &c)
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            let w = word.count
            if column > 0 && column + 1 + w > width {
                c.write(0x0a)
                field("", &c)
                column = 0
            }
            if column > 0 { c.write(0x20); column += 1 }
            c.write(utf8: String(word))
            column += w
        }
        c.write(0x0a)
    }

    /// `━━ connection 1 ━━ client 127.0.0.1:43210 ⇄ server 127.0.0.1:8080 `: the title, which
    /// a heavy rule extends to the width of the rows.
    @inline(__always)
    func writeTitle<Sink: TextSink>(_ c: inout Sink) {
        c.write("━━ connection ")
        c.writeInt(r.index)
        c.write(" ━━ client ")
        r.orig.endpoint.withText { c.write($0) }   // endpoints are ASCII
        c.write(" ⇄ server ")
        r.resp.endpoint.withText { c.write($0) }
        c.write(UInt8(ascii: " "))
    }

    /// `vxlan 192.0.2.1 ⇄ 198.51.100.1 vni 100 › gtp-u 10.0.0.1 ⇄ 10.0.0.2 teid 7 ⇄ 9`: each
    /// tunnel, outermost first, with its outer addresses on the client's and the server's side,
    /// and its ID (one that differs by direction as the client's ⇄ the server's packets carried
    /// it, `?` for a side that sent none).
    func writeTunnel(_ t: ConnectionTunnel, _ c: inout ByteCursor) {
        for (i, layer) in t.layers.enumerated() {
            if i > 0 { c.write(" › ") }
            c.write(layer.kind.name)
            c.write(UInt8(ascii: " "))
            layer.source.withText { c.write($0) }
            c.write(" ⇄ ")
            layer.destination.withText { c.write($0) }
            guard let name = layer.kind.idName else { continue }
            if layer.kind.idIsPerDirection {
                c.write(UInt8(ascii: " "))
                c.write(name)
                for (k, path) in [t.orig, t.resp].enumerated() {
                    c.write(k == 0 ? " " : " ⇄ ")
                    if let path, i < path.count, path[i].hasID { c.writeInt(Int(path[i].id)) } else { c.write(UInt8(ascii: "?")) }
                }
            } else if layer.hasID {
                c.write(UInt8(ascii: " "))
                c.write(name)
                c.write(UInt8(ascii: " "))
                c.writeInt(Int(layer.id))
            }
        }
        if t.omitted > 0 {
            c.write(" › ")
            c.writeInt(t.omitted)
            c.write(" more")
        }
    }

    /// A dim label padded to `labelWidth`, after the indent: the start of a header field.
    func field(_ label: StaticString, _ c: inout ByteCursor) {
        c.write("   ")
        paint(Style.dim, &c) {
            $0.write(label)
            $0.writeSpaces(Timeline.labelWidth - label.utf8CodeUnitCount)   // labels are ASCII
        }
    }
}
