import Testing
import TeardownTestSupport
@testable import TeardownWire

/// Tunnel headers, written field by field from their specifications (never from decoder output).
enum Tunnel {
    static let outerA: UInt32 = 0xC000_0201       // 192.0.2.1
    static let outerB: UInt32 = 0xC633_6401       // 198.51.100.1
    static let outer6A: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [0x0a]
    static let outer6B: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [0x0b]

    static func udp(sport: UInt16, dport: UInt16, _ payload: [UInt8]) -> [UInt8] {
        Build.be16(sport) + Build.be16(dport) + Build.be16(UInt16(8 + payload.count)) + [0, 0] + payload
    }
    /// RFC 2784/2890 version 0 (the checksum field is written as zero: nothing verifies it).
    static func gre(_ type: UInt16, _ payload: [UInt8], key: UInt32? = nil, seq: UInt32? = nil, checksum: Bool = false) -> [UInt8] {
        let flags: UInt16 = (checksum ? 0x8000 : 0) | (key != nil ? 0x2000 : 0) | (seq != nil ? 0x1000 : 0)
        return Build.be16(flags) + Build.be16(type) + (checksum ? [0, 0, 0, 0] : []) + (key.map(Build.be32) ?? [])
            + (seq.map(Build.be32) ?? []) + payload
    }
    /// RFC 2637 §4.1: K, S (and A) set, version 1, protocol 0x880B.
    static func pptp(_ ppp: [UInt8], ack: Bool = false) -> [UInt8] {
        Build.be16(ack ? 0x3081 : 0x3001) + Build.be16(0x880B) + Build.be16(UInt16(ppp.count)) + Build.be16(7)
            + Build.be32(1) + (ack ? Build.be32(0) : []) + ppp
    }
    static func vxlan(_ vni: UInt32, _ frame: [UInt8]) -> [UInt8] { [0x08, 0, 0, 0] + Build.be32(vni << 8) + frame }
    static func geneve(_ vni: UInt32, type: UInt16 = 0x6558, optionWords: Int = 2, _ payload: [UInt8]) -> [UInt8] {
        [UInt8(optionWords), 0] + Build.be16(type) + Build.be32(vni << 8)
            + [UInt8](repeating: 0x11, count: optionWords * 4) + payload
    }
    /// GTP-U G-PDU, with one 4-byte extension header (PDU session container) when `extended`.
    static func gtpu(_ teid: UInt32, _ ip: [UInt8], extended: Bool) -> [UInt8] {
        let body = extended ? Build.be16(1) + [0, 0x85] + [1, 0x10, 0x09, 0] + ip : ip
        return [extended ? 0x34 : 0x30, 0xFF] + Build.be16(UInt16(body.count)) + Build.be32(teid) + body
    }
    static func capwap(_ frame: [UInt8]) -> [UInt8] { Build.be32(2 << 19 | 1 << 14 | 1 << 9) + [0, 0, 0, 0] + frame }
    /// CAPWAP data with T set and WBID 1: a native 802.11 frame (RFC 5415 §4.3, RFC 5416); with
    /// `optional`, the radio MAC address (M: length 6) and the wireless specific information (W:
    /// length 4, RSSI, SNR, data rate), each padded to 4 bytes and counted in HLEN.
    static func capwap80211(_ wlan: [UInt8], optional: Bool = false) -> [UInt8] {
        let fields: [UInt8] = optional ? [6, 2, 0, 0, 0, 0, 0x1B, 0] + [4, 0xC4, 30, 0x02, 0x1C, 0, 0, 0] : []
        let flags: UInt32 = 1 << 8 | (optional ? 1 << 5 | 1 << 4 : 0)
        return Build.be32(UInt32(2 + fields.count / 4) << 19 | 1 << 14 | 1 << 9 | flags) + [0, 0, 0, 0] + fields + wlan
    }
    static func teredo(_ ip6: [UInt8]) -> [UInt8] {
        [0, 1, 0, 0] + [UInt8](repeating: 7, count: 8) + [0] + [0, 0, 0x3F, 0xFF, 0x3F, 0xFD, 0xFD, 0xFE] + ip6
    }
    static func ayiya(_ ip: [UInt8], next: UInt8) -> [UInt8] {
        [0x41, 0x52, 0x21, next] + Build.be32(1_700_000_000) + [UInt8](repeating: 0x20, count: 16)
            + [UInt8](repeating: 0, count: 20) + ip
    }
    static func erspanII(_ frame: [UInt8]) -> [UInt8] { Build.be16(0x100A) + Build.be16(42) + Build.be32(7) + frame }
    static func erspanIII(_ frame: [UInt8], subheader: Bool) -> [UInt8] {
        Build.be16(0x200A) + Build.be16(43) + Build.be32(1) + Build.be16(0) + Build.be16(subheader ? 0x0011 : 0x0010)
            + (subheader ? Build.be32(3 << 26) + Build.be32(0) : []) + frame
    }

