import Testing
@testable import TeardownWire

/// What a fixture must decode to. Written by hand from the fixture's spec, never from decoder output.
enum Expected: Sendable, Equatable {
    case tcp(TCPSegment)
    case notTCP
    case fragment
    case unsupported
    case invalid(DecodeError.Kind, ProtocolLayer)

    func matches(_ r: Decoded) -> Bool {
        switch (self, r) {
        case let (.tcp(a), .tcp(b)): return a == b
        case (.notTCP, .notTCP), (.fragment, .fragment), (.unsupported, .unsupportedLinkType): return true
        case let (.invalid(k, l), .invalid(e)): return e.kind == k && e.layer == l
        default: return false
        }
    }
}

/// How the IP packet is wrapped in a link layer.
enum Link: Sendable {
    case ethernet(tags: [UInt16])         // TPIDs, outermost first
    case sll, sll2
    case null(family: UInt32, bigEndian: Bool)
    case loop(family: UInt32, bigEndian: Bool)
    case raw(LinkType)                    // 101, 12 or 14: version nibble picks
    case bare                             // LINKTYPE_IPV4 / LINKTYPE_IPV6
    case ppp(hdlc: Bool, compressed: Bool)    // LINKTYPE_PPP
    case pppSerial(cisco: Bool)           // LINKTYPE_PPP_HDLC: FF 03 + PPP, or Cisco HDLC
    case ciscoHDLC                        // LINKTYPE_C_HDLC
    case pppoe(tags: [UInt16])            // Ethernet, tags, PPPoE session, PPP
    case mpls(labels: Int, tags: [UInt16])  // Ethernet, tags, an MPLS stack of `labels` entries
    case pseudowire(controlWord: Bool)    // Ethernet, MPLS (2 labels), [control word], Ethernet
    case pbb                              // Ethernet, 802.1ad B-tag, 802.1ah I-tag, Ethernet
    case fabricPath                       // FabricPath outer header, Ethernet
    case eTag                             // Ethernet, 802.1BR E-Tag
    case ieee80211(qos: Bool, wds: Bool)  // an 802.11 data frame, LLC/SNAP
    case radiotap(fcs: Bool, pad: Bool, extended: Bool)  // radiotap, 802.11 (QoS when padded), [FCS]
    case ppi(fcs: Bool)                   // PPI with an 802.11-Common field, 802.11, [FCS]
    case arcnet(rfc1051: Bool)            // Linux ARCNET, 5-byte (RFC 1051) or 8-byte header
    case ipoib                            // 40-byte pseudo-header, type, reserved
    case nflog(bigEndian: Bool)           // NFLOG header, packet-header, prefix and payload TLVs

    /// Bytes after the IP datagram that the link layer accounts for (an FCS).
    var trailer: Int {
        switch self {
        case .radiotap(let fcs, _, _), .ppi(let fcs): return fcs ? 4 : 0
        default: return 0
        }
    }

    /// Where the PPP header lies in the wrapped packet (PPP reports cuts inside it).
    var pppHeader: Range<Int>? {
        switch self {
        case .ppp(let hdlc, let compressed): return 0..<((hdlc ? 2 : 0) + (compressed ? 1 : 2))
        case .pppSerial(let cisco): return cisco ? nil : 1..<4
        case .pppoe(let tpids): return (14 + 4 * tpids.count + 6)..<(14 + 4 * tpids.count + 8)
        default: return nil
        }
    }

