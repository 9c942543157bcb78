import Foundation
import Testing

/// The captures in captures/fragments/ (made by tools/captures/fragments.py): real recordings
/// with every segment sent as IP fragments, and hostile fragments mixed into one of them.
@Suite struct FragmentTests {
    static let fixtures = CLI.captures(under: "captures/fragments")

    /// The recording a fixture came from (captures/README.md lists it).
    static func source(of fixture: String) -> String {
        fixture.contains("ipv6") ? "captures/real/ipv6-graceful.pcap" : "captures/real/graceful-client-close.pcap"
    }

    /// Keys whose values are packet numbers in the file.
    static let numberKeys: Set<String> = ["number", "first_packet", "last_packet", "packet", "first_number", "last_number"]

    /// JSON records (with events) without the `file` key, every packet number replaced by its
    /// rank among the numbers of the packets the records show: a reassembled packet takes its
    /// last fragment's number, so a fragmented file numbers the same segments differently.
    static func records(_ path: String) throws -> (records: [NSDictionary], stderr: String) {
        let r = try CLI.run(["replay", path, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let objects = try r.stdout.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        var numbers = Set<Int>()
        for o in objects {
            for e in o["events"] as? [[String: Any]] ?? [] where e["type"] as? String == "packet" {
                if let n = e["number"] as? Int { numbers.insert(n) }
            }
        }
        let rank = Dictionary(uniqueKeysWithValues: numbers.sorted().enumerated().map { ($1, $0 + 1) })
        func renumber(_ value: Any, key: String?) -> Any {
            if let key, numberKeys.contains(key), let n = value as? Int { return rank[n] ?? -n }
            if let d = value as? [String: Any] {
                return Dictionary(uniqueKeysWithValues: d.map { ($0, renumber($1, key: $0)) })
            }
            if let a = value as? [Any] { return a.map { renumber($0, key: nil) } }
            return value
        }
        let out = objects.map { o -> NSDictionary in
            var copy = o
            copy.removeValue(forKey: "file")
            return renumber(copy, key: nil) as! NSDictionary
        }
        return (out, r.stderr)
    }

    @Test func everyFixtureIsPresent() {
        #expect(FragmentTests.fixtures.count >= 9)
    }

    /// Every fixture gives exactly the recording's records: the fragmented segments (SYNs,
    /// data, both FINs) are reassembled, at the recording's times, whatever the order of their
    /// fragments, their duplicates, or the hostile fragments around them.
    @Test(arguments: fixtures)
    func sameResultAsTheRecording(_ fixture: String) throws {
        let mine = try FragmentTests.records(fixture)
        let original = try FragmentTests.records(FragmentTests.source(of: fixture))
        #expect(mine.records.count == 1)
        #expect(mine.records == original.records, "\(fixture) differs from \(FragmentTests.source(of: fixture))")
    }

    /// What replay says on stderr about each fixture: nothing for the well-formed ones; for the
    /// hostile ones, the packet that was wrong and the datagrams dropped, by reason.
    @Test func hostileFixtures_sayWhatWasDropped() throws {
        let expected: [String: [String]] = [
            "ipv4-in-order": [], "ipv4-out-of-order": [], "ipv4-duplicates": [],
            "ipv6-in-order": [], "ipv6-out-of-order": [], "ipv6-duplicates": [],
            // fragments.py squeezes the flood's fragments between the conversation's packets at
            // least 1 ns apart, so a few are stamped just after the packet that follows them.
            "flood": ["captures/fragments/flood.pcap: 2,000 fragmented datagrams were not reassembled: "
                      + "1,000 incomplete after 30 s, 1,000 incomplete at the end of the input (10 reassembled from 2,027 fragments)",
                      "captures/fragments/flood.pcap: the clock goes back at packet 1041, by 0.000000038 s (273 packets are "
                      + "stamped earlier than a packet before them); a connection's duration runs from its first packet to the "
                      + "latest time among its packets"],
            "oversize": ["captures/fragments/oversize.pcap: packet 4: malformed IPv4 header: fragment ends past the largest "
                         + "datagram (65,535 bytes): the datagram is dropped",
                         "captures/fragments/oversize.pcap: 1 fragmented datagram was not reassembled: 1 with fragments "
                         + "that contradict the datagram (10 reassembled from 28 fragments)"],
            "tiny-overlap": ["captures/fragments/tiny-overlap.pcap: packet 10: malformed IPv4 header: fragment overlaps another "
                             + "fragment of its datagram (RFC 5722): the datagram is dropped",
                             "captures/fragments/tiny-overlap.pcap: 2 fragmented datagrams were not reassembled: 1 with "
                             + "overlapping fragments, 1 incomplete at the end of the input (10 reassembled from 30 fragments)"],
        ]
        for (name, lines) in expected {
            let r = try CLI.run(["replay", "captures/fragments/\(name).pcap", "--summary"])
            #expect(r.status == 0)
            let got = r.stderr.split(separator: "\n").map { String($0) }
            #expect(got == lines.map { "teardown: warning: " + $0 }, "\(name)")
        }
    }

    /// A flood larger than the fragment memory (4 MiB): the oldest datagrams are dropped to
    /// make room, one line says so, and the conversation after it is whole.
    @Test func floodPastTheMemoryLimit_dropsTheOldest_andTheConversationIsWhole() throws {
        let conversation = try Pcap.read(CLI.packageRoot.appendingPathComponent("captures/fragments/ipv4-in-order.pcap"))
        let start = conversation.records[0].time - 20_000_000_000
        var records: [Pcap.Record] = []
        for n in 0..<4000 {
            // A first fragment (MF set) of 1,400 bytes from 198.18.x.y; none ever completes.
            var ip: [UInt8] = [0x45, 0, 0x05, 0x8C, UInt8(n >> 8), UInt8(n & 0xFF), 0x20, 0, 64, 6, 0, 0,
                               198, 18, UInt8(n >> 8), UInt8(n & 0xFF), 127, 0, 0, 1]
            ip += [UInt8](repeating: 0x42, count: 1400)
            records.append(Pcap.Record(time: start + Int64(n) * 1000, bytes: [UInt8](repeating: 0, count: 12) + [8, 0] + ip))
        }
        let dir = try HardeningTests.tmpDir()
        let path = dir.appendingPathComponent("fragment-flood.pcap")
        try Pcap.write(records + conversation.records, to: path)
        let mine = try FragmentTests.records(path.path)
        let original = try FragmentTests.records(FragmentTests.source(of: "ipv4"))
        #expect(mine.records == original.records)
        #expect(mine.stderr.contains("dropped to stay within 4 MiB of fragments"), "\(mine.stderr)")
        #expect(mine.stderr.split(separator: "\n").count == 1, "\(mine.stderr)")
    }
}

/// Just enough of the pcap format (pcap-savefile(5)) for a test to write a capture: nanosecond
/// timestamps, Ethernet, little-endian.
enum Pcap {
    struct Record {
        var time: Int64
        var bytes: [UInt8]
    }

    static func read(_ url: URL) throws -> (linkType: UInt32, records: [Record]) {
        let data = [UInt8](try Data(contentsOf: url))
        func u32(_ at: Int) -> UInt32 { UInt32(data[at]) | UInt32(data[at + 1]) << 8 | UInt32(data[at + 2]) << 16 | UInt32(data[at + 3]) << 24 }
        try #require(u32(0) == 0xA1B2_3C4D, "a little-endian nanosecond pcap")
        var records: [Record] = []
        var at = 24
        while at + 16 <= data.count {
            let length = Int(u32(at + 8))
            records.append(Record(time: Int64(u32(at)) * 1_000_000_000 + Int64(u32(at + 4)),
                                  bytes: Array(data[(at + 16)..<(at + 16 + length)])))
            at += 16 + length
        }
        return (u32(20), records)
    }

    static func write(_ records: [Record], to url: URL) throws {
        var out: [UInt8] = []
        func u32(_ v: UInt32) { out += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }
        u32(0xA1B2_3C4D); out += [2, 0, 4, 0]; u32(0); u32(0); u32(65535); u32(1)
        for r in records {
            u32(UInt32(r.time / 1_000_000_000)); u32(UInt32(r.time % 1_000_000_000))
            u32(UInt32(r.bytes.count)); u32(UInt32(r.bytes.count))
            out += r.bytes
        }
        try Data(out).write(to: url)
    }
}