    static func outer4(_ proto: UInt8, _ payload: [UInt8]) -> [UInt8] {
        Build.ipv4(src: outerA, dst: outerB, proto: proto, payload: payload)
    }
    static func outer6(_ next: UInt8, _ payload: [UInt8]) -> [UInt8] {
        Build.ipv6(src: outer6A, dst: outer6B, firstNext: next, upper: payload, lastNext: next)
    }
}

/// One tunnelled TCP packet and the segment inside it.
struct TunnelFixture: Sendable, CustomTestStringConvertible {
    var name: String
    var bytes: [UInt8]
    var segment: TCPSegment
    /// Where the inner TCP header starts and ends.
    var tcpStart: Int
    var tcpEnd: Int
    var testDescription: String { name }

    /// `make` wraps the inner IP packet (or, with `frame`, an Ethernet frame around it) in the
    /// tunnel and the outer IP packet; the fixture is the outer packet in Ethernet.
    static func make(_ name: String, v6Inner: Bool = false, frame: Bool = false, outerV6: Bool = false,
                     _ wrap: ([UInt8]) -> [UInt8]) -> TunnelFixture {
        let spec = Specs.syn
        let inner = v6Inner
            ? Build.ipv6(src: Addr.v6a, dst: Addr.v6b, firstNext: 6, upper: spec.bytes)
            : Build.ipv4(src: Addr.v4a, dst: Addr.v4b, payload: spec.bytes)
        let carried = frame ? Build.ethernet(type: v6Inner ? 0x86DD : 0x0800, payload: inner) : inner
        let outer = wrap(carried)
        let bytes = Build.ethernet(type: outerV6 ? 0x86DD : 0x0800, payload: outer)
        let innerStart = bytes.indices.first { i in
            bytes.count - i >= inner.count && Array(bytes[i..<(i + inner.count)]) == inner
        }!
        let tcpStart = innerStart + (v6Inner ? 40 : 20)
        let segment = v6Inner
            ? spec.segment(Addr.ip6a, Addr.ip6b, v6: true, ipLength: inner.count)
            : spec.segment(Addr.ip4a, Addr.ip4b, v6: false, ipLength: inner.count)
        return TunnelFixture(name: name, bytes: bytes, segment: segment, tcpStart: tcpStart, tcpEnd: tcpStart + spec.headerLength)
    }