    func wrap(_ ip: [UInt8], v6: Bool) -> (bytes: [UInt8], linkType: LinkType, linkEnd: Int) {
        let type: UInt16 = v6 ? 0x86DD : 0x0800
        switch self {
        case .ethernet(let tpids):
            let tags = tpids.enumerated().map { (tpid: $0.element, tci: UInt16(100 + $0.offset)) }
            return (Build.ethernet(type: type, payload: ip, tags: tags), .ethernet, 14 + 4 * tpids.count)
        case .sll: return (Build.sll(proto: type, payload: ip), .linuxSLL, 16)
        case .sll2: return (Build.sll2(proto: type, payload: ip), .linuxSLL2, 20)
        case .null(let f, let be): return (Build.loopback(family: f, bigEndian: be, payload: ip), .null, 4)
        case .loop(let f, let be): return (Build.loopback(family: f, bigEndian: be, payload: ip), .loop, 4)
        case .raw(let t): return (ip, t, 0)
        case .bare: return (ip, v6 ? .ipv6 : .ipv4, 0)
        case .ppp(let hdlc, let compressed):
            let proto: [UInt8] = compressed ? [v6 ? 0x57 : 0x21] : [0, v6 ? 0x57 : 0x21]
            let header = (hdlc ? [0xFF, 0x03] : []) + proto
            return (header + ip, .ppp, header.count)
        case .pppSerial(let cisco):
            let header: [UInt8] = cisco ? [0x8F, 0] + Build.be16(type) : [0xFF, 0x03, 0, v6 ? 0x57 : 0x21]
            return (header + ip, .pppSerial, 4)
        case .ciscoHDLC: return ([0x0F, 0] + Build.be16(type) + ip, .ciscoHDLC, 4)
        case .pppoe(let tpids):
            let tags = tpids.enumerated().map { (tpid: $0.element, tci: UInt16(100 + $0.offset)) }
            let ppp: [UInt8] = [0x11, 0x00] + Build.be16(0x2A2A) + Build.be16(UInt16(ip.count + 2)) + [0, v6 ? 0x57 : 0x21]
            return (Build.ethernet(type: 0x8864, payload: ppp + ip, tags: tags), .ethernet, 14 + 4 * tpids.count + 8)
        case .mpls(let labels, let tpids):
            let tags = tpids.enumerated().map { (tpid: $0.element, tci: UInt16(100 + $0.offset)) }
            let stack = Build.mplsStack(labels)
            return (Build.ethernet(type: 0x8847, payload: stack + ip, tags: tags), .ethernet, 14 + 4 * tpids.count + stack.count)
        case .pseudowire(let controlWord):
            // Inner destination 00:... with a control word, 22:... without: never nibble 4 or 6.
            let inner = Build.ethernet(type: type, payload: ip, destination: controlWord ? [0, 0x1B, 0x21, 1, 2, 3] : [0x22, 0, 0, 0, 0, 2])
            let payload = Build.mplsStack(2) + (controlWord ? [0, 0, 0, 9] : []) + inner
            return (Build.ethernet(type: 0x8847, payload: payload), .ethernet, 14 + 8 + (controlWord ? 4 : 0) + 14)
        case .pbb:
            let iTag: [UInt8] = [0, 0x0A, 0x0B, 0x0C]
            let inner = Build.ethernet(type: type, payload: ip)
            let outer = Build.ethernet(type: 0x88E7, payload: iTag + inner, tags: [(tpid: 0x88A8, tci: 300)])
            return (outer, .ethernet, 14 + 4 + 4 + 14)
        case .fabricPath:
            let inner = Build.ethernet(type: type, payload: ip)
            let outer = Build.ethernet(type: 0x8903, payload: [0x00, 0x60] + inner)
            return (outer, .ethernet, 14 + 2 + 14)
        case .eTag:
            let frame = Build.ethernet(type: 0x893F, payload: [0, 0, 0x01, 0x23, 0, 0] + Build.be16(type) + ip)
            return (frame, .ethernet, 14 + 8)
        case .ieee80211(let qos, let wds):
            let frame = Build.wlan(ip, type: type, qos: qos, wds: wds, pad: false)
            return (frame, .ieee80211, frame.count - ip.count)
        case .radiotap(let fcs, let pad, let extended):
            // TSFT, Flags, Rate; TSFT aligned to 8 after the presence words.
            let words: [UInt32] = extended ? [0x8000_0007, 0] : [0x7]
            let fieldsStart = 4 + 4 * words.count
            let aligned = (fieldsStart + 7) / 8 * 8
            let length = aligned + 8 + 2
            var header: [UInt8] = [0, 0, UInt8(length & 0xFF), UInt8(length >> 8)]
            for w in words { header += Build.le32(w) }
            header += [UInt8](repeating: 0, count: aligned - fieldsStart) + [1, 2, 3, 4, 5, 6, 7, 8]
            header += [(fcs ? 0x10 : 0) | (pad ? 0x20 : 0), 12]
            let wlan = Build.wlan(ip, type: type, qos: pad, wds: false, pad: pad)
            return (header + wlan + (fcs ? [0xDE, 0xAD, 0xBE, 0xEF] : []), .ieee80211Radiotap,
                    header.count + wlan.count - ip.count)
        case .ppi(let fcs):
            let common: [UInt8] = [UInt8](repeating: 0, count: 8) + [fcs ? 1 : 0, 0] + [UInt8](repeating: 0, count: 10)
            let header: [UInt8] = [0, 0, 32, 0] + Build.le32(105) + [2, 0, 20, 0] + common
            let wlan = Build.wlan(ip, type: type, qos: false, wds: false, pad: false)
            return (header + wlan + (fcs ? [0xDE, 0xAD, 0xBE, 0xEF] : []), .ppi, header.count + wlan.count - ip.count)
        case .arcnet(let rfc1051):
            let header: [UInt8] = rfc1051 ? [1, 2, 0, 0, 240] : [1, 2, 0, 0, v6 ? 196 : 212, 0, 0x12, 0x34]
            return (header + ip, .arcnetLinux, header.count)
        case .ipoib:
            let header = [UInt8](repeating: 0, count: 40) + Build.be16(type) + [0, 0]
            return (header + ip, .ipoib, 44)
        case .nflog(let bigEndian):
            func tlv(_ kind: UInt16, _ value: [UInt8]) -> [UInt8] {
                let length = UInt16(4 + value.count)
                let head = bigEndian ? Build.be16(length) + Build.be16(kind) : Build.le16(length) + Build.le16(kind)
                let raw = head + value
                return raw + [UInt8](repeating: 0, count: (4 - raw.count % 4) % 4)
            }
            let header: [UInt8] = [v6 ? 10 : 2, 0, 0, 7] + tlv(1, Build.be16(type) + [3, 0]) + tlv(10, Array("td\0".utf8))
            return (header + tlv(9, ip), .nflog, header.count + 4)
        }
    }
}

