@testable import TeardownWire

/// Builds packet bytes field by field for the decoder fixtures.
///
/// It writes checksums (RFC 1071) so that tcpdump, the oracle, reports "cksum ... (correct)":
/// that confirms the builder put every field where the RFCs say, independently of the decoder.
enum Build {
    // MARK: TCP (RFC 9293 §3.1)

    /// A TCP header plus payload with a zero checksum (the IP builders fill it in).
    /// `flags` is the 9-bit control field (AE in bit 8). `options` must be a multiple of 4 bytes
    /// unless `dataOffset` overrides the header length.
    static func tcp(sport: UInt16, dport: UInt16, seq: UInt32, ack: UInt32, flags: UInt16,
                    window: UInt16 = 502, urgent: UInt16 = 0, options: [UInt8] = [], payload: [UInt8] = [],
                    dataOffset: UInt8? = nil) -> [UInt8] {
        let offset = dataOffset ?? UInt8((20 + options.count) / 4)
        var b: [UInt8] = []
        b += be16(sport) + be16(dport) + be32(seq) + be32(ack)
        b.append(offset << 4 | UInt8((flags >> 8) & 1))
        b.append(UInt8(flags & 0xFF))
        b += be16(window) + [0, 0] + be16(urgent)
        return b + options + payload
    }

    // MARK: IPv4 (RFC 791 §3.1)

    static func ipv4(src: UInt32, dst: UInt32, proto: UInt8 = 6, ttl: UInt8 = 64, id: UInt16 = 0x1234,
                     flagsAndOffset: UInt16 = 0x4000, options: [UInt8] = [], payload: [UInt8],
                     totalLength: UInt16? = nil, ihl: UInt8? = nil, version: UInt8 = 4) -> [UInt8] {
        let hl = ihl ?? UInt8((20 + options.count) / 4)
        let total = totalLength ?? UInt16(20 + options.count + payload.count)
        var h: [UInt8] = [version << 4 | hl, 0]
        h += be16(total) + be16(id) + be16(flagsAndOffset) + [ttl, proto, 0, 0] + be32(src) + be32(dst) + options
        let c = checksum(h)
        h[10] = UInt8(c >> 8); h[11] = UInt8(c & 0xFF)
        var p = payload
        if proto == 6 && flagsAndOffset & 0x1FFF == 0 && p.count >= 20 {
            let pseudo = be32(src) + be32(dst) + [0, 6] + be16(UInt16(p.count))
            fillTCPChecksum(&p, pseudo: pseudo)
        }
        return h + p
    }

    // MARK: IPv6 (RFC 8200 §3, §4)

    /// `extensions` are already-built extension headers whose chain starts with `firstNext`;
    /// `upper` follows them and gets a TCP checksum when the last next header is 6.
    static func ipv6(src: [UInt8], dst: [UInt8], firstNext: UInt8, extensions: [UInt8] = [],
                     upper: [UInt8], lastNext: UInt8 = 6, hopLimit: UInt8 = 64,
                     payloadLength: UInt16? = nil, version: UInt8 = 6) -> [UInt8] {
        var u = upper
        if lastNext == 6 && u.count >= 20 {
            let pseudo = src + dst + be32(UInt32(u.count)) + [0, 0, 0, 6]
            fillTCPChecksum(&u, pseudo: pseudo)
        }
        let plen = payloadLength ?? UInt16(extensions.count + u.count)
        let h: [UInt8] = [version << 4, 0, 0, 0] + be16(plen) + [firstNext, hopLimit] + src + dst
        return h + extensions + u
    }

    /// A generic extension header (hop-by-hop, routing, destination options...) of `8 * units`
    /// bytes: next header, length, then PadN / zero filler.
    static func ext(next: UInt8, units: Int = 1, routing: Bool = false) -> [UInt8] {
        let total = 8 * units
        if routing {
            // Type 2 routing header (RFC 6275 §6.4): length 2, segments left 1, home address. The
            // home address is the packet's destination so the TCP checksum's pseudo-header
            // (RFC 8200 §8.1: the final destination) is the same either way.
            precondition(units == 3)
            return [next, 2, 2, 1, 0, 0, 0, 0] + Addr.v6b
        }
        // PadN option covering the rest (RFC 8200 §4.2): type 1, length total-4.
        return [next, UInt8(units - 1), 1, UInt8(total - 4)] + [UInt8](repeating: 0, count: total - 4)
    }

    /// Fragment header (RFC 8200 §4.5); `offset` in 8-octet units.
    static func fragment(next: UInt8, offset: UInt16, more: Bool, id: UInt32 = 0xCAFE) -> [UInt8] {
        [next, 0] + be16(offset << 3 | (more ? 1 : 0)) + be32(id)
    }

    /// Authentication header (RFC 4302 §2): 12 fixed bytes + ICV, length in 4-byte units minus 2.
    static func authentication(next: UInt8, icvBytes: Int = 12) -> [UInt8] {
        let total = 12 + icvBytes
        return [next, UInt8(total / 4 - 2), 0, 0] + be32(0x100) + be32(1) + [UInt8](repeating: 0xA5, count: icvBytes)
    }

    // MARK: Link layers

    static func ethernet(type: UInt16, payload: [UInt8], tags: [(tpid: UInt16, tci: UInt16)] = [],
                         padding: UInt8 = 0xAA, destination: [UInt8] = [0x02, 0, 0, 0, 0, 0x02]) -> [UInt8] {
        var b: [UInt8] = destination + [0x02, 0, 0, 0, 0, 0x01]
        for t in tags { b += be16(t.tpid) + be16(t.tci) }
        b += be16(type) + payload
        while b.count < 60 { b.append(padding) }   // IEEE 802.3 minimum frame (without FCS)
        return b
    }