    static let all: [TunnelFixture] = [
        make("GRE") { Tunnel.outer4(47, Tunnel.gre(0x0800, $0)) },
        make("GRE key, sequence, checksum") { Tunnel.outer4(47, Tunnel.gre(0x0800, $0, key: 0x1234, seq: 9, checksum: true)) },
        make("GRE over IPv6, IPv6 inside", v6Inner: true, outerV6: true) { Tunnel.outer6(47, Tunnel.gre(0x86DD, $0, key: 1)) },
        make("GRE Ethernet bridging", frame: true) { Tunnel.outer4(47, Tunnel.gre(0x6558, $0)) },
        make("PPTP GRE, PPP") { Tunnel.outer4(47, Tunnel.pptp([0xFF, 0x03, 0x00, 0x21] + $0)) },
        make("PPTP GRE with acknowledgment, compressed PPP", v6Inner: true) { Tunnel.outer4(47, Tunnel.pptp([0x57] + $0, ack: true)) },
        make("ERSPAN type I", frame: true) { Tunnel.outer4(47, Tunnel.gre(0x88BE, $0)) },
        make("ERSPAN type II", frame: true) { Tunnel.outer4(47, Tunnel.gre(0x88BE, Tunnel.erspanII($0), seq: 1)) },
        make("ERSPAN type III", frame: true) { Tunnel.outer4(47, Tunnel.gre(0x22EB, Tunnel.erspanIII($0, subheader: false), seq: 1)) },
        make("ERSPAN type III with subheader", frame: true) {
            Tunnel.outer4(47, Tunnel.gre(0x22EB, Tunnel.erspanIII($0, subheader: true), seq: 1))
        },
        make("VXLAN", frame: true) { Tunnel.outer4(17, Tunnel.udp(sport: 49152, dport: 4789, Tunnel.vxlan(100, $0))) },
        make("VXLAN, source port", frame: true) { Tunnel.outer4(17, Tunnel.udp(sport: 4789, dport: 49152, Tunnel.vxlan(100, $0))) },
        make("Geneve", frame: true) { Tunnel.outer4(17, Tunnel.udp(sport: 49152, dport: 6081, Tunnel.geneve(5000, $0))) },
        make("Geneve IPv6 by protocol type", v6Inner: true) {
            Tunnel.outer4(17, Tunnel.udp(sport: 49152, dport: 6081, Tunnel.geneve(5000, type: 0x86DD, optionWords: 0, $0)))
        },
        make("GTP-U") { Tunnel.outer4(17, Tunnel.udp(sport: 2152, dport: 2152, Tunnel.gtpu(0xC0FFEE, $0, extended: false))) },
        make("GTP-U extension header, IPv6", v6Inner: true, outerV6: true) {
            Tunnel.outer6(17, Tunnel.udp(sport: 2152, dport: 2152, Tunnel.gtpu(0xC0FFEE, $0, extended: true)))
        },
        make("IPv4 in IPv4") { Tunnel.outer4(4, $0) },
        make("IPv6 in IPv4", v6Inner: true) { Tunnel.outer4(41, $0) },
        make("IPv4 in IPv6", outerV6: true) { Tunnel.outer6(4, $0) },
        make("IPv6 in IPv6", v6Inner: true, outerV6: true) { Tunnel.outer6(41, $0) },
        make("CAPWAP data, 802.3", frame: true) { Tunnel.outer4(17, Tunnel.udp(sport: 5250, dport: 5247, Tunnel.capwap($0))) },
        make("CAPWAP data, native 802.11") {
            Tunnel.outer4(17, Tunnel.udp(sport: 5250, dport: 5247,
                                         Tunnel.capwap80211(Build.wlan($0, type: 0x0800, qos: false, wds: false, pad: false))))
        },
        make("CAPWAP native 802.11 QoS with radio MAC and wireless information, IPv6", v6Inner: true) {
            Tunnel.outer4(17, Tunnel.udp(sport: 5247, dport: 5250,
                                         Tunnel.capwap80211(Build.wlan($0, type: 0x86DD, qos: true, wds: false, pad: false),
                                                            optional: true)))
        },
        make("Teredo with indicators", v6Inner: true) { Tunnel.outer4(17, Tunnel.udp(sport: 3544, dport: 49152, Tunnel.teredo($0))) },
        make("Teredo bare", v6Inner: true) { Tunnel.outer4(17, Tunnel.udp(sport: 49152, dport: 3544, $0)) },
        make("AYIYA IPv6", v6Inner: true) { Tunnel.outer4(17, Tunnel.udp(sport: 49152, dport: 5072, Tunnel.ayiya($0, next: 41))) },
        make("AYIYA IPv4", outerV6: true) { Tunnel.outer6(17, Tunnel.udp(sport: 5072, dport: 49152, Tunnel.ayiya($0, next: 4))) },
        make("VXLAN in GRE in IPv4 in IPv6", frame: true, outerV6: true) {
            Tunnel.outer6(4, Tunnel.outer4(47, Tunnel.gre(0x0800, Tunnel.outer4(17, Tunnel.udp(sport: 1, dport: 4789, Tunnel.vxlan(1, $0))))))
        },
    ]
}

/// An IPv4 packet carrying TCP behind an authentication header (transport mode).
private func authenticated() -> (bytes: [UInt8], segment: TCPSegment, tcpStart: Int) {
    let spec = Specs.syn
    var tcp = spec.bytes
    Build.fillTCPChecksum(&tcp, pseudo: Build.be32(Addr.v4a) + Build.be32(Addr.v4b) + [0, 6] + Build.be16(UInt16(tcp.count)))
    let ip = Build.ipv4(src: Addr.v4a, dst: Addr.v4b, proto: 51, payload: Build.authentication(next: 6) + tcp)
    return (Build.ethernet(type: 0x0800, payload: ip),
            spec.segment(Addr.ip4a, Addr.ip4b, v6: false, ipLength: ip.count), 14 + 20 + 24)
}

