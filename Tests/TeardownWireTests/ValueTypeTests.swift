import Testing
import TeardownTestSupport
@testable import TeardownWire

@Suite("SequenceNumber: modular arithmetic (RFC 9293 §3.4, RFC 1982)")
struct SequenceNumberTests {
    @Test("order across the wrap", arguments: [
        // (a, b, a < b)
        (UInt32(0xFFFF_FFFF), UInt32(0), true),
        (0xFFFF_FFF0, 0x10, true),
        (0x10, 0xFFFF_FFF0, false),
        (0, 0x7FFF_FFFF, true),            // just under half the space: still "before"
        (0x7FFF_FFFF, 0, false),
        (0x8000_0001, 0, true),            // more than half ahead means behind
        (1000, 1000, false),
    ])
    func order(_ a: UInt32, _ b: UInt32, _ before: Bool) {
        let x = SequenceNumber(a), y = SequenceNumber(b)
        #expect((x < y) == before)
        if a != b { #expect((y < x) == !before) }
        #expect((x <= y) == (before || a == b))
        #expect((x > y) == (!before && a != b))
        #expect(SequenceNumber.latest(x, y) == (before ? y : x))
    }

    @Test("distance and addition wrap")
    func distanceWraps() {
        #expect(SequenceNumber(5).distance(from: SequenceNumber(0xFFFF_FFFB)) == 10)
        #expect(SequenceNumber(0xFFFF_FFFB).distance(from: SequenceNumber(5)) == -10)
        #expect(SequenceNumber(0xFFFF_FFFF) + 2 == SequenceNumber(1))
        #expect(SequenceNumber(3) - SequenceNumber(0xFFFF_FFFE) == 5)
        #expect(SequenceNumber(4).relative(to: SequenceNumber(0xFFFF_FFF0)) == 20)
        #expect(SequenceNumber(0).relative(to: SequenceNumber(1)) == 0xFFFF_FFFF)
    }

    /// Exactly 2^31 apart the order is undefined (RFC 1982 §3.2); it must still not trap.
    @Test("half the space apart does not trap")
    func halfSpace() {
        let a = SequenceNumber(0), b = SequenceNumber(0x8000_0000)
        #expect(a.distance(from: b) == Int32.min)
        #expect(b.distance(from: a) == Int32.min)
    }

    @Test("a decoded SYN-FIN-data segment occupies payload + 2 of sequence space")
    func sequenceLength() {
        let s = TCPSegment(source: Endpoint(address: Addr.ip4a, port: 1), destination: Endpoint(address: Addr.ip4b, port: 2),
                           sequenceNumber: SequenceNumber(0xFFFF_FFFF), acknowledgmentNumber: SequenceNumber(0),
                           flags: [.syn, .fin], window: 0, payloadLength: 10)
        #expect(s.sequenceLength == 12)
        #expect(s.sequenceNumber + s.sequenceLength == SequenceNumber(11))
    }
}

@Suite("IPAddress text")
struct IPAddressTextTests {
    /// RFC 5952 §4: canonical text. (address groups, text)
    @Test("RFC 5952 canonical form", arguments: [
        ([0x2001, 0x0db8, 0, 0, 0, 0, 0, 1] as [UInt16], "2001:db8::1"),            // §4.1 leading zeros dropped
        ([0x2001, 0x0db8, 0, 0, 0, 0, 2, 1], "2001:db8::2:1"),
        ([0x2001, 0x0db8, 0, 1, 1, 1, 1, 1], "2001:db8:0:1:1:1:1:1"),               // §4.2.2 one zero group stays
        ([0x2001, 0, 0, 1, 0, 0, 0, 1], "2001:0:0:1::1"),                           // §4.2.3 longest run
        ([0x2001, 0x0db8, 0, 0, 1, 0, 0, 1], "2001:db8::1:0:0:1"),                  // §4.2.3 first of equal runs
        ([0x2001, 0x0DB8, 0, 0, 0, 0, 0xABCD, 0xEF01], "2001:db8::abcd:ef01"),      // §4.3 lower case
        ([0, 0, 0, 0, 0, 0, 0, 0], "::"),
        ([0, 0, 0, 0, 0, 0, 0, 1], "::1"),
        ([1, 0, 0, 0, 0, 0, 0, 0], "1::"),
        ([0xfe80, 0, 0, 0, 0x0202, 0xb3ff, 0xfe1e, 0x8329], "fe80::202:b3ff:fe1e:8329"),
        ([1, 2, 3, 4, 5, 6, 7, 8], "1:2:3:4:5:6:7:8"),
        ([0, 1, 0, 1, 0, 1, 0, 1], "0:1:0:1:0:1:0:1"),
    ])
    func canonical(_ groups: [UInt16], _ text: String) {
        let a = Self.address(groups)
        #expect(a.description == text)
        #expect(IPAddress(text) == a)
    }

