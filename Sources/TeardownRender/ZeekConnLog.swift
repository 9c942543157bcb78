import TeardownModel
import TeardownWire

/// Zeek's conn.log, written as Zeek's ASCII writer writes it: tab-separated with its `#` header
/// lines (src/logging/writers/ascii/Ascii.cc, src/threading/formatters/Ascii.cc), or one JSON
/// object per line as with `LogAscii::use_json=T` (src/threading/formatters/JSON.cc).
///
/// The columns are `Conn::Info`'s `&log` fields in Zeek 8 (scripts/base/protocols/conn/main.zeek),
/// `ip_proto` last. Unset fields are `-` in TSV and left out of JSON; times and intervals are
/// written with six decimals in TSV (`modp_dtoa`) and as the shortest decimal that reads back
/// as the same double in JSON (rapidjson's `Writer::Double`).
public enum ZeekConnLog {
    /// The `#fields` line's names, in order.
    public static let fields = [
        "ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service", "duration",
        "orig_bytes", "resp_bytes", "conn_state", "local_orig", "local_resp", "missed_bytes", "history",
        "orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes", "tunnel_parents", "ip_proto",
    ]
    /// The `#types` line, in the same order.
    public static let types = [
        "time", "string", "addr", "port", "addr", "port", "enum", "string", "interval",
        "count", "count", "string", "bool", "bool", "count", "string",
        "count", "count", "count", "count", "set[string]", "count",
    ]

    /// The header Zeek writes when it opens conn.log. Zeek stamps `#open` with the wall clock;
    /// teardown stamps it with `time` (the capture's first packet, UTC) so that the same capture
    /// always gives the same bytes.
    public static func writeHeader(open time: Timestamp?, to c: inout ByteCursor) {
        c.write("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#open\t")
        writeStamp(time, to: &c)
        c.write("\n#fields")
        for f in fields { c.write(UInt8(ascii: "\t")); c.write(utf8: f) }
        c.write("\n#types")
        for t in types { c.write(UInt8(ascii: "\t")); c.write(utf8: t) }
        c.write(UInt8(ascii: "\n"))
    }

    /// The `#close` line, stamped with `time` (the capture's last packet, UTC).
    public static func writeClose(_ time: Timestamp?, to c: inout ByteCursor) {
        c.write("#close\t")
        writeStamp(time, to: &c)
        c.write(UInt8(ascii: "\n"))
    }

    /// One TSV line.
    public static func writeTSV(_ r: ZeekConnRecord, to c: inout ByteCursor) {
        let tab = UInt8(ascii: "\t")
        writeFixed6(r.ts, to: &c); c.write(tab)
        c.write(utf8: r.uid); c.write(tab)
        r.orig.address.withText { c.write($0) }; c.write(tab)
        c.writeDecimal(UInt64(r.orig.port)); c.write(tab)
        r.resp.address.withText { c.write($0) }; c.write(tab)
        c.writeDecimal(UInt64(r.resp.port)); c.write(tab)
        c.write("tcp\t-\t")                         // proto; service (no protocol analyzers)
        if let d = r.duration { writeFixed6(d, to: &c) } else { c.write(UInt8(ascii: "-")) }
        c.write(tab)
        writeCount(r.origBytes, to: &c); c.write(tab)
        writeCount(r.respBytes, to: &c); c.write(tab)
        c.write(utf8: r.connState.rawValue)
        c.write("\t-\t-\t")                          // local_orig, local_resp (no Site::local_nets)
        c.writeDecimal(r.missedBytes); c.write(tab)
        if let h = r.history { c.write(utf8: h) } else { c.write(UInt8(ascii: "-")) }
        c.write(tab)
        c.writeDecimal(r.origPackets); c.write(tab)
        c.writeDecimal(r.origIPBytes); c.write(tab)
        c.writeDecimal(r.respPackets); c.write(tab)
        c.writeDecimal(r.respIPBytes)
        c.write("\t-\t")                             // tunnel_parents
        c.writeDecimal(UInt64(r.ipProto))
        c.write(UInt8(ascii: "\n"))
    }

    /// One JSON line, keys in column order, unset fields left out.
    public static func writeJSON(_ r: ZeekConnRecord, to c: inout ByteCursor) {
        var w = JSONWriter(c)
        w.beginObject()
        w.key("ts"); w.value { writeShortest(r.ts, to: &$0) }
        w.key("uid"); w.string(r.uid)
        w.key("id.orig_h"); w.address(r.orig.address)
        w.key("id.orig_p"); w.int(r.orig.port)
        w.key("id.resp_h"); w.address(r.resp.address)
        w.key("id.resp_p"); w.int(r.resp.port)
        w.key("proto"); w.string("tcp")
        if let d = r.duration { w.key("duration"); w.value { writeShortest(d, to: &$0) } }
        if let b = r.origBytes { w.key("orig_bytes"); w.int(b) }
        if let b = r.respBytes { w.key("resp_bytes"); w.int(b) }
        w.key("conn_state"); w.string(r.connState.rawValue)
        w.key("missed_bytes"); w.int(r.missedBytes)
        if let h = r.history { w.key("history"); w.string(h) }
        w.key("orig_pkts"); w.int(r.origPackets)
        w.key("orig_ip_bytes"); w.int(r.origIPBytes)
        w.key("resp_pkts"); w.int(r.respPackets)
        w.key("resp_ip_bytes"); w.int(r.respIPBytes)
        w.key("ip_proto"); w.int(r.ipProto)
        w.endObject()
        c = w.out
        c.write(UInt8(ascii: "\n"))
    }