@Suite("Tunnels: decapsulated to the inner TCP, never trapping")
struct TunnelDecoderTests {
    @Test("each tunnel decodes to its inner segment", arguments: TunnelFixture.all)
    func decodes(_ f: TunnelFixture) {
        #expect(decode(f.bytes, .ethernet) == .tcp(f.segment))
    }

    /// The tunnels each packet came in, as the decoder records them: kind, outer addresses
    /// and ID, outermost first.
    @Test func tunnelPaths_areRecorded() {
        let a4 = IPAddress(ipv4: Tunnel.outerA), b4 = IPAddress(ipv4: Tunnel.outerB)
        let a6 = IPAddress(ipv6High: 0x2001_0db8_0000_0000, low: 0x0a), b6 = IPAddress(ipv6High: 0x2001_0db8_0000_0000, low: 0x0b)
        let expected: [String: [TunnelLayer]] = [
            "GRE": [TunnelLayer(kind: .gre, source: a4, destination: b4)],
            "GRE key, sequence, checksum": [TunnelLayer(kind: .gre, source: a4, destination: b4, id: 0x1234, hasID: true)],
            "GRE over IPv6, IPv6 inside": [TunnelLayer(kind: .gre, source: a6, destination: b6, id: 1, hasID: true)],
            "PPTP GRE, PPP": [TunnelLayer(kind: .pptp, source: a4, destination: b4, id: 7, hasID: true)],
            "ERSPAN type I": [TunnelLayer(kind: .erspan, source: a4, destination: b4)],
            "ERSPAN type II": [TunnelLayer(kind: .erspan, source: a4, destination: b4, id: 42, hasID: true)],
            "ERSPAN type III with subheader": [TunnelLayer(kind: .erspan, source: a4, destination: b4, id: 43, hasID: true)],
            "VXLAN": [TunnelLayer(kind: .vxlan, source: a4, destination: b4, id: 100, hasID: true)],
            "Geneve": [TunnelLayer(kind: .geneve, source: a4, destination: b4, id: 5000, hasID: true)],
            "GTP-U": [TunnelLayer(kind: .gtpU, source: a4, destination: b4, id: 0xC0FFEE, hasID: true)],
            "IPv6 in IPv4": [TunnelLayer(kind: .ipInIP, source: a4, destination: b4)],
            "CAPWAP data, 802.3": [TunnelLayer(kind: .capwap, source: a4, destination: b4)],
            "CAPWAP data, native 802.11": [TunnelLayer(kind: .capwap, source: a4, destination: b4)],
            "Teredo bare": [TunnelLayer(kind: .teredo, source: a4, destination: b4)],
            "AYIYA IPv4": [TunnelLayer(kind: .ayiya, source: a6, destination: b6)],
            "VXLAN in GRE in IPv4 in IPv6": [TunnelLayer(kind: .ipInIP, source: a6, destination: b6),
                                             TunnelLayer(kind: .gre, source: a4, destination: b4),
                                             TunnelLayer(kind: .vxlan, source: a4, destination: b4, id: 1, hasID: true)],
        ]
        for f in TunnelFixture.all {
            var tunnel = TunnelPath()
            var segment = PacketDecoder.emptySegment
            let r = f.bytes.withUnsafeBytes {
                PacketDecoder.decode($0, linkType: .ethernet, originalLength: f.bytes.count, tunnel: &tunnel, into: &segment)
            }
            #expect(r == .tcp, "\(f.name)")
            #expect(tunnel.count >= 1 && tunnel.omitted == 0, "\(f.name)")
            if let want = expected[f.name] { #expect(tunnel.all == want, "\(f.name)") }
        }
        #expect(expected.keys.allSatisfy { name in TunnelFixture.all.contains { $0.name == name } })
    }

    /// Both directions of a tunnel have one identity; per-direction IDs are left out of it;
    /// symmetric IDs and the addresses are in it.
    @Test func identity_isTheSameBothWays() {
        let a = IPAddress(ipv4: 1), b = IPAddress(ipv4: 2), c = IPAddress(ipv4: 3)
        func path(_ layers: [TunnelLayer]) -> TunnelPath {
            var p = TunnelPath()
            for l in layers { p.append(l) }
            return p
        }
        let up = path([TunnelLayer(kind: .vxlan, source: a, destination: b, id: 5, hasID: true),
                       TunnelLayer(kind: .gtpU, source: a, destination: c, id: 100, hasID: true)])
        let down = path([TunnelLayer(kind: .vxlan, source: b, destination: a, id: 5, hasID: true),
                         TunnelLayer(kind: .gtpU, source: c, destination: a, id: 200, hasID: true)])
        #expect(up.identity == down.identity)
        #expect(up != down)
        let otherVNI = path([TunnelLayer(kind: .vxlan, source: a, destination: b, id: 6, hasID: true),
                             TunnelLayer(kind: .gtpU, source: a, destination: c, id: 100, hasID: true)])
        #expect(up.identity != otherVNI.identity)
        // Past the capacity, layers are counted, not kept.
        let deep = path((0..<6).map { _ in TunnelLayer(kind: .gre, source: a, destination: b) })
        #expect(deep.count == TunnelPath.capacity && deep.omitted == 2)
        // The table numbers routes and identities from 1; the reverse route shares the identity.
        var table = TunnelTable()
        let u = table.ids(for: up), d = table.ids(for: down), o = table.ids(for: otherVNI)
        #expect(u == TunnelIDs(identity: 1, route: 1) && d == TunnelIDs(identity: 1, route: 2) && o == TunnelIDs(identity: 2, route: 3))
        #expect(table.ids(for: down) == d && table.path(route: 2) == down && table.path(route: 0) == nil)
    }

    @Test func authenticationHeader_isReadPast() {
        let (bytes, segment, _) = authenticated()
        #expect(decode(bytes, .ethernet) == .tcp(segment))
    }

    /// Every snaplen prefix: a cut before the inner TCP header is whole is a truncated error;
    /// from there the segment stands, marked truncated until its end.
    @Test("every snaplen prefix", arguments: TunnelFixture.all)
    func snaplenPrefixes(_ f: TunnelFixture) {
        for k in 0..<f.bytes.count {
            let r = decode(Array(f.bytes.prefix(k)), .ethernet, original: f.bytes.count)
            if k < f.tcpStart + 20 {
                guard case .invalid(let e) = r, e.kind == .truncated else {
                    Issue.record("\(f.name) cut at \(k): got \(r)"); continue
                }
            } else if case .tcp(let s) = r {
                #expect(s.source == f.segment.source && s.flags == f.segment.flags && s.isTruncated == (k < f.tcpEnd + f.segment.payloadLength),
                        "\(f.name) cut at \(k)")
            } else {
                Issue.record("\(f.name) cut at \(k): got \(r)")
            }
        }
    }