    static func address(_ g: [UInt16]) -> IPAddress {
        var hi: UInt64 = 0, lo: UInt64 = 0
        for i in 0..<4 { hi = hi << 16 | UInt64(g[i]); lo = lo << 16 | UInt64(g[i + 4]) }
        return IPAddress(ipv6High: hi, low: lo)
    }

    @Test("parses other spellings of the same address", arguments: [
        ("2001:DB8::1", "2001:db8::1"),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("2001:db8:0:0:0::1", "2001:db8::1"),
        ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),
        ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),
        ("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"),
        ("1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"),
    ])
    func spellings(_ input: String, _ canonical: String) {
        #expect(IPAddress(input)?.description == canonical)
    }

    @Test("rejects", arguments: [
        "", ":", ":::", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::8", "12345::", "g::1", "1:2:3:4:5:6:7",
        "1.2.3", "1.2.3.4.5", "1.2.3.256", "1..2.3", "a.b.c.d", "1.2.3.4:80", "::1.2.3", " 1.2.3.4", "1.2.3.4.",
    ])
    func rejects(_ text: String) {
        #expect(IPAddress(text) == nil, "\(text) parsed as \(String(describing: IPAddress(text)))")
    }

    @Test("IPv4 dotted quad")
    func ipv4() {
        #expect(IPAddress("10.0.0.1") == IPAddress(ipv4: 0x0A00_0001))
        #expect(IPAddress(ipv4: 0xC0A8_0102).description == "192.168.1.2")
        #expect(IPAddress(ipv4: 0).description == "0.0.0.0")
        #expect(IPAddress(ipv4: 0xFFFF_FFFF).description == "255.255.255.255")
        // ::1.2.3.4 and 1.2.3.4 are different keys.
        #expect(IPAddress("::1.2.3.4") != IPAddress("1.2.3.4"))
        #expect(IPAddress("1.2.3.4")! < IPAddress("::")!)
    }

    @Test("description round-trips through the parser (seeded random addresses)")
    func roundTrip() {
        var rng = SplitMix64(state: 52)
        for _ in 0..<2000 {
            // Bias toward zero groups so that :: placement gets exercised.
            let groups = (0..<8).map { _ in rng.next() % 3 == 0 ? UInt16(truncatingIfNeeded: rng.next()) : 0 }
            let a = Self.address(groups)
            #expect(IPAddress(a.description) == a, "\(groups) -> \(a)")
            let v4 = IPAddress(ipv4: UInt32(truncatingIfNeeded: rng.next()))
            #expect(IPAddress(v4.description) == v4)
        }
    }

    @Test("Endpoint text brackets IPv6")
    func endpoint() {
        #expect(Endpoint(address: Addr.ip6a, port: 443).description == "[2001:db8::1]:443")
        #expect(Endpoint(address: Addr.ip4a, port: 80).description == "10.0.0.1:80")
    }

    /// Shared-type gaps found while testing, reported rather than fixed (not this task's files).
    @Test("known gaps in the shared IPAddress text code")
    func knownGaps() {
        // RFC 5952 §5: IPv4-mapped addresses keep the dotted quad (inet_ntop prints that).
        #expect(IPAddress("::ffff:192.0.2.1")?.description == "::ffff:192.0.2.1")
        // Swift's integer parsers accept a leading '+'; addresses must not.
        #expect(IPAddress("+1.2.3.4") == nil)
        #expect(IPAddress("::+1") == nil)
    }
}
