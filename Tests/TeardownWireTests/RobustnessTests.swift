import Testing
import TeardownTestSupport
@testable import TeardownWire

/// Decodes exactly `count` bytes of `bytes` (a copy, so a read past it is a read past an allocation).
private func decodePrefix(_ bytes: [UInt8], _ count: Int, _ link: LinkType, original: Int) -> Decoded {
    decode(Array(bytes.prefix(count)), link, original: original)
}

/// Invariants any successful decode must keep, whatever the input.
private func checkInvariants(_ r: Decoded, captured: Int, original: Int, _ context: @autoclosure () -> String) {
    if case .tcp(let s) = r {
        #expect(s.payloadLength >= 0, "\(context()): negative payload")
        #expect(s.payloadLength <= max(captured, original), "\(context()): payload longer than the packet")
        #expect(s.ipVersion == 4 || s.ipVersion == 6, "\(context())")
    }
    if case .invalid(let e) = r {
        #expect(!e.reason.isEmpty, "\(context())")
    }
}

@Suite("PacketDecoder: prefixes, garbage and bit flips never trap")
struct RobustnessTests {
    /// Every prefix of a TCP fixture, as cut by a snaplen: inside the headers it is a truncated
    /// error naming the layer the cut fell in; after them it is the same segment, marked
    /// truncated until the end of the IP packet (padding does not count).
    @Test("every snaplen prefix of a TCP fixture", arguments: Fixtures.tcp)
    func snaplenPrefixes(_ f: Fixture) {
        guard case .tcp(let full) = f.expected else { Issue.record("fixture is not TCP"); return }
        for k in 0..<f.bytes.count {
            let r = decodePrefix(f.bytes, k, f.linkType, original: f.bytes.count)
            if k < f.tcpStart + 20 {
                let want = Expected.invalid(.truncated, f.truncatedLayer(at: k))
                #expect(want.matches(r), "\(f.name) cut at \(k): got \(r), want \(want)")
            } else if k < f.tcpEnd {
                // Cut inside the options: the fixed header is whole, so the segment stands,
                // marked truncated, with the options that were captured.
                guard case .tcp(let seg) = r else { Issue.record("\(f.name) cut at \(k) in the options: got \(r)"); continue }
                var want = full
                want.isTruncated = true
                want.options = seg.options
                #expect(seg == want, "\(f.name) cut at \(k): got \(r)")
            } else {
                var seg = full
                seg.isTruncated = k < f.ipEnd
                #expect(r == .tcp(seg), "\(f.name) cut at \(k): got \(r)")
            }
        }
    }

    /// The same prefixes when nothing was cut (the packet really was that short on the wire):
    /// a packet shorter than its IP length is never a valid segment.
    @Test("every short packet of a TCP fixture", arguments: Fixtures.tcp.filter { !$0.lengthFromWire })
    func shortPackets(_ f: Fixture) {
        guard case .tcp(let full) = f.expected else { Issue.record("fixture is not TCP"); return }
        for k in 0..<f.bytes.count {
            let r = decodePrefix(f.bytes, k, f.linkType, original: k)
            if k < f.ipEnd + f.linkTrailer {
                // An NFLOG packet that ends between attributes, before the payload attribute, is
                // one that carries no packet (nflog logs such when told to copy none): not TCP.
                if f.linkType == .nflog && k < f.linkEnd && r == .notTCP { continue }
                guard case .invalid(let e) = r else { Issue.record("\(f.name) short at \(k): got \(r)"); continue }
                if k >= f.tcpStart && k < f.ipEnd {
                    // The whole IP header was there: its length field contradicts the wire length
                    // (NFLOG's payload attribute has a length of its own, which contradicts it first).
                    let layer = f.linkType == .nflog ? ProtocolLayer.link : f.ipLayer
                    #expect(e.kind == .malformed && e.layer == layer, "\(f.name) short at \(k): \(e)")
                }
            } else {
                #expect(r == .tcp(full), "\(f.name) short at \(k): got \(r)")
            }
        }
    }

    @Test("every prefix of a non-TCP fixture is truncated or the same answer", arguments: Fixtures.nonTCP)
    func nonTCPPrefixes(_ f: Fixture) {
        let whole = decode(f.bytes, f.linkType)
        #expect(f.expected.matches(whole))
        for k in 0..<f.bytes.count {
            let r = decodePrefix(f.bytes, k, f.linkType, original: f.bytes.count)
            var ok = r == whole
            if case .invalid(let e) = r, e.kind == .truncated { ok = true }
            #expect(ok, "\(f.name) cut at \(k): got \(r)")
        }
    }