    /// Every packet shorter on the wire than its headers say is an error, never a segment.
    @Test("every short packet", arguments: TunnelFixture.all)
    func shortPackets(_ f: TunnelFixture) {
        for k in 0..<(f.tcpEnd - 4) {
            let r = decode(Array(f.bytes.prefix(k)), .ethernet, original: k)
            guard case .invalid = r else { Issue.record("\(f.name) short at \(k): got \(r)"); continue }
        }
    }

    /// Every single-bit flip, decoded whole and cut in half: no trap, and any segment found
    /// lies inside the packet.
    @Test("bit flips", arguments: TunnelFixture.all)
    func bitFlips(_ f: TunnelFixture) {
        var bytes = f.bytes
        for i in 0..<bytes.count {
            for bit in 0..<8 {
                bytes[i] ^= 1 << bit
                for cut in [bytes.count, bytes.count / 2] {
                    if case .tcp(let s) = decode(Array(bytes.prefix(cut)), .ethernet, original: bytes.count) {
                        #expect(s.payloadLength >= 0 && s.payloadLength <= bytes.count, "\(f.name) flip \(i).\(bit)")
                    }
                }
                bytes[i] ^= 1 << bit
            }
        }
    }

    /// Each header view at every offset of every prefix of every fixture: its check fails, or
    /// its bytes lie inside the prefix and every accessor reads inside them (debug builds check
    /// each read).
    @Test("every prefix: each view fails its check or lies inside it", arguments: TunnelFixture.all)
    func viewsInsidePrefixes(_ f: TunnelFixture) {
        for k in stride(from: 0, through: f.bytes.count, by: 1) {
            Array(f.bytes.prefix(k)).withUnsafeBytes { raw in
                let r = ByteReader(raw)
                for start in 0...min(k, f.tcpStart) {
                    for end in TunnelViews.ends(r, at: start, wireEnd: f.bytes.count) {
                        #expect(end <= k, "\(f.name): a view at \(start) ends at \(end), past \(k)")
                    }
                }
            }
        }
    }

