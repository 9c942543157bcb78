import Foundation
import Testing
import TeardownModel
import TeardownWire
@testable import TeardownRender

struct JSONWriterTests {
    static func encoded(_ s: String) -> String {
        JSONWriter.text { $0.string(s) }
    }

    /// RFC 8259 §7: `"` and `\` escaped, U+0000–U+001F as \u00XX, everything else verbatim.
    @Test(arguments: [
        ("plain", #""plain""#), ("say \"hi\"", #""say \"hi\"""#), (#"C:\dir"#, #""C:\\dir""#),
        ("a\nb\tc\r", #""a\u000ab\u0009c\u000d""#), ("\u{0}\u{1}\u{1F}", #""\u0000\u0001\u001f""#),
        ("\u{7F}", "\"\u{7F}\""), ("é ⇄ 🦀", "\"é ⇄ 🦀\""), ("/", #""/""#), ("", #""""#),
    ])
    func string_escaping(_ input: String, _ expected: String) {
        #expect(Self.encoded(input) == expected)
    }

    /// Every scalar class round-trips through a real JSON parser.
    @Test func string_roundTripsThroughJSONSerialization() throws {
        var all = ""
        for v in 0..<0x80 { all.unicodeScalars.append(Unicode.Scalar(v)!) }
        all += "é\u{2028}\u{FFFD}🦀"
        let text = JSONWriter.text { w in w.beginArray(); w.string(all); w.endArray() }
        let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String]
        #expect(parsed == [all])
    }

    @Test func numbers_andSeparators() {
        let text = JSONWriter.text { w in
            w.beginObject()
            w.key("a"); w.int(0)
            w.key("b"); w.int(Int64.min)
            w.key("c"); w.int(UInt64.max)
            w.key("d"); w.int(Optional<Int>.none)
            w.key("e"); w.beginArray(); w.bool(true); w.null(); w.beginObject(); w.endObject(); w.endArray()
            w.endObject()
        }
        #expect(text == #"{"a":0,"b":-9223372036854775808,"c":18446744073709551615,"d":null,"e":[true,null,{}]}"#)
    }

    @Test(arguments: [
        (Int64(1_714_564_800_123_456_789), "1714564800.123456789"), (0, "0.000000000"), (1, "0.000000001"),
        (-1, "-0.000000001"), (-1_500_000_000, "-1.500000000"), (Int64.min, "-9223372036.854775808"),
        (1_000_000_000, "1.000000000"),
    ])
    func seconds_areExactFromNanoseconds(_ ns: Int64, _ expected: String) {
        #expect(JSONWriter.text { $0.seconds(nanoseconds: ns) } == expected)
    }

    /// One writer, many times in a row (as a connection's events): whole seconds kept from the
    /// time before are copied, so a run of times that share them, times that do not, a negative
    /// time with the same magnitude and the widest values must each read as written alone.
    @Test func seconds_inARow_equalEachWrittenAlone() {
        let times: [Int64] = [
            1_714_564_800_123_456_789, 1_714_564_800_999_999_999, 1_714_564_801_000_000_000, 1_714_564_800_000_000_001,
            -1_714_564_800_000_000_001, 0, 5, 9_000_000_000, 10_000_000_000, 10_000_000_001, Int64.max, Int64.min,
            Int64.min + 1, Int64.max, 1_714_564_801_000_000_000,
        ]
        let row = JSONWriter.text { w in
            w.beginArray()
            for t in times { w.seconds(nanoseconds: t) }
            w.endArray()
        }
        let alone = times.map { t in JSONWriter.text { $0.seconds(nanoseconds: t) } }
        #expect(row == "[" + alone.joined(separator: ",") + "]")
    }
}

struct JSONLinesTests {
    static let topKeys = ["schema_version", "file", "index", "orig", "resp", "teardown", "conn_state", "history",
                          "closed_by", "half_close", "rst", "bytes", "start", "end", "duration", "midstream", "one_sided",
                          "first_packet", "last_packet", "expired", "notes", "events"]
    static let sideKeys = ["addr", "port", "packets", "payload_bytes", "syn", "fin", "rst", "state"]
    static let ledgerKeys = ["sent", "retransmitted", "acked", "in_flight_at_rst", "sent_after_rst", "written",
                             "read_by_peer", "lost", "lost_known", "never_sent", "unacked", "unread"]
    static let eventKeys: [String: [String]] = [
        "packet": ["type", "time", "number", "from", "flags", "seq", "ack", "len", "win", "orig_state", "resp_state",
                   "transitions", "notes", "retransmission", "truncated", "rst_validity"],
        "fold": ["type", "first_time", "last_time", "first_number", "last_number", "orig_segments", "resp_segments",
                 "orig_bytes", "resp_bytes"],
        "call": ["type", "time", "side", "pid", "fd", "call", "result", "errno", "duration_ns"],
        "note": ["type", "time", "side", "code", "text"],
    ]

    static func parse(_ line: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test(arguments: Fixtures.all.map(\.name))
    func oneLine_parsesWithTheDocumentedKeys(_ name: String) throws {
        let record = GoldenTests.record(name)
        let line = JSONLinesRenderer.render(record, source: "x.pcap", includeEvents: true)
        #expect(!line.contains("\n"))
        let o = try Self.parse(line)
        #expect(Set(o.keys) == Set(Self.topKeys))
        for side in ["orig", "resp"] {
            #expect(Set((o[side] as? [String: Any])?.keys ?? [:].keys) == Set(Self.sideKeys))
        }
        let bytes = try #require(o["bytes"] as? [String: Any])
        #expect(Set(bytes.keys) == ["orig", "resp"])
        for side in ["orig", "resp"] {
            #expect(Set((bytes[side] as? [String: Any])?.keys ?? [:].keys) == Set(Self.ledgerKeys))
        }
        let events = try #require(o["events"] as? [[String: Any]])
        #expect(events.count == record.events.count)
        for e in events {
            let type = try #require(e["type"] as? String)
            #expect(Set(e.keys) == Set(Self.eventKeys[type] ?? []), "event type \(type)")
        }
        #expect(o["schema_version"] as? Int == 2)
        #expect(o["file"] as? String == "x.pcap")
        #expect(o["index"] as? Int == record.index)
        #expect(o["teardown"] as? String == record.teardown.name)
        #expect(o["midstream"] as? Bool == record.midstream)
        #expect(o["first_packet"] as? Int == record.firstPacketNumber)
        #expect(o["last_packet"] as? Int == record.lastPacketNumber)
        let notes = try #require(o["notes"] as? [[String: String]])
        #expect(notes.map { $0["code"] } == record.notes.map { $0.code.rawValue })
        #expect(notes.map { $0["text"] } == record.notes.map(\.text))
    }

    @Test func lingerAbort_values() throws {
        let o = try Self.parse(JSONLinesRenderer.render(Fixtures.lingerAbort, source: nil, includeEvents: true))
        #expect(o["file"] == nil)
        #expect(o["closed_by"] as? String == "orig")
        #expect(o["conn_state"] as? String == "RSTO")
        let rst = try #require(o["rst"] as? [String: Any])
        #expect(rst["from"] as? String == "orig")
        #expect(rst["shape"] as? String == "R.")
        #expect(rst["validity"] as? String == "exact")
        #expect(rst["packet"] as? Int == 38)
        #expect(rst["acked"] as? Int == 0)
        let orig = try #require((o["bytes"] as? [String: Any])?["orig"] as? [String: Any])
        #expect(orig["written"] as? Int == 300_000)
        #expect(orig["lost"] as? Int == 150_000)
        #expect(orig["in_flight_at_rst"] as? Int == 4_000)
        let client = try #require(o["orig"] as? [String: Any])
        #expect(client["addr"] as? String == "10.0.0.1")
        #expect(client["port"] as? Int == 51_000)
        #expect(client["state"] as? String == "CLOSED")
        let events = try #require(o["events"] as? [[String: Any]])
        let call = try #require(events.first)
        #expect(call["type"] as? String == "call")
        #expect(call["call"] as? String == "setsockopt(SO_LINGER, {1, 0})")
        #expect(call["errno"] is NSNull)
        let failed = try #require(events.first { $0["errno"] as? String == "ECONNRESET" })
        #expect(failed["result"] as? Int == -1)
        #expect(failed["duration_ns"] as? Int == 3_000)
        let syn = try #require(events.first { $0["number"] as? Int == 1 })
        #expect(syn["ack"] is NSNull)
        #expect(syn["flags"] as? String == "S")
        let transitions = try #require(syn["transitions"] as? [[String: String]])
        #expect(transitions == [["side": "orig", "from": "CLOSED", "to": "SYN-SENT"]])
    }

    @Test func nullsWhereTheModelHasNothing() throws {
        let o = try Self.parse(JSONLinesRenderer.render(Fixtures.graceful, source: nil, includeEvents: false))
        #expect(o["rst"] is NSNull)
        #expect(o["events"] == nil)
        let orig = try #require((o["bytes"] as? [String: Any])?["orig"] as? [String: Any])
        for key in ["in_flight_at_rst", "sent_after_rst", "written", "read_by_peer", "lost", "never_sent", "unacked", "unread"] {
            #expect(orig[key] is NSNull, "\(key)")
        }
        let ipv6 = try Self.parse(JSONLinesRenderer.render(Fixtures.ipv6HalfClose, source: nil, includeEvents: false))
        #expect((ipv6["orig"] as? [String: Any])?["addr"] as? String == "2001:db8:85a3::8a2e:370:7334")
        #expect(ipv6["half_close"] as? Bool == true)
        let mid = try Self.parse(JSONLinesRenderer.render(Fixtures.midstream, source: nil, includeEvents: false))
        #expect((mid["rst"] as? [String: Any])?["acked"] is NSNull)
        #expect((mid["rst"] as? [String: Any])?["shape"] as? String == "R")
    }

    @Test func timesArePrintedExactly() {
        let line = JSONLinesRenderer.render(Fixtures.midstream, source: nil, includeEvents: false)
        // start = 1714564800.123456789, end = start + 5.300050 s, checked by hand.
        #expect(line.contains(#""start":1714564800.123456789,"end":1714564805.423506789,"duration":5.300050000,"#))
    }

    @Test func sourceLabelIsEscaped() throws {
        let line = JSONLinesRenderer.render(Fixtures.refused, source: "we\"ird\\name\n.pcap", includeEvents: false)
        #expect(try Self.parse(line)["file"] as? String == "we\"ird\\name\n.pcap")
    }

    /// Key order and exact decimals checked by an independent parser: Python's json module with
    /// object_pairs_hook (order) and parse_float=Decimal (no binary rounding).
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")),
          arguments: Fixtures.all.map(\.name))
    func keyOrderAndDecimals_checkedByPython(_ name: String) throws {
        let line = JSONLinesRenderer.render(GoldenTests.record(name), source: "f.pcap", includeEvents: true)
        let script = """
        import json, sys, decimal
        o = json.loads(sys.stdin.read(), object_pairs_hook=lambda p: p, parse_float=decimal.Decimal)
        d = dict(o)
        print(",".join(k for k, _ in o))
        print(",".join(k for k, _ in d["orig"]))
        print(",".join(k for k, _ in dict(d["bytes"])["resp"]))
        print(d["start"], d["end"], d["duration"])
        """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = ["-c", script]
        let input = Pipe(), output = Pipe()
        p.standardInput = input; p.standardOutput = output
        try p.run()
        input.fileHandleForWriting.write(Data(line.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        try #require(lines.count == 4)
        #expect(lines[0] == Self.topKeys.joined(separator: ","))
        #expect(lines[1] == Self.sideKeys.joined(separator: ","))
        #expect(lines[2] == Self.ledgerKeys.joined(separator: ","))
        #expect(lines[3].hasPrefix("1714564800.123456789 "))
    }
}