    static func sll(proto: UInt16, payload: [UInt8]) -> [UInt8] {
        // packet type 0 (to us), ARPHRD_ETHER 1, address length 6, address, protocol.
        [0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0] + be16(proto) + payload
    }

    static func sll2(proto: UInt16, payload: [UInt8]) -> [UInt8] {
        // protocol, reserved, ifindex 1, ARPHRD_ETHER, packet type 0, address length 6, address.
        be16(proto) + [0, 0] + be32(1) + [0, 1, 0, 6] + [2, 0, 0, 0, 0, 1, 0, 0] + payload
    }

    static func loopback(family: UInt32, bigEndian: Bool, payload: [UInt8]) -> [UInt8] {
        (bigEndian ? be32(family) : be32(family).reversed()) + payload
    }

    // MARK: Helpers

    /// An MPLS label stack of `count` entries (labels 16, 17, ...; TTL 64), bottom-of-stack on
    /// the last (RFC 3032 §2.1).
    static func mplsStack(_ count: Int) -> [UInt8] {
        (0..<count).flatMap { i -> [UInt8] in
            be32(UInt32(16 + i) << 12 | (i == count - 1 ? 0x100 : 0) | 64)
        }
    }

    /// An 802.11 data frame (IEEE 802.11-2020 §9.3.2.1) carrying `ip` behind LLC/SNAP: ToDS
    /// (or ToDS and FromDS with a fourth address), QoS Data with `qosControl` when `qos`, the
    /// header padded to a multiple of 4 when `pad`. `flags` overrides the frame control flags.
    static func wlan(_ ip: [UInt8], type: UInt16, qos: Bool, wds: Bool, pad: Bool, flags: UInt8? = nil,
                     qosControl: UInt8 = 0) -> [UInt8] {
        let addresses = [UInt8](repeating: 0x02, count: 18)
        var h: [UInt8] = [qos ? 0x88 : 0x08, flags ?? (wds ? 0x03 : 0x01), 0x2C, 0] + addresses + [0x10, 0]
        if wds { h += [2, 0, 0, 0, 0, 4] }
        if qos { h += [qosControl, 0] }
        if pad { while h.count % 4 != 0 { h.append(0) } }
        return h + [0xAA, 0xAA, 0x03, 0, 0, 0] + be16(type) + ip
    }

    static func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    static func le32(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)] }

    static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }

    /// RFC 1071 Internet checksum.
    static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var i = 0
        while i + 1 < bytes.count { sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1]); i += 2 }
        if i < bytes.count { sum += UInt32(bytes[i]) << 8 }
        while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }

    static func fillTCPChecksum(_ tcp: inout [UInt8], pseudo: [UInt8]) {
        tcp[16] = 0; tcp[17] = 0
        let c = checksum(pseudo + tcp)
        tcp[16] = UInt8(c >> 8); tcp[17] = UInt8(c & 0xFF)
    }
}

/// TCP option bytes (RFC 9293 §3.2, RFC 7323, RFC 2018).
enum Opt {
    static func mss(_ v: UInt16) -> [UInt8] { [2, 4] + Build.be16(v) }
    static func wscale(_ v: UInt8) -> [UInt8] { [3, 3, v] }
    static let sackOK: [UInt8] = [4, 2]
    static func sack(_ blocks: [(UInt32, UInt32)]) -> [UInt8] {
        [5, UInt8(2 + 8 * blocks.count)] + blocks.flatMap { Build.be32($0.0) + Build.be32($0.1) }
    }
    static func ts(_ val: UInt32, _ ecr: UInt32) -> [UInt8] { [8, 10] + Build.be32(val) + Build.be32(ecr) }
    static let nop: [UInt8] = [1]
    static let eol: [UInt8] = [0]
}

enum Addr {
    static let v4a: UInt32 = 0x0A00_0001          // 10.0.0.1
    static let v4b: UInt32 = 0xC0A8_0102          // 192.168.1.2
    static let v6a: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1]   // 2001:db8::1
    static let v6b: [UInt8] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0xcd] // 2001:db8::abcd
    static let ip4a = IPAddress(ipv4: v4a), ip4b = IPAddress(ipv4: v4b)
    static let ip6a = IPAddress(ipv6High: 0x2001_0db8_0000_0000, low: 1)
    static let ip6b = IPAddress(ipv6High: 0x2001_0db8_0000_0000, low: 0xabcd)
}

/// A decode as the tests compare it: the result, with the segment in its `.tcp` case.
enum Decoded: Equatable {
    case tcp(TCPSegment)
    case notTCP, fragment, unsupportedLinkType
    case invalid(DecodeError)
}

/// Decodes `bytes` as captured, with `original` as the wire length (default: nothing was cut).
func decode(_ bytes: [UInt8], _ link: LinkType, original: Int? = nil) -> Decoded {
    var segment = PacketDecoder.emptySegment
    let r = bytes.withUnsafeBytes {
        PacketDecoder.decode($0, linkType: link, originalLength: original ?? bytes.count, into: &segment)
    }
    switch r {
    case .tcp: return .tcp(segment)
    case .notTCP: return .notTCP
    case .fragment: return .fragment
    case .unsupportedLinkType: return .unsupportedLinkType
    case .invalid(let e): return .invalid(e)
    }
}