/// A TCP header spec: the bytes to write and the segment the decoder must return.
struct TCPSpec: Sendable {
    var sport: UInt16 = 40000, dport: UInt16 = 12345
    var seq: UInt32 = 1000, ack: UInt32 = 0
    var flags: UInt16
    var window: UInt16 = 502, urgent: UInt16 = 0
    var options: [UInt8] = []
    var expectedOptions = TCPOptions()
    var payload = 0

    var bytes: [UInt8] {
        Build.tcp(sport: sport, dport: dport, seq: seq, ack: ack, flags: flags, window: window, urgent: urgent,
                  options: options, payload: [UInt8](repeating: 0x5A, count: payload))
    }
    var headerLength: Int { 20 + options.count }

    /// The segment this spec decodes to, carried in an IP packet of `ipLength` bytes.
    func segment(_ src: IPAddress, _ dst: IPAddress, v6: Bool, hopLimit: UInt8 = 64, truncated: Bool = false,
                 ipLength: Int = 0) -> TCPSegment {
        TCPSegment(source: Endpoint(address: src, port: sport), destination: Endpoint(address: dst, port: dport),
                   sequenceNumber: SequenceNumber(seq), acknowledgmentNumber: SequenceNumber(ack),
                   flags: TCPFlags(rawValue: flags), window: window, options: expectedOptions,
                   payloadLength: payload, isTruncated: truncated, ipVersion: v6 ? 6 : 4, hopLimit: hopLimit,
                   ipLength: UInt32(ipLength))
    }
}

/// One crafted packet and what it must decode to.
struct Fixture: Sendable, CustomTestStringConvertible {
    var name: String
    var linkType: LinkType
    var bytes: [UInt8]
    var expected: Expected
    /// Offsets from the first byte: end of the link header, start and end of the TCP header,
    /// end of the IP packet (anything after is link padding). Only meaningful for `.tcp`.
    var linkEnd = 0, tcpStart = 0, tcpEnd = 0, ipEnd = 0
    var ipLayer: ProtocolLayer = .ipv4
    /// The IP length field is 0 and the length comes from the wire (TSO): skip wire-length checks.
    var lengthFromWire = false
    /// Where a PPP header lies: a cut inside it is reported by the PPP layer.
    var pppHeader: Range<Int>?
    /// Bytes after the IP packet that the link layer counts (an FCS): a packet that lacks them
    /// on the wire is malformed.
    var linkTrailer = 0

    var testDescription: String { name }

    /// The layer a capture cut at `k` bytes (inside the headers) must report as truncated.
    func truncatedLayer(at k: Int) -> ProtocolLayer {
        if let ppp = pppHeader, ppp.contains(k) { return .ppp }
        if k < linkEnd { return .link }
        // After an MPLS stack the first nibble says what follows: without it, the link layer
        // cannot say which header the capture cut.
        if k == linkEnd && name.hasPrefix("MPLS") && !name.contains("pseudowire") { return .link }
        if k == 0 && (linkType == .raw || linkType == .rawBSD12 || linkType == .rawBSD14) { return .link }
        if k < tcpStart { return ipLayer }
        return .tcp
    }

    static func v4(_ name: String, _ link: Link, _ spec: TCPSpec, ipOptions: [UInt8] = [], ttl: UInt8 = 64,
                   flagsAndOffset: UInt16 = 0x4000, totalLength: UInt16? = nil) -> Fixture {
        let ip = Build.ipv4(src: Addr.v4a, dst: Addr.v4b, ttl: ttl, flagsAndOffset: flagsAndOffset,
                            options: ipOptions, payload: spec.bytes, totalLength: totalLength)
        let (bytes, type, linkEnd) = link.wrap(ip, v6: false)
        let tcpStart = linkEnd + 20 + ipOptions.count
        return Fixture(name: name, linkType: type, bytes: bytes,
                       expected: .tcp(spec.segment(Addr.ip4a, Addr.ip4b, v6: false, hopLimit: ttl, ipLength: ip.count)),
                       linkEnd: linkEnd, tcpStart: tcpStart, tcpEnd: tcpStart + spec.headerLength,
                       ipEnd: linkEnd + ip.count, ipLayer: .ipv4, lengthFromWire: totalLength == 0,
                       pppHeader: link.pppHeader, linkTrailer: link.trailer)
    }

    static func v6(_ name: String, _ link: Link, _ spec: TCPSpec, firstNext: UInt8 = 6, extensions: [UInt8] = [],
                   hopLimit: UInt8 = 64) -> Fixture {
        let ip = Build.ipv6(src: Addr.v6a, dst: Addr.v6b, firstNext: firstNext, extensions: extensions,
                            upper: spec.bytes, hopLimit: hopLimit)
        let (bytes, type, linkEnd) = link.wrap(ip, v6: true)
        let tcpStart = linkEnd + 40 + extensions.count
        return Fixture(name: name, linkType: type, bytes: bytes,
                       expected: .tcp(spec.segment(Addr.ip6a, Addr.ip6b, v6: true, hopLimit: hopLimit, ipLength: ip.count)),
                       linkEnd: linkEnd, tcpStart: tcpStart, tcpEnd: tcpStart + spec.headerLength,
                       ipEnd: linkEnd + ip.count, ipLayer: .ipv6, pppHeader: link.pppHeader, linkTrailer: link.trailer)
    }