    /// Every single-bit flip of every fixture, decoded as captured and as snaplen-cut.
    @Test("bit flips", arguments: Fixtures.all)
    func bitFlips(_ f: Fixture) {
        var bytes = f.bytes
        for i in 0..<bytes.count {
            for bit in 0..<8 {
                bytes[i] ^= 1 << bit
                let r = decode(bytes, f.linkType)
                checkInvariants(r, captured: bytes.count, original: bytes.count, "\(f.name) flip \(i).\(bit)")
                let half = bytes.count / 2
                let c = decodePrefix(bytes, half, f.linkType, original: bytes.count)
                checkInvariants(c, captured: half, original: bytes.count, "\(f.name) flip \(i).\(bit) cut")
                bytes[i] ^= 1 << bit
            }
        }
    }

    static let linkTypes: [LinkType] = [.ethernet, .linuxSLL, .linuxSLL2, .null, .loop, .raw, .rawBSD12,
                                        .rawBSD14, .ipv4, .ipv6, .ppp, .pppSerial, .ciscoHDLC, .ieee80211,
                                        .ieee80211Radiotap, .ppi, .arcnetLinux, .ipoib, .nflog,
                                        LinkType(rawValue: 220)]

    /// Pure garbage, and garbage behind plausible headers (so the deep layers see it too).
    @Test("seeded garbage", arguments: linkTypes)
    func garbage(_ link: LinkType) {
        var rng = SplitMix64(state: 0x7EA4_D0FF ^ UInt64(UInt32(bitPattern: link.rawValue)))
        let templates = Fixtures.all.filter { $0.linkType == link }.map(\.bytes)
        var seen = 0
        for n in 0..<4000 {
            let length = Int(rng.next() % 160)
            var bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if n % 2 == 1, let t = templates.randomElement(using: &rng), !t.isEmpty {
                // Keep a random-length prefix of a valid packet and randomise the rest.
                let keep = Int(rng.next() % UInt64(t.count))
                bytes = Array(t.prefix(keep)) + bytes.prefix(max(0, t.count - keep))
            }
            let original = Int(rng.next() % 2) == 0 ? bytes.count : bytes.count + Int(rng.next() % 2000)
            let r = decode(bytes, link, original: original)
            checkInvariants(r, captured: bytes.count, original: original, "\(link) garbage #\(n)")
            if case .tcp = r { seen += 1 }
        }
        // The templated half must reach the TCP decoder sometimes, or this test proves little.
        if !templates.isEmpty && link != LinkType(rawValue: 220) { #expect(seen > 0, "\(link): no garbage decoded as TCP") }
    }

    @Test("empty buffer under every link type")
    func empty() {
        for link in Self.linkTypes {
            let r = decode([], link, original: 0)
            if link.isSupported {
                guard case .invalid(let e) = r else { Issue.record("\(link): \(r)"); continue }
                #expect(e.kind == .truncated, "\(link): \(e)")
            } else {
                #expect(r == .unsupportedLinkType)
            }
        }
        // A nil base address (empty buffer that never had storage).
        var segment = PacketDecoder.emptySegment
        let r = PacketDecoder.decode(UnsafeRawBufferPointer(start: nil, count: 0), linkType: .ethernet, originalLength: 1500,
                                     into: &segment)
        #expect(r == .invalid(DecodeError(.truncated, .link, "captured bytes end inside the 14-byte Ethernet header")))
    }

    @Test("absurd original lengths")
    func absurdOriginalLengths() {
        let f = Fixtures.tcp[0]
        for original in [Int.min, -1, 0, Int.max, Int.max - 1] {
            let r = decode(f.bytes, f.linkType, original: original)
            checkInvariants(r, captured: f.bytes.count, original: original, "original \(original)")
        }
        // A truncated TSO packet whose wire length is enormous must not overflow anything.
        var ip = Build.ipv4(src: 1, dst: 2, payload: Specs.ack.bytes)
        ip[2] = 0; ip[3] = 0
        if case .tcp(let s) = decode(ip, .ipv4, original: Int.max) {
            #expect(s.payloadLength == Int.max - 40 && s.isTruncated)
        } else { Issue.record("not TCP") }
    }
}