    /// GRE in GRE ...: the deepest nesting within `PacketDecoder.maximumDepth` decodes; one
    /// more level is a malformed-packet error naming the header it stopped at.
    @Test func greNestedPastTheLimit_isMalformed() {
        func nested(_ n: Int) -> [UInt8] {
            var ip = Build.ipv4(src: Addr.v4a, dst: Addr.v4b, payload: Specs.ack.bytes)
            for _ in 0..<n { ip = Tunnel.outer4(47, Tunnel.gre(0x0800, ip)) }
            return Build.ethernet(type: 0x0800, payload: ip)
        }
        // Ethernet, then (IPv4, GRE) n times, then the IPv4 that carries TCP: 2n + 2 steps.
        let deepest = (PacketDecoder.maximumDepth - 2) / 2
        guard case .tcp = decode(nested(deepest), .ethernet) else { Issue.record("\(deepest) levels"); return }
        #expect(decode(nested(deepest + 1), .ethernet)
                == .invalid(DecodeError(.malformed, .gre, "headers are nested more deeply than the decoder follows")))
        guard case .invalid(let e) = decode(nested(1000), .ethernet) else { Issue.record("1000 levels"); return }
        #expect(e.kind == .malformed)
    }

    /// 802.11 in CAPWAP in 802.11 in CAPWAP ...: bounded by the same depth (IPv4, UDP, CAPWAP
    /// and 802.11 are four steps a level).
    @Test func capwap80211NestedPastTheLimit_isMalformed() {
        func nested(_ n: Int) -> [UInt8] {
            var ip = Build.ipv4(src: Addr.v4a, dst: Addr.v4b, payload: Specs.ack.bytes)
            for _ in 0..<n {
                ip = Tunnel.outer4(17, Tunnel.udp(sport: 5250, dport: 5247, Tunnel.capwap80211(
                    Build.wlan(ip, type: 0x0800, qos: false, wds: false, pad: false))))
            }
            return Build.ethernet(type: 0x0800, payload: ip)
        }
        let deepest = (PacketDecoder.maximumDepth - 2) / 4
        guard case .tcp = decode(nested(deepest), .ethernet) else { Issue.record("\(deepest) levels"); return }
        guard case .invalid(let e) = decode(nested(deepest + 1), .ethernet) else { Issue.record("\(deepest + 1) levels"); return }
        #expect(e.kind == .malformed && e.reason == "headers are nested more deeply than the decoder follows")
        guard case .invalid(let deep) = decode(nested(200), .ethernet) else { Issue.record("200 levels"); return }
        #expect(deep.kind == .malformed)
    }

    /// Teredo whose IPv6 packet is Teredo again, without end.
    @Test func teredoInTeredo_isMalformed() {
        var ip = Build.ipv6(src: Addr.v6a, dst: Addr.v6b, firstNext: 6, upper: Specs.ack.bytes)
        for _ in 0..<20 {
            ip = Build.ipv6(src: Tunnel.outer6A, dst: Tunnel.outer6B, firstNext: 17,
                            upper: Tunnel.udp(sport: 3544, dport: 3544, ip), lastNext: 17)
        }
        guard case .invalid(let e) = decode(Build.ethernet(type: 0x86DD, payload: ip), .ethernet) else {
            Issue.record("decoded"); return
        }
        #expect(e.kind == .malformed && e.reason == "headers are nested more deeply than the decoder follows")
    }

    /// Payloads that are not what their port or type promises are not ours, not errors.
    @Test func notTheTunnelsShape_isNotTCP() {
        let v4 = Build.ipv4(src: Addr.v4a, dst: Addr.v4b, payload: Specs.ack.bytes)
        let cases: [(String, [UInt8])] = [
            ("UDP elsewhere", Tunnel.outer4(17, Tunnel.udp(sport: 53, dport: 5353, v4))),
            ("GRE routing", Tunnel.outer4(47, Build.be16(0x4000) + Build.be16(0x0800) + [0, 0, 0, 0] + v4)),
            ("GRE version 2", Tunnel.outer4(47, Build.be16(0x0002) + Build.be16(0x0800) + v4)),
            ("GRE keepalive", Tunnel.outer4(47, Tunnel.gre(0x0000, []))),
            ("PPTP LCP", Tunnel.outer4(47, Tunnel.pptp([0xFF, 0x03, 0xC0, 0x21, 1, 1, 0, 4]))),
            ("PPTP ack alone", Tunnel.outer4(47, Build.be16(0x2081) + Build.be16(0x880B) + Build.be16(0) + Build.be16(7) + Build.be32(1))),
            ("ERSPAN version 3", Tunnel.outer4(47, Tunnel.gre(0x22EB, Build.be16(0x300A) + [UInt8](repeating: 0, count: 30), seq: 1))),
            ("Geneve version 1", Tunnel.outer4(17, Tunnel.udp(sport: 1, dport: 6081, [0x40, 0, 0x65, 0x58, 0, 0, 1, 0] + v4))),
            ("GTP-U echo", Tunnel.outer4(17, Tunnel.udp(sport: 2152, dport: 2152, [0x32, 1, 0, 4, 0, 0, 0, 0, 0, 1, 0, 0]))),
            ("GTP' ", Tunnel.outer4(17, Tunnel.udp(sport: 2152, dport: 2152, [0x20, 0xFF, 0, UInt8(v4.count), 0, 0, 0, 1] + v4))),
            ("CAPWAP DTLS", Tunnel.outer4(17, Tunnel.udp(sport: 1, dport: 5247, [0x01, 0, 0, 0] + v4))),
            ("CAPWAP native frame of another binding (WBID 3)",
             Tunnel.outer4(17, Tunnel.udp(sport: 1, dport: 5247, Build.be32(2 << 19 | 3 << 9 | 1 << 8) + [0, 0, 0, 0] + v4))),
            ("CAPWAP 802.11 management frame", Tunnel.outer4(17, Tunnel.udp(sport: 1, dport: 5247,
                                                                            Tunnel.capwap80211([0x80, 0] + [UInt8](repeating: 0xFF, count: 36))))),
            ("CAPWAP 802.11 protected data", Tunnel.outer4(17, Tunnel.udp(sport: 1, dport: 5247, Tunnel.capwap80211(
                Build.wlan(v4, type: 0x0800, qos: false, wds: false, pad: false, flags: 0x41))))),
            ("CAPWAP 802.11 keep-alive", Tunnel.outer4(17, Tunnel.udp(sport: 1, dport: 5247,
                                                                      Build.be32(2 << 19 | 1 << 9 | 1 << 8 | 1 << 3) + [0, 0, 0, 0]))),
            ("Teredo carrying IPv4", Tunnel.outer4(17, Tunnel.udp(sport: 1, dport: 3544, v4))),
            ("Teredo origin twice", Tunnel.outer4(17, Tunnel.udp(sport: 1, dport: 3544, [UInt8](repeating: 0, count: 16) + v4))),
            ("AYIYA heartbeat", Tunnel.outer4(17, Tunnel.udp(sport: 1, dport: 5072, [0x41, 0x52, 0x20, 59, 0, 0, 0, 0]
                + [UInt8](repeating: 0, count: 36)))),
            ("IPv4 carrying ESP", Tunnel.outer4(50, v4)),
        ]
        for (name, ip) in cases {
            #expect(decode(Build.ethernet(type: 0x0800, payload: ip), .ethernet) == .notTCP, "\(name)")
        }
    }

    /// Length fields that claim more than their enclosing payload are malformed.
    @Test func lengthsPastTheirPayload_areMalformed() {
        let v4 = Build.ipv4(src: Addr.v4a, dst: Addr.v4b, payload: Specs.ack.bytes)
        var udp = Tunnel.udp(sport: 1, dport: 4789, Tunnel.vxlan(1, Build.ethernet(type: 0x0800, payload: v4)))
        udp[4] = 0xFF
        var gtp = Tunnel.gtpu(1, v4, extended: false)
        gtp[2] = 0xFF
        var ah = Build.authentication(next: 6) + Specs.ack.bytes
        ah[1] = 0xFF
        let cases: [(String, [UInt8], ProtocolLayer)] = [
            ("UDP length", Tunnel.outer4(17, udp), .udp),
            ("UDP length below 8", Tunnel.outer4(17, Build.be16(1) + Build.be16(4789) + Build.be16(4) + [0, 0]), .udp),
            ("GTP-U length", Tunnel.outer4(17, Tunnel.udp(sport: 2152, dport: 2152, gtp)), .gtpU),
            ("AH length", Tunnel.outer4(51, ah), .authentication),
            ("inner IPv4 total length", Tunnel.outer4(4, Array(v4.dropLast(4))), .ipv4),
        ]
        for (name, ip, layer) in cases {
            guard case .invalid(let e) = decode(Build.ethernet(type: 0x0800, payload: ip), .ethernet) else {
                Issue.record("\(name): decoded"); continue
            }
            #expect(e.kind == .malformed && e.layer == layer, "\(name): \(e)")
        }
    }
}