    static func other(_ name: String, _ type: LinkType, _ bytes: [UInt8], _ expected: Expected) -> Fixture {
        Fixture(name: name, linkType: type, bytes: bytes, expected: expected)
    }
}

// MARK: - TCP specs

enum Specs {
    /// A Linux-style SYN: mss 1460, sackOK, TS, nop, wscale 7 (20 option bytes).
    static var syn: TCPSpec {
        var o = TCPOptions()
        o.mss = 1460; o.sackPermitted = true; o.timestampValue = 123_456; o.timestampEcho = 0; o.windowScale = 7
        return TCPSpec(seq: 0xFFFF_FFF0, ack: 0, flags: 0x002, window: 64240,
                       options: Opt.mss(1460) + Opt.sackOK + Opt.ts(123_456, 0) + Opt.nop + Opt.wscale(7),
                       expectedOptions: o)
    }
    static var synAck: TCPSpec {
        var o = TCPOptions()
        o.mss = 1440; o.sackPermitted = true; o.windowScale = 9
        return TCPSpec(sport: 443, dport: 50000, seq: 7, ack: 0xFFFF_FFF1, flags: 0x012, window: 65535,
                       options: Opt.mss(1440) + Opt.nop + Opt.nop + Opt.sackOK + Opt.nop + Opt.wscale(9),
                       expectedOptions: o)
    }
    static var ack: TCPSpec { TCPSpec(seq: 5000, ack: 9000, flags: 0x010) }
    static func data(_ n: Int) -> TCPSpec { TCPSpec(seq: 5000, ack: 9000, flags: 0x018, payload: n) }
    static var finAck: TCPSpec { TCPSpec(seq: 123_456_789, ack: 987_654_321, flags: 0x011, window: 1024) }
    static var rst: TCPSpec { TCPSpec(seq: 42, ack: 0, flags: 0x004, window: 0) }
    static var rstAck: TCPSpec { TCPSpec(seq: 42, ack: 43, flags: 0x014, window: 0) }

    /// NOP NOP TS + NOP NOP SACK with three blocks: 40 option bytes, the maximum.
    static var sack3: TCPSpec {
        var o = TCPOptions()
        o.timestampValue = 0xDEAD_BEEF; o.timestampEcho = 0x0102_0304
        o.appendSACK(SACKBlock(left: SequenceNumber(2000), right: SequenceNumber(3000)))
        o.appendSACK(SACKBlock(left: SequenceNumber(4000), right: SequenceNumber(5000)))
        o.appendSACK(SACKBlock(left: SequenceNumber(0xFFFF_FF00), right: SequenceNumber(0x100)))
        return TCPSpec(seq: 1, ack: 1000, flags: 0x010,
                       options: Opt.nop + Opt.nop + Opt.ts(0xDEAD_BEEF, 0x0102_0304)
                                + Opt.nop + Opt.nop + Opt.sack([(2000, 3000), (4000, 5000), (0xFFFF_FF00, 0x100)]),
                       expectedOptions: o)
    }
    /// SACK with four blocks, then NOP NOP and an unassigned kind (78) of length 4.
    static var sack4: TCPSpec {
        var o = TCPOptions()
        for i: UInt32 in 0..<4 { o.appendSACK(SACKBlock(left: SequenceNumber(10_000 * (i + 1)), right: SequenceNumber(10_000 * (i + 1) + 500))) }
        o.unknownCount = 1; o.firstUnknownKind = TCPOptionKind(rawValue: 78)
        let blocks: [(UInt32, UInt32)] = [(10_000, 10_500), (20_000, 20_500), (30_000, 30_500), (40_000, 40_500)]
        let unassigned: [UInt8] = [78, 4, 0x10, 0x01]
        let options: [UInt8] = Opt.sack(blocks) + Opt.nop + Opt.nop + unassigned
        return TCPSpec(seq: 1, ack: 1000, flags: 0x010, options: options, expectedOptions: o)
    }
    /// Unknown kinds (28 UTO, 34 TFO cookie), MSS, wscale, sackOK, then EOL and garbage padding
    /// that EOL must hide.
    static var unknownKinds: TCPSpec {
        var o = TCPOptions()
        o.mss = 536; o.windowScale = 14; o.sackPermitted = true
        o.unknownCount = 2; o.firstUnknownKind = TCPOptionKind(rawValue: 28)
        return TCPSpec(seq: 77, ack: 0, flags: 0x002, window: 29200,
                       options: [28, 4, 0x80, 0x10] + Opt.mss(536) + Opt.wscale(14) + Opt.sackOK
                                + [34, 10, 1, 2, 3, 4, 5, 6, 7, 8] + Opt.eol + [2, 0, 0xFF, 0xFF],
                       expectedOptions: o)
    }
    /// SYN with ECE, CWR and AE (the AccECN setup SYN, RFC 9768 §3.1.1).
    static var synAccECN: TCPSpec { TCPSpec(seq: 100, ack: 0, flags: 0x1C2, window: 64240) }
    /// Every control bit, and an urgent pointer.
    static var allFlags: TCPSpec { TCPSpec(seq: 2_147_483_648, ack: 4_294_967_295, flags: 0x1FF, window: 7, urgent: 3, payload: 4) }
    /// URG PSH ACK FIN with ECE, as a data segment.
    static var urgentFin: TCPSpec { TCPSpec(seq: 300, ack: 400, flags: 0x079, urgent: 1, payload: 10) }
}

