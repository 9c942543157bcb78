import Testing
@testable import TeardownWire

@Suite("PacketDecoder: fixtures")
struct PacketDecoderFixtureTests {
    @Test("decodes", arguments: Fixtures.all)
    func decodes(_ f: Fixture) {
        let r = decode(f.bytes, f.linkType)
        #expect(f.expected.matches(r), "\(f.name): got \(r), want \(f.expected)")
    }

    @Test("unsupported link types are reported by their own value")
    func unsupportedCarriesLinkType() {
        #expect(decode([1, 2, 3], LinkType(rawValue: 220)) == .unsupportedLinkType)
    }

    /// Ethernet padding after a short IP packet must not count as payload (gopacket's rule:
    /// trust the IP length over the buffer).
    @Test("Ethernet padding is not payload")
    func paddingIsNotPayload() throws {
        let f = Fixture.v4("", .ethernet(tags: []), Specs.data(2))
        #expect(f.bytes.count == 60)                 // 14 + 20 + 20 + 2 = 56, padded by 4
        guard case .tcp(let s) = decode(f.bytes, .ethernet) else { Issue.record("not TCP"); return }
        #expect(s.payloadLength == 2)
        #expect(!s.isTruncated)
    }

    /// A snaplen cut inside the payload keeps the headers and the IP-derived payload length.
    @Test("snaplen cut inside the payload is truncated TCP with the full payload length")
    func snaplenCutPayload() {
        let f = Fixture.v4("", .sll, Specs.data(100))
        let cut = Array(f.bytes.prefix(f.tcpEnd + 10))
        guard case .tcp(let s) = decode(cut, .linuxSLL, original: f.bytes.count) else { Issue.record("not TCP"); return }
        #expect(s.payloadLength == 100)
        #expect(s.isTruncated)
        #expect(s.sequenceLength == 100)
    }

    @Test("snaplen cut inside the TCP options keeps the segment, marked truncated, with the options captured")
    func snaplenCutOptions() {
        let f = Fixture.v4("", .ethernet(tags: []), Specs.syn)
        let cut = Array(f.bytes.prefix(f.tcpStart + 25))   // fixed header + MSS (4 bytes) + 1 byte of the next option
        guard case .tcp(let s) = decode(cut, .ethernet, original: f.bytes.count) else { Issue.record("not a segment"); return }
        #expect(s.isTruncated)
        #expect(s.flags == .syn)
        #expect(s.options.mss != nil, "the whole MSS option was captured")
        // The same bytes as a packet that really was that short on the wire is not a segment.
        guard case .invalid = decode(cut, .ethernet, original: cut.count) else { Issue.record("short packet decoded"); return }
    }

    @Test("TSO super-packet: IPv4 total length 0 takes the length from the wire")
    func tsoTotalLengthZero() {
        let f = Fixture.v4("", .ethernet(tags: []), Specs.data(30_000), totalLength: 0)
        // Captured with snaplen 262144 on the host that sent it: nothing was cut.
        guard case .tcp(let s) = decode(f.bytes, .ethernet) else { Issue.record("not TCP"); return }
        #expect(s.payloadLength == 30_000)
        // Cut by a 96-byte snaplen: headers kept, the payload length still comes from the wire.
        guard case .tcp(let c) = decode(Array(f.bytes.prefix(96)), .ethernet, original: f.bytes.count) else {
            Issue.record("not TCP"); return
        }
        #expect(c.payloadLength == 30_000 && c.isTruncated)
    }

    @Test("IPv6 payload length 0 (jumbogram / BIG TCP) takes the length from the wire")
    func ipv6PayloadLengthZero() {
        let spec = Specs.data(70_000)
        let ip = Build.ipv6(src: Addr.v6a, dst: Addr.v6b, firstNext: 0, extensions: Build.ext(next: 6), upper: spec.bytes,
                            payloadLength: 0)
        guard case .tcp(let s) = decode(ip, .ipv6) else { Issue.record("not TCP"); return }
        #expect(s.payloadLength == 70_000)
    }

    /// The flags byte layout (RFC 9293 §3.1, RFC 9768): AE is the low bit of byte 12.
    @Test("flag bits", arguments: [
        (UInt16(0x001), TCPFlags.fin), (0x002, .syn), (0x004, .rst), (0x008, .psh), (0x010, .ack),
        (0x020, .urg), (0x040, .ece), (0x080, .cwr), (0x100, .ae),
    ])
    func flagBit(_ raw: UInt16, _ flag: TCPFlags) {
        var spec = Specs.ack
        spec.flags = raw
        let bytes = Build.ipv4(src: 1, dst: 2, payload: spec.bytes)
        #expect(bytes[20 + 12] & 0x0F == UInt8(raw >> 8))   // the fixture puts AE where RFC 9768 says
        guard case .tcp(let s) = decode(bytes, .ipv4) else { Issue.record("not TCP"); return }
        #expect(s.flags == flag)
    }
}

