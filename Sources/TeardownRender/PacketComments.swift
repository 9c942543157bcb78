import TeardownModel
import TeardownWire

/// What teardown says about each packet of a connection, as the packet comments of
/// `replay --annotate` (docs/annotate.md): `key=value` pairs separated by spaces (logfmt: a value
/// with a space, a quote, an `=` or a control character is quoted, `"` and `\` escaped), so that
/// Wireshark's `frame.comment contains "teardown=abort"` finds them without a plugin.
///
/// Every comment starts with `conn=N` (the connection's index, as the timeline's header and
/// JSON's `index` give it). The connection's first packet carries its verdict: `teardown=`,
/// `conn_state=`, `closed_by=` (when a side closed it) and `half_close=true`. Then, on any packet
/// that has them and in this order: `state=SIDE:STATE` for each side whose state it changed;
/// `rst=VALIDITY` on an RST (how the receiver judges it), with the kernel lane
/// `kernel_reason=NAME` and `sent_by_this_host=true|false`; `note=CODE` for each of its notes;
/// `diagnosis=CODE:CONFIDENCE` on each evidence packet of a diagnosis; and `call="SIDE CALL = RESULT
/// [ERRNO]"` for each socket call whose nearest packet in time it is. Sides are `client` (the
/// originator) and `server`.
public enum PacketComments {
    /// `record`'s comments, in packet order, one per packet that has something said about it.
    public static func comments(_ record: ConnectionRecord) -> [(number: Int, text: String)] {
        var parts: [Int: [String]] = [:]
        func add(_ number: Int, _ part: String) {
            guard number > 0 else { return }
            parts[number, default: []].append(part)
        }
        var verdict = "teardown=\(record.teardown.name) conn_state=\(record.connState.rawValue)"
        if let closer = record.closedBy { verdict += " closed_by=\(closer.roleText)" }
        if record.halfClose { verdict += " half_close=true" }
        add(record.firstPacketNumber, verdict)

        // Packets and the ends of folds, in time order: where calls are placed.
        var marks: [(time: Timestamp, number: Int)] = []
        for event in record.events {
            switch event {
            case .packet(let p):
                marks.append((p.time, p.number))
                for t in p.transitions { add(p.number, "state=\(t.side.roleText):\(t.to.rawValue)") }
                if p.flags.contains(.rst) {
                    add(p.number, "rst=\((p.rstValidity ?? .unknown).rawValue)")
                    switch p.kernelReset {
                    case .sent(let reason)?:
                        if let reason { add(p.number, "kernel_reason=\(value(reason.name ?? "reason \(reason.rawValue)"))") }
                        add(p.number, "sent_by_this_host=true")
                    case .notSentHere?:
                        add(p.number, "sent_by_this_host=false")
                    case nil:
                        break
                    }
                }
                for n in p.notes { add(p.number, "note=\(n.code.rawValue)") }
            case .fold(let f):
                marks.append((f.firstTime, f.firstNumber))
                marks.append((f.lastTime, f.lastNumber))
            case .call, .note, .kernel:
                break
            }
        }
        for d in record.diagnoses {
            for n in d.evidence { add(n, "diagnosis=\(d.code.rawValue):\(d.confidence.rawValue)") }
        }
        if !marks.isEmpty {
            for event in record.events {
                guard case .call(let c) = event else { continue }
                var text = "\(c.side.roleText) \(c.call) = \(c.result)"
                if let e = c.errno { text += " \(e)" }
                add(nearest(c.time, in: marks), "call=\(value(text))")
            }
        }
        var numbers = Array(parts.keys)
        numbers.sort()
        // The verdict is added first, so the first packet's comment reads `conn=N teardown=…`.
        return numbers.map { n in (n, "conn=\(record.index) " + parts[n]!.joined(separator: " ")) }
    }

    /// The packet nearest `time` among `marks`; of two as near, the later one (a call comes
    /// before the packet it causes). Looked for in all of them: a capture's clock may go back.
    static func nearest(_ time: Timestamp, in marks: [(time: Timestamp, number: Int)]) -> Int {
        var best = marks[0]
        var distance = Format.difference(time, best.time).magnitude
        for m in marks.dropFirst() {
            let d = Format.difference(time, m.time).magnitude
            if d < distance || (d == distance && best.time < m.time) {
                best = m
                distance = d
            }
        }
        return best.number
    }

    /// `v` as a logfmt value: as it is when it needs no quotes, else quoted with `"` and `\`
    /// escaped and control characters written as `\n`, `\t` or `\u{…}`.
    public static func value(_ v: String) -> String {
        let plain = !v.isEmpty && v.unicodeScalars.allSatisfy { s in
            s.value > 0x20 && s.value != 0x7F && s != "\"" && s != "=" && s != "\\"
        }
        if plain { return v }
        var out = "\""
        for s in v.unicodeScalars {
            switch s {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if s.value < 0x20 || s.value == 0x7F {
                    out += "\\u{\(String(s.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(s)
                }
            }
        }
        return out + "\""
    }
}