// MARK: - The table

enum Fixtures {
    static let v6Families: [UInt32] = [10, 24, 28, 30]

    static let tcp: [Fixture] = {
        var f: [Fixture] = [
            .v4("ethernet ipv4 SYN with options", .ethernet(tags: []), Specs.syn),
            .v4("ethernet ipv4 pure ACK padded to 60 bytes", .ethernet(tags: []), Specs.ack),
            .v4("ethernet ipv4 2-byte payload padded to 60 bytes", .ethernet(tags: []), Specs.data(2)),
            .v6("ethernet 802.1Q ipv6 SYN-ACK", .ethernet(tags: [0x8100]), Specs.synAck),
            .v4("ethernet QinQ 802.1ad+802.1Q ipv4 FIN-ACK", .ethernet(tags: [0x88A8, 0x8100]), Specs.finAck),
            .v4("ethernet 0x9100+802.1Q ipv4 RST", .ethernet(tags: [0x9100, 0x8100]), Specs.rst),
            .v6("ethernet three tags ipv6 data", .ethernet(tags: [0x88A8, 0x8100, 0x8100]), Specs.data(3)),
            .v4("linux SLL ipv4 data", .sll, Specs.data(100)),
            .v6("linux SLL ipv6 RST-ACK", .sll, Specs.rstAck),
            .v6("linux SLL2 ipv6 ACK", .sll2, Specs.ack),
            .v4("linux SLL2 ipv4 SYN", .sll2, Specs.syn),
            .v4("NULL little-endian AF_INET", .null(family: 2, bigEndian: false), Specs.data(5)),
            .v4("NULL big-endian AF_INET", .null(family: 2, bigEndian: true), Specs.finAck),
            .v4("LOOP big-endian AF_INET", .loop(family: 2, bigEndian: true), Specs.ack),
            .v6("LOOP little-endian AF_INET6 24", .loop(family: 24, bigEndian: false), Specs.ack),
            .v4("RAW 101 ipv4", .raw(.raw), Specs.syn),
            .v6("RAW 101 ipv6", .raw(.raw), Specs.synAck),
            .v4("RAW 12 ipv4", .raw(.rawBSD12), Specs.data(1)),
            .v6("RAW 14 ipv6", .raw(.rawBSD14), Specs.finAck),
            .v4("IPV4 228", .bare, Specs.rstAck, ttl: 1),
            .v6("IPV6 229", .bare, Specs.data(7), hopLimit: 255),
            .v4("ipv4 with options (router alert, NOPs, EOL)", .ethernet(tags: []), Specs.data(8),
                ipOptions: [0x94, 0x04, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00]),
            .v4("ipv4 without DF", .ethernet(tags: []), Specs.data(16), flagsAndOffset: 0),
            .v6("ipv6 hop-by-hop + routing + destination options", .ethernet(tags: []), Specs.data(9),
                firstNext: 0, extensions: Build.ext(next: 43) + Build.ext(next: 60, units: 3, routing: true)
                                          + Build.ext(next: 6)),
            .v6("ipv6 atomic fragment (offset 0, M clear: a whole datagram, RFC 6946)", .ethernet(tags: []), Specs.data(12),
                firstNext: 44, extensions: Build.fragment(next: 6, offset: 0, more: false)),
            .v6("ipv6 authentication header", .raw(.raw), Specs.ack,
                firstNext: 51, extensions: Build.authentication(next: 6)),
            .v6("ipv6 mobility + HIP + shim6 headers", .raw(.raw), Specs.ack,
                firstNext: 135, extensions: Build.ext(next: 139) + Build.ext(next: 140, units: 2) + Build.ext(next: 6)),
            .v4("TCP NOP NOP TS NOP NOP SACK x3 (40 option bytes)", .ethernet(tags: []), Specs.sack3),
            .v6("TCP SACK x4 + unknown kind", .ethernet(tags: []), Specs.sack4),
            .v4("TCP unknown kinds, MSS, wscale, sackOK, EOL", .ethernet(tags: []), Specs.unknownKinds),
            .v4("TCP SYN with ECE CWR AE", .ethernet(tags: []), Specs.synAccECN),
            .v6("TCP all nine flags and urgent pointer", .ethernet(tags: []), Specs.allFlags),
            .v4("TCP URG PSH ACK FIN ECE", .ethernet(tags: []), Specs.urgentFin),
            .v4("PPP ipv4", .ppp(hdlc: false, compressed: false), Specs.syn),
            .v6("PPP FF 03 ipv6", .ppp(hdlc: true, compressed: false), Specs.synAck),
            .v4("PPP compressed protocol field", .ppp(hdlc: false, compressed: true), Specs.data(3)),
            .v4("PPP FF 03 compressed protocol field", .ppp(hdlc: true, compressed: true), Specs.finAck),
            .v4("PPP_HDLC ipv4", .pppSerial(cisco: false), Specs.rstAck),
            .v6("PPP_HDLC Cisco HDLC ipv6", .pppSerial(cisco: true), Specs.ack),
            .v4("Cisco HDLC ipv4", .ciscoHDLC, Specs.data(10)),
            .v4("PPPoE session ipv4", .pppoe(tags: []), Specs.syn),
            .v6("PPPoE session under QinQ ipv6", .pppoe(tags: [0x88A8, 0x8100]), Specs.finAck),
            .v4("MPLS one label ipv4", .mpls(labels: 1, tags: []), Specs.synAck),
            .v6("MPLS four labels under 802.1Q ipv6", .mpls(labels: 4, tags: [0x8100]), Specs.data(5)),
            .v4("MPLS Ethernet pseudowire without control word", .pseudowire(controlWord: false), Specs.ack),
            .v6("MPLS Ethernet pseudowire with control word", .pseudowire(controlWord: true), Specs.rst),
            .v4("802.1ah PBB ipv4", .pbb, Specs.finAck),
            .v4("Cisco FabricPath ipv4", .fabricPath, Specs.data(2)),
            .v6("802.1BR E-Tag ipv6", .eTag, Specs.syn),
            .v4("802.11 data ipv4", .ieee80211(qos: false, wds: false), Specs.syn),
            .v6("802.11 QoS data 4-address ipv6", .ieee80211(qos: true, wds: true), Specs.data(4)),
            .v4("802.11 QoS data ipv4", .ieee80211(qos: true, wds: false), Specs.finAck),
            .v4("radiotap 802.11 ipv4", .radiotap(fcs: false, pad: false, extended: false), Specs.ack),
            .v4("radiotap with FCS ipv4", .radiotap(fcs: true, pad: false, extended: false), Specs.data(6)),
            .v6("radiotap extended bitmap, padded QoS header, FCS ipv6", .radiotap(fcs: true, pad: true, extended: true), Specs.rstAck),
            .v4("PPI 802.11 ipv4", .ppi(fcs: false), Specs.synAck),
            .v6("PPI 802.11 with FCS ipv6", .ppi(fcs: true), Specs.finAck),
            .v4("ARCNET Linux RFC 1201 ipv4", .arcnet(rfc1051: false), Specs.syn),
            .v4("ARCNET Linux RFC 1051 ipv4", .arcnet(rfc1051: true), Specs.rst),
            .v6("ARCNET Linux ipv6", .arcnet(rfc1051: false), Specs.ack),
            .v4("IPoIB ipv4", .ipoib, Specs.data(7)),
            .v6("IPoIB ipv6", .ipoib, Specs.syn),
            .v4("NFLOG little-endian TLVs ipv4", .nflog(bigEndian: false), Specs.synAck),
            .v6("NFLOG big-endian TLVs ipv6", .nflog(bigEndian: true), Specs.data(1)),
        ]
        for family in v6Families {
            f.append(.v6("NULL little-endian AF_INET6 \(family)", .null(family: family, bigEndian: false), Specs.synAck))
            f.append(.v6("NULL big-endian AF_INET6 \(family)", .null(family: family, bigEndian: true), Specs.ack))
        }
        // TSO / GSO super-packet: IPv4 total length 0, the length comes from the wire.
        var tso = Fixture.v4("ipv4 total length 0 (TSO) takes the wire length", .ethernet(tags: []), Specs.data(1000),
                             totalLength: 0)
        tso.lengthFromWire = true
        f.append(tso)
        return f
    }()