/// Malformed packets: fields that contradict each other, whatever was captured.
struct MalformedCase: Sendable, CustomTestStringConvertible {
    var name: String
    var linkType: LinkType
    var bytes: [UInt8]
    var layer: ProtocolLayer
    /// A word the reason must contain, so the message tells the user which field was wrong.
    var reasonMentions: String
    var original: Int? = nil
    var testDescription: String { name }

    static func tcpOptions(_ name: String, _ options: [UInt8], _ mentions: String) -> MalformedCase {
        var spec = Specs.ack
        spec.options = options
        return MalformedCase(name: name, linkType: .ipv4, bytes: Build.ipv4(src: 1, dst: 2, payload: spec.bytes),
                             layer: .tcp, reasonMentions: mentions)
    }
}

@Suite("PacketDecoder: malformed")
struct PacketDecoderMalformedTests {
    static let tcp = Specs.ack.bytes

    static let cases: [MalformedCase] = [
        MalformedCase(name: "IPv4 IHL 4", linkType: .ipv4,
                      bytes: Build.ipv4(src: 1, dst: 2, payload: tcp, ihl: 4), layer: .ipv4, reasonMentions: "IHL"),
        MalformedCase(name: "IPv4 IHL 0", linkType: .ethernet,
                      bytes: Build.ethernet(type: 0x0800, payload: Build.ipv4(src: 1, dst: 2, payload: tcp, ihl: 0)),
                      layer: .ipv4, reasonMentions: "IHL"),
        MalformedCase(name: "IPv4 total length 19 < header", linkType: .ipv4,
                      bytes: Build.ipv4(src: 1, dst: 2, payload: tcp, totalLength: 19), layer: .ipv4, reasonMentions: "total length"),
        MalformedCase(name: "IPv4 total length below IHL*4 with options", linkType: .ipv4,
                      bytes: Build.ipv4(src: 1, dst: 2, options: [1, 1, 1, 1, 1, 1, 1, 1], payload: tcp, totalLength: 24),
                      layer: .ipv4, reasonMentions: "total length"),
        MalformedCase(name: "IPv4 total length beyond the wire length", linkType: .ipv4,
                      bytes: Build.ipv4(src: 1, dst: 2, payload: tcp, totalLength: 41), layer: .ipv4, reasonMentions: "wire"),
        MalformedCase(name: "IPv4 total length beyond the wire length, snaplen-cut", linkType: .ipv4,
                      bytes: Array(Build.ipv4(src: 1, dst: 2, payload: tcp, totalLength: 1000).prefix(40)),
                      layer: .ipv4, reasonMentions: "wire", original: 500),
        MalformedCase(name: "IPv4 version 5 under EtherType IPv4", linkType: .ethernet,
                      bytes: Build.ethernet(type: 0x0800, payload: Build.ipv4(src: 1, dst: 2, payload: tcp, version: 5)),
                      layer: .ipv4, reasonMentions: "version"),
        MalformedCase(name: "IPv6 version 4 under EtherType IPv6", linkType: .ethernet,
                      bytes: Build.ethernet(type: 0x86DD, payload: Build.ipv6(src: Addr.v6a, dst: Addr.v6b, firstNext: 6, upper: tcp, version: 4)),
                      layer: .ipv6, reasonMentions: "version"),
        MalformedCase(name: "RAW version 0", linkType: .raw, bytes: [0x05] + [UInt8](repeating: 0, count: 39),
                      layer: .link, reasonMentions: "version"),
        MalformedCase(name: "IPv6 payload length beyond the wire length", linkType: .ipv6,
                      bytes: Build.ipv6(src: Addr.v6a, dst: Addr.v6b, firstNext: 6, upper: tcp, payloadLength: 21),
                      layer: .ipv6, reasonMentions: "payload length"),
        MalformedCase(name: "IPv6 extension header past the payload length", linkType: .ipv6,
                      bytes: { var b = Build.ipv6(src: Addr.v6a, dst: Addr.v6b, firstNext: 60, extensions: Build.ext(next: 6), upper: tcp)
                               b[41] = 10; return b }(),
                      layer: .ipv6, reasonMentions: "extension header"),
        MalformedCase(name: "IPv6 payload length too short for the fragment header", linkType: .ipv6,
                      bytes: Build.ipv6(src: Addr.v6a, dst: Addr.v6b, firstNext: 44, extensions: Build.fragment(next: 6, offset: 0, more: false),
                                        upper: tcp, payloadLength: 4) + [UInt8](repeating: 0, count: 0),
                      layer: .ipv6, reasonMentions: "extension header"),
        MalformedCase(name: "IPv6 hop-by-hop after destination options", linkType: .ipv6,
                      bytes: Build.ipv6(src: Addr.v6a, dst: Addr.v6b, firstNext: 60, extensions: Build.ext(next: 0) + Build.ext(next: 6), upper: tcp),
                      layer: .ipv6, reasonMentions: "hop-by-hop"),
        MalformedCase(name: "IP payload shorter than a TCP header", linkType: .ipv4,
                      bytes: Build.ipv4(src: 1, dst: 2, payload: Array(tcp.prefix(12))), layer: .tcp, reasonMentions: "20-byte"),
        MalformedCase(name: "IPv6 payload shorter than a TCP header", linkType: .ipv6,
                      bytes: Build.ipv6(src: Addr.v6a, dst: Addr.v6b, firstNext: 6, upper: Array(tcp.prefix(19)), lastNext: 99),
                      layer: .tcp, reasonMentions: "20-byte"),
        MalformedCase(name: "TCP data offset 4", linkType: .ipv4,
                      bytes: Build.ipv4(src: 1, dst: 2, payload: Build.tcp(sport: 1, dport: 2, seq: 3, ack: 4, flags: 0x10, dataOffset: 4)),
                      layer: .tcp, reasonMentions: "data offset"),
        MalformedCase(name: "TCP data offset 0", linkType: .ipv4,
                      bytes: Build.ipv4(src: 1, dst: 2, payload: Build.tcp(sport: 1, dport: 2, seq: 3, ack: 4, flags: 0x10, dataOffset: 0)),
                      layer: .tcp, reasonMentions: "data offset"),
        MalformedCase(name: "TCP data offset 15 past a 30-byte IP payload", linkType: .ethernet,
                      bytes: Build.ethernet(type: 0x0800, payload: Build.ipv4(src: 1, dst: 2,
                        payload: Build.tcp(sport: 1, dport: 2, seq: 3, ack: 4, flags: 0x10, payload: [UInt8](repeating: 0, count: 10), dataOffset: 15)),
                        padding: 0),
                      layer: .tcp, reasonMentions: "data offset"),
        .tcpOptions("MSS option length 0", [2, 0, 1, 1], "MSS"),
        .tcpOptions("MSS option length 1", [2, 1, 1, 1], "MSS"),
        .tcpOptions("unknown option length 1", [30, 1, 1, 1], "unknown"),
        .tcpOptions("window scale length 0", [1, 3, 0, 1], "window scale"),
        .tcpOptions("MSS kind in the last option byte (no length byte)", [1, 1, 1, 2], "MSS"),
        .tcpOptions("timestamps running past the header", [1, 1, 8, 10], "timestamps"),
        .tcpOptions("unknown kind running past the header", [1, 1, 1, 1, 99, 8, 0, 0], "unknown"),
        .tcpOptions("SACK running past the header", [5, 10, 0, 0, 0, 0, 0, 0], "SACK"),
        .tcpOptions("MSS length 5", [2, 5, 0, 0, 0, 1, 1, 1], "MSS"),
        .tcpOptions("window scale length 4", [3, 4, 0, 0], "window scale"),
        .tcpOptions("SACK-permitted length 3", [4, 3, 0, 0], "SACK-permitted"),
        .tcpOptions("SACK length 6 (no whole block)", [5, 6, 0, 0, 0, 0, 1, 1], "SACK"),
        .tcpOptions("SACK length 2 (no block)", [5, 2, 1, 1], "SACK"),
        .tcpOptions("SACK length 14 (a block and a half)", [5, 14] + [UInt8](repeating: 0, count: 12) + [1, 1], "SACK"),
        .tcpOptions("timestamps length 8", [8, 8, 0, 0, 0, 0, 0, 0], "timestamps"),
    ]

    @Test("is malformed", arguments: cases)
    func malformed(_ c: MalformedCase) {
        let r = decode(c.bytes, c.linkType, original: c.original)
        guard case .invalid(let e) = r else { Issue.record("\(c.name): got \(r)"); return }
        #expect(e.kind == .malformed, "\(c.name): \(e)")
        #expect(e.layer == c.layer, "\(c.name): \(e)")
        #expect(e.reason.contains(c.reasonMentions), "\(c.name): reason \"\(e.reason)\" should mention \(c.reasonMentions)")
    }

    @Test("DecodeError reads as a sentence")
    func description() {
        let r = decode(Build.ipv4(src: 1, dst: 2, payload: Self.tcp, ihl: 4), .ipv4)
        #expect(r == .invalid(DecodeError(.malformed, .ipv4,
                "IPv4 header length (IHL) is below the minimum of 5 words (20 bytes)")))
        if case .invalid(let e) = r {
            #expect(e.description == "malformed IPv4 header: IPv4 header length (IHL) is below the minimum of 5 words (20 bytes)")
        }
    }
}