    private static func writeCount(_ v: UInt64?, to c: inout ByteCursor) {
        if let v { c.writeDecimal(v) } else { c.write(UInt8(ascii: "-")) }
    }

    /// `%Y-%m-%d-%H-%M-%S` in UTC.
    static func writeStamp(_ time: Timestamp?, to c: inout ByteCursor) {
        let (year, month, day, rest, _) = CivilTime.utc(time ?? Timestamp(nanoseconds: 0))
        c.writeDecimal(UInt64(max(0, year)), width: 4); c.write(UInt8(ascii: "-"))
        c.writeDecimal(UInt64(month), width: 2); c.write(UInt8(ascii: "-"))
        c.writeDecimal(UInt64(day), width: 2); c.write(UInt8(ascii: "-"))
        c.writeDecimal(UInt64(rest / 3600), width: 2); c.write(UInt8(ascii: "-"))
        c.writeDecimal(UInt64(rest % 3600 / 60), width: 2); c.write(UInt8(ascii: "-"))
        c.writeDecimal(UInt64(rest % 60), width: 2)
    }

    /// A time or interval as Zeek's ASCII formatter writes it: `modp_dtoa(d, 6)` (the
    /// fraction rounded to six digits, half to odd-or-zero as modp rounds, trailing zeros kept).
    static func writeFixed6(_ value: Double, to c: inout ByteCursor) {
        guard value == value else { c.write("nan"); return }
        var v = value
        if v < 0 { c.write(UInt8(ascii: "-")); v = -v }
        guard v <= Double(Int32.max) else { c.write(utf8: "\(v)"); return }
        var whole = UInt64(v)
        let tmp = (v - Double(whole)) * 1e6
        var frac = UInt64(tmp)
        let diff = tmp - Double(frac)
        if diff > 0.5 {
            frac += 1
            if frac >= 1_000_000 { frac = 0; whole += 1 }
        } else if diff == 0.5 && (frac == 0 || frac & 1 == 1) {
            frac += 1
        }
        c.writeDecimal(whole)
        c.write(UInt8(ascii: "."))
        c.writeDecimal(frac, width: 6)
    }

    /// A double as rapidjson's `Writer::Double` writes it: the shortest digits that read back
    /// as the same double, laid out by `Prettify` (plain decimals from 1e-6 up to 1e21, else
    /// `1.5e-7`; a whole number keeps `.0`).
    static func writeShortest(_ value: Double, to c: inout ByteCursor) {
        guard value.isFinite else { c.write("null"); return }
        if value == 0 { c.write(value.sign == .minus ? "-0.0" : "0.0"); return }
        var v = value
        if v < 0 { c.write(UInt8(ascii: "-")); v = -v }
        // Swift's description is the shortest round-trip: split it into digits and exponent.
        let text = Array(v.description.utf8)
        var digits: [UInt8] = []
        var exponent = 0
        var pointAt: Int?
        var i = 0
        while i < text.count {
            let b = text[i]
            if b == UInt8(ascii: ".") { pointAt = digits.count }
            else if b == UInt8(ascii: "e") || b == UInt8(ascii: "E") {
                exponent = Int(String(decoding: text[(i + 1)...], as: UTF8.self)) ?? 0
                break
            } else { digits.append(b) }
            i += 1
        }
        let intDigits = pointAt ?? digits.count
        // value = 0.d1d2... × 10^(intDigits + exponent); strip leading and trailing zeros.
        var kk = intDigits + exponent
        while digits.count > 1 && digits.first == UInt8(ascii: "0") { digits.removeFirst(); kk -= 1 }
        while digits.count > 1 && digits.last == UInt8(ascii: "0") { digits.removeLast() }
        let length = digits.count
        if length <= kk && kk <= 21 {
            c.write(digits)
            for _ in length..<kk { c.write(UInt8(ascii: "0")) }
            c.write(".0")
        } else if 0 < kk && kk <= 21 {
            c.write(Array(digits[..<kk]))
            c.write(UInt8(ascii: "."))
            c.write(Array(digits[kk...]))
        } else if -6 < kk && kk <= 0 {
            c.write("0.")
            for _ in 0..<(-kk) { c.write(UInt8(ascii: "0")) }
            c.write(digits)
        } else {
            c.write(digits[0])
            if length > 1 {
                c.write(UInt8(ascii: "."))
                c.write(Array(digits[1...]))
            }
            c.write(UInt8(ascii: "e"))
            var k = kk - 1
            if k < 0 { c.write(UInt8(ascii: "-")); k = -k }
            c.writeDecimal(UInt64(k))
        }
    }
}