/// Every tunnel header view checked at `start`: the ends of those whose checks pass, after
/// reading every accessor.
enum TunnelViews {
    static func ends(_ r: ByteReader, at start: Int, wireEnd: Int) -> [Int] {
        var out: [Int] = []
        var sink = 0
        if let v = try? UDPHeader(checking: r, at: start, wireEnd: wireEnd) {
            sink &+= Int(v.sourcePort) &+ Int(v.destinationPort) &+ v.datagramEnd; out.append(v.end)
            #expect(v.datagramEnd <= wireEnd)
        }
        if let v = try? AuthenticationHeader(checking: r, at: start, remaining: wireEnd - start) {
            sink &+= Int(v.nextHeader.rawValue) &+ v.length &+ Int(v.securityParametersIndex); out.append(v.end)
        }
        if let v = try? GREHeader(checking: r, at: start, wireEnd: wireEnd) {
            sink &+= Int(v.version) &+ Int(v.protocolType.rawValue) &+ Int(v.key) &+ (v.hasRouting ? 1 : 0)
                &+ (v.hasSequenceNumber ? 1 : 0); out.append(v.end)
        }
        if let v = try? ERSPANHeader(checking: r, at: start, wireEnd: wireEnd) {
            sink &+= Int(v.version) &+ Int(v.session) &+ (v.carriesEthernet ? 1 : 0); out.append(v.end)
        }
        if let v = try? PPPHeader(checking: r, at: start, wireEnd: wireEnd) { sink &+= Int(v.protocol); out.append(v.end) }
        if let v = try? VXLANHeader(checking: r, at: start, wireEnd: wireEnd) { sink &+= Int(v.vni) &+ Int(v.flags); out.append(v.end) }
        if let v = try? GeneveHeader(checking: r, at: start, wireEnd: wireEnd) {
            sink &+= Int(v.vni) &+ Int(v.version) &+ Int(v.protocolType.rawValue); out.append(v.end)
        }
        if let v = try? GTPUHeader(checking: r, at: start, wireEnd: wireEnd) {
            sink &+= Int(v.teid) &+ Int(v.version) &+ Int(v.messageType) &+ (v.isGTP ? 1 : 0); out.append(v.end)
            #expect(v.end <= v.messageEnd || v.bytes.count == GTPUHeader.Layout.mandatoryLength)
        }
        if let v = try? CAPWAPHeader(checking: r, at: start, wireEnd: wireEnd) {
            sink &+= Int(v.preamble) &+ Int(v.wirelessBinding) &+ (v.isNativeFrame ? 1 : 0) &+ (v.isFragment ? 1 : 0)
                &+ (v.isKeepAlive ? 1 : 0); out.append(v.end)
        }
        if let v = try? IEEE80211Header(checking: r, at: start) {
            sink &+= (v.isData ? 1 : 0) &+ (v.isProtected ? 2 : 0) &+ (v.hasBody ? 4 : 0)
            if v.isData { sink &+= (v.isFragment ? 8 : 0) &+ (v.isAMSDU ? 16 : 0) }
            out.append(v.end)
        }
        if let v = try? LLCSNAPHeader(checking: r, at: start) { sink &+= Int(v.etherType?.rawValue ?? 0); out.append(v.end) }
        if let v = (try? TeredoHeader.locate(r, at: start, wireEnd: wireEnd)) ?? nil {
            #expect(v.end >= v.start && v.end < wireEnd); out.append(v.end)
        }
        if let v = try? AYIYAHeader(checking: r, at: start, wireEnd: wireEnd) {
            sink &+= Int(v.operation) &+ Int(v.nextHeader.rawValue); out.append(v.end)
        }
        _ = sink
        return out
    }
}