    static let ipv4Ack = Build.ipv4(src: Addr.v4a, dst: Addr.v4b, payload: Specs.ack.bytes)
    static let udp: [UInt8] = Build.be16(5353) + Build.be16(53) + Build.be16(12) + [0, 0, 1, 2, 3, 4]

    static let nonTCP: [Fixture] = [
        .other("ethernet ARP", .ethernet, Build.ethernet(type: 0x0806, payload: [UInt8](repeating: 1, count: 28)), .notTCP),
        .other("ethernet 802.3 length field 38", .ethernet, Build.ethernet(type: 38, payload: [0xAA, 0xAA, 3] + [UInt8](repeating: 0, count: 35)), .notTCP),
        .other("ethernet 802.3 length field 1500", .ethernet, Build.ethernet(type: 1500, payload: [0x42, 0x42, 3]), .notTCP),
        .other("ethernet 802.1Q ARP", .ethernet, Build.ethernet(type: 0x0806, payload: [UInt8](repeating: 1, count: 28), tags: [(0x8100, 5)]), .notTCP),
        .other("ipv4 UDP", .ethernet, Build.ethernet(type: 0x0800, payload: Build.ipv4(src: Addr.v4a, dst: Addr.v4b, proto: 17, payload: udp)), .notTCP),
        .other("ipv6 UDP", .raw, Build.ipv6(src: Addr.v6a, dst: Addr.v6b, firstNext: 17, upper: udp, lastNext: 17), .notTCP),
        .other("ipv6 hop-by-hop then ICMPv6", .raw, Build.ipv6(src: Addr.v6a, dst: Addr.v6b, firstNext: 0, extensions: Build.ext(next: 58), upper: [128, 0, 0, 0, 0, 1, 0, 1], lastNext: 58), .notTCP),
        .other("ipv6 ESP", .raw, Build.ipv6(src: Addr.v6a, dst: Addr.v6b, firstNext: 50, upper: [UInt8](repeating: 7, count: 40), lastNext: 50), .notTCP),
        .other("ipv6 no next header", .raw, Build.ipv6(src: Addr.v6a, dst: Addr.v6b, firstNext: 0, extensions: Build.ext(next: 59), upper: [], lastNext: 59), .notTCP),
        .other("NULL unknown family 7", .null, Build.loopback(family: 7, bigEndian: false, payload: Build.ipv4(src: 1, dst: 2, payload: Specs.ack.bytes)), .notTCP),
        .other("ipv4 non-first fragment", .ethernet, Build.ethernet(type: 0x0800, payload: Build.ipv4(src: Addr.v4a, dst: Addr.v4b, flagsAndOffset: 185, payload: [UInt8](repeating: 9, count: 40))), .fragment),
        .other("ipv4 last fragment", .ethernet, Build.ethernet(type: 0x0800, payload: Build.ipv4(src: Addr.v4a, dst: Addr.v4b, flagsAndOffset: 0x2000 | 3, payload: [UInt8](repeating: 9, count: 8))), .fragment),
        .other("ipv4 first fragment (MF set)", .ethernet, Build.ethernet(type: 0x0800, payload: Build.ipv4(src: Addr.v4a, dst: Addr.v4b, flagsAndOffset: 0x2000, payload: Build.tcp(sport: 1, dport: 2, seq: 3, ack: 4, flags: 0x10))), .fragment),
        .other("ipv6 first fragment (offset 0, M set)", .raw, Build.ipv6(src: Addr.v6a, dst: Addr.v6b, firstNext: 44, extensions: Build.fragment(next: 6, offset: 0, more: true), upper: Build.tcp(sport: 1, dport: 2, seq: 3, ack: 4, flags: 0x10)), .fragment),
        // UDP may carry a tunnel to TCP (VXLAN, GTP-U ...): its fragments are reassembled too.
        .other("ipv4 first UDP fragment", .raw, Build.ipv4(src: Addr.v4a, dst: Addr.v4b, proto: 17, flagsAndOffset: 0x2000, payload: udp), .fragment),
        .other("ipv4 non-first UDP fragment", .raw, Build.ipv4(src: Addr.v4a, dst: Addr.v4b, proto: 17, flagsAndOffset: 185, payload: udp), .fragment),
        .other("ipv4 first ICMP fragment", .raw, Build.ipv4(src: Addr.v4a, dst: Addr.v4b, proto: 1, flagsAndOffset: 0x2000, payload: udp), .notTCP),
        .other("ipv6 non-first fragment", .ethernet, Build.ethernet(type: 0x86DD, payload: Build.ipv6(src: Addr.v6a, dst: Addr.v6b, firstNext: 44, extensions: Build.fragment(next: 6, offset: 181, more: false), upper: [UInt8](repeating: 3, count: 24), lastNext: 99)), .fragment),
        .other("ipv6 non-first fragment after hop-by-hop", .raw, Build.ipv6(src: Addr.v6a, dst: Addr.v6b, firstNext: 0, extensions: Build.ext(next: 44) + Build.fragment(next: 6, offset: 1, more: true), upper: [UInt8](repeating: 3, count: 8), lastNext: 99), .fragment),
        .other("ipv6 non-first UDP fragment", .raw, Build.ipv6(src: Addr.v6a, dst: Addr.v6b, firstNext: 44, extensions: Build.fragment(next: 17, offset: 2, more: false), upper: udp, lastNext: 17), .fragment),
        .other("ipv6 non-first ICMPv6 fragment", .raw, Build.ipv6(src: Addr.v6a, dst: Addr.v6b, firstNext: 44, extensions: Build.fragment(next: 58, offset: 2, more: false), upper: udp, lastNext: 58), .notTCP),
        .other("USB is unsupported", LinkType(rawValue: 220), [0xFF, 0x03, 0x00, 0x21], .unsupported),
        .other("PPP LCP", .ppp, [0xFF, 0x03, 0xC0, 0x21, 1, 1, 0, 4], .notTCP),
        .other("PPP FF without control byte", .ppp, [0xFF, 0x05, 0x00, 0x21], .invalid(.malformed, .ppp)),
        .other("PPPoE discovery PADI", .ethernet, Build.ethernet(type: 0x8863, payload: [0x11, 0x09, 0, 0, 0, 4, 1, 1, 0, 0]), .notTCP),
        .other("PPPoE session with code 7", .ethernet, Build.ethernet(type: 0x8864, payload: [0x11, 0x07, 0, 1, 0, 2, 0, 0x21]), .notTCP),
        .other("PPPoE session IPCP", .ethernet, Build.ethernet(type: 0x8864, payload: [0x11, 0x00, 0, 1, 0, 6, 0x80, 0x21, 1, 1, 0, 4]), .notTCP),
        .other("MPLS GAL at the bottom", .ethernet, Build.ethernet(type: 0x8847, payload: [0, 0x00, 0xD1, 64, 0x10, 0, 0, 1, 0x45, 0, 0, 0]), .notTCP),
        .other("MPLS label stack never ends", .ethernet, Build.ethernet(type: 0x8847, payload: [UInt8](repeating: 0, count: 400)), .invalid(.malformed, .link)),
        .other("MPLS over PPP: bottom label then nothing", .ppp, [0x02, 0x81, 0, 0x01, 0x01, 64], .invalid(.malformed, .link)),
        .other("Cisco HDLC SLARP", .ciscoHDLC, [0x8F, 0, 0x80, 0x35] + [UInt8](repeating: 0, count: 14), .notTCP),
        .other("802.1Q tags that never end", .ethernet, Build.ethernet(type: 0x8100, payload: Array([[UInt8]](repeating: [0, 100, 0x81, 0x00], count: 100).joined())), .invalid(.truncated, .link)),
        .other("802.11 beacon", .ieee80211, [0x80, 0] + [UInt8](repeating: 0xFF, count: 36), .notTCP),
        .other("802.11 ACK (control)", .ieee80211, [0xD4, 0, 0, 0, 2, 0, 0, 0, 0, 1], .notTCP),
        .other("802.11 protected data", .ieee80211, Build.wlan(Fixtures.ipv4Ack, type: 0x0800, qos: false, wds: false, pad: false, flags: 0x41), .notTCP),
        .other("802.11 null data", .ieee80211, [0x48, 0x01] + [UInt8](repeating: 0, count: 22), .notTCP),
        .other("802.11 first fragment", .ieee80211, Build.wlan(Fixtures.ipv4Ack, type: 0x0800, qos: false, wds: false, pad: false, flags: 0x05), .notTCP),
        .other("802.11 A-MSDU", .ieee80211, Build.wlan(Fixtures.ipv4Ack, type: 0x0800, qos: true, wds: false, pad: false, qosControl: 0x80), .notTCP),
        .other("802.11 spanning tree LLC", .ieee80211, [0x08, 0x01] + [UInt8](repeating: 0, count: 22) + [0x42, 0x42, 3, 0, 0, 0, 0, 0], .notTCP),
        .other("802.11 data body shorter than LLC/SNAP", .ieee80211, [0x08, 0x01] + [UInt8](repeating: 0, count: 22) + [0xAA, 0xAA, 3], .invalid(.malformed, .link)),
        .other("radiotap version 1", .ieee80211Radiotap, [1, 0, 8, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 30), .invalid(.malformed, .link)),
        .other("radiotap length past the packet", .ieee80211Radiotap, [0, 0, 0xFF, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 30), .invalid(.malformed, .link)),
        .other("radiotap presence bitmaps that never end", .ieee80211Radiotap, [0, 0, 16, 0] + [UInt8](repeating: 0xFF, count: 12) + [0x08, 0x01], .invalid(.malformed, .link)),
        .other("radiotap FCS longer than the frame", .ieee80211Radiotap, [0, 0, 9, 0, 2, 0, 0, 0, 0x10, 0x08, 0x01], .invalid(.malformed, .link)),
        .other("PPI of an unknown link type", .ppi, [0, 0, 8, 0, 0xDC, 0, 0, 0, 1, 2, 3, 4], .notTCP),
        .other("PPI length below 8", .ppi, [0, 0, 4, 0, 1, 0, 0, 0, 1, 2, 3, 4], .invalid(.malformed, .link)),
        .other("ARCNET ARP", .arcnetLinux, [1, 2, 0, 0, 241] + [UInt8](repeating: 0, count: 20), .notTCP),
        .other("IPoIB ARP", .ipoib, [UInt8](repeating: 0, count: 40) + [0x08, 0x06, 0, 0] + [UInt8](repeating: 0, count: 28), .notTCP),
        .other("NFLOG family 7", .nflog, [7, 0, 0, 1, 8, 0, 9, 0, 0x45, 0, 0, 0], .notTCP),
        .other("NFLOG without a payload attribute", .nflog, [2, 0, 0, 1, 8, 0, 1, 0, 8, 0, 3, 0, 6, 0, 10, 0, 0x41, 0, 0, 0], .notTCP),
        .other("NFLOG attribute of length 2", .nflog, [2, 0, 0, 1, 2, 0, 9, 0, 0x45, 0, 0, 0], .invalid(.malformed, .link)),
        .other("802.1BR E-Tags that never end", .ethernet, Build.ethernet(type: 0x893F, payload: Array([[UInt8]](repeating: [0, 0, 0, 0, 0, 0, 0x89, 0x3F], count: 50).joined())), .invalid(.truncated, .link)),
        .other("negative link type is unsupported", LinkType(rawValue: -1), [], .unsupported),
    ]

    static var all: [Fixture] { tcp + nonTCP }
}
