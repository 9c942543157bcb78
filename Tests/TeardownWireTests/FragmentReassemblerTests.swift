import Testing
import TeardownTestSupport
@testable import TeardownWire

/// A TCP segment sent as IP fragments, built field by field: the datagram's TCP bytes cut at
/// the given (offset, end) pairs, each in its own IPv4 packet or IPv6 packet with a Fragment
/// header (raw IP link type).
private struct Fragmented {
    var isIPv6: Bool
    var tcp: [UInt8]
    var id: UInt32 = 0x4242

    static let segmentTCP = Build.tcp(sport: 40000, dport: 80, seq: 1000, ack: 2000, flags: 0x11,
                                      options: Opt.ts(7, 9) + [1, 1], payload: Array(0..<40))

    /// The whole datagram, unfragmented.
    var whole: [UInt8] {
        isIPv6 ? Build.ipv6(src: Addr.v6a, dst: Addr.v6b, firstNext: 6, upper: tcp)
               : Build.ipv4(src: Addr.v4a, dst: Addr.v4b, payload: tcp)
    }

    /// The fragment holding `offset..<end` of the TCP bytes (`more`: not the last).
    func fragment(_ offset: Int, _ end: Int, more: Bool? = nil) -> [UInt8] {
        let piece = Array(tcp[min(offset, tcp.count)..<min(end, tcp.count)])
        let more = more ?? (end < tcp.count)
        if isIPv6 {
            return Build.ipv6(src: Addr.v6a, dst: Addr.v6b, firstNext: 44,
                              extensions: Build.fragment(next: 6, offset: UInt16(offset / 8), more: more, id: id),
                              upper: piece, lastNext: 0)
        }
        return Build.ipv4(src: Addr.v4a, dst: Addr.v4b, proto: 6, id: UInt16(truncatingIfNeeded: id),
                          flagsAndOffset: (more ? 0x2000 : 0) | UInt16(offset / 8), payload: piece)
    }

    /// Pieces of `size` bytes (the first `first`), in order.
    func pieces(first: Int, size: Int) -> [(Int, Int)] {
        var out: [(Int, Int)] = []
        var offset = 0
        while offset < tcp.count {
            let end = min(tcp.count, offset + (offset == 0 ? first : size))
            out.append((offset, end))
            offset = end
        }
        return out
    }
}

/// Feeds `packets` (raw IP) to `reassembler` one second apart from `start`, in order.
private func feed(_ packets: [[UInt8]], _ reassembler: inout FragmentReassembler, start: Int64 = 0,
                  step: Int64 = 1_000_000_000, original: [Int?]? = nil) -> [Decoded] {
    var out: [Decoded] = []
    for (i, p) in packets.enumerated() {
        var segment = PacketDecoder.emptySegment
        let wire = original?[i] ?? p.count
        let r = p.withUnsafeBytes {
            PacketDecoder.decode($0, linkType: .raw, originalLength: wire, time: Timestamp(nanoseconds: start + Int64(i) * step),
                                 reassembling: &reassembler, into: &segment)
        }
        switch r {
        case .tcp: out.append(.tcp(segment))
        case .notTCP: out.append(.notTCP)
        case .fragment: out.append(.fragment)
        case .unsupportedLinkType: out.append(.unsupportedLinkType)
        case .invalid(let e): out.append(.invalid(e))
        }
    }
    return out
}

private func isInvalid(_ d: Decoded, _ reason: String) -> Bool {
    if case .invalid(let e) = d { return e.reason.contains(reason) }
    return false
}

@Suite("FragmentReassembler: datagrams put back together as Linux does")
struct FragmentReassemblerTests {
    static let versions = [false, true]

    /// In order, reversed, odd pieces first, with duplicates: every fragment but the one that
    /// completes the datagram is held; that one gives the segment of the whole datagram.
    @Test("any order gives the whole datagram's segment", arguments: versions)
    func anyOrder_givesTheWholeSegment(isIPv6: Bool) throws {
        let f = Fragmented(isIPv6: isIPv6, tcp: Fragmented.segmentTCP)
        guard case .tcp(let expected) = decode(f.whole, .raw) else { Issue.record("the whole datagram is not TCP"); return }
        let pieces = f.pieces(first: 24, size: 16)
        try #require(pieces.count >= 4)
        let orders: [[(Int, Int)]] = [
            pieces,
            pieces.reversed(),
            stride(from: 1, to: pieces.count, by: 2).map { pieces[$0] } + stride(from: 0, to: pieces.count, by: 2).map { pieces[$0] },
            [pieces[0], pieces[0], (8, 24), pieces[1], (8, 16)] + pieces.dropFirst(2),
        ]
        for order in orders {
            var r = FragmentReassembler()
            let got = feed(order.map { f.fragment($0.0, $0.1) }, &r)
            #expect(got.dropLast().allSatisfy { $0 == .fragment }, "\(order)")
            #expect(got.last == .tcp(expected), "\(order)")
            #expect(r.counts.reassembled == 1 && r.pending == 0 && r.memory == 0)
            #expect(r.counts.dropped == 0)
        }
    }

    /// Linux's runs: a fragment that continues the highest one extends its run; one put in a
    /// gap is a run of its own. A copy of [0, 32) is a duplicate when [0, 24) and [24, 32) are
    /// one run, and an overlap (the datagram is dropped) when they are two.
    @Test("a duplicate lies inside one run, anything else overlapping drops the datagram", arguments: versions)
    func runs_decideDuplicateOrOverlap(isIPv6: Bool) {
        let f = Fragmented(isIPv6: isIPv6, tcp: Array(Fragmented.segmentTCP.prefix(48)))
        var inOrder = FragmentReassembler()
        let a = feed([f.fragment(0, 24), f.fragment(24, 32), f.fragment(32, 40), f.fragment(0, 32), f.fragment(40, 48)], &inOrder)
        #expect(a[3] == .fragment)
        if case .tcp = a[4] {} else { Issue.record("not reassembled: \(a)") }
        #expect(inOrder.counts.duplicates == 1)

        var gap = FragmentReassembler()
        let b = feed([f.fragment(0, 24), f.fragment(32, 40), f.fragment(24, 32), f.fragment(0, 32), f.fragment(40, 48)], &gap)
        #expect(isInvalid(b[3], "overlaps"), "\(b)")
        #expect(b[4] == .fragment, "the last fragment starts a datagram of its own")
        #expect(gap.counts.overlapping == 1 && gap.counts.reassembled == 0)
        gap.finish()
        #expect(gap.counts.incomplete == 1 && gap.pending == 0 && gap.memory == 0)
    }

    /// Tiny overlapping fragments that would rewrite the TCP header (RFC 1858 §3.2): dropped.
    @Test("tiny overlapping fragments drop the datagram", arguments: versions)
    func tinyOverlap_dropsTheDatagram(isIPv6: Bool) {
        let f = Fragmented(isIPv6: isIPv6, tcp: Array(Fragmented.segmentTCP.prefix(32)))
        var r = FragmentReassembler()
        let got = feed([f.fragment(0, 24), f.fragment(16, 32), f.fragment(24, 32)], &r)
        #expect(isInvalid(got[1], "overlaps"), "\(got)")
        #expect(r.counts.overlapping == 1 && r.counts.reassembled == 0)
    }

    /// A datagram still incomplete 30 s (packet time) after its first fragment is dropped.
    @Test("30 s of packet time after the first fragment, an incomplete datagram is dropped", arguments: versions)
    func timeout_dropsTheDatagram(isIPv6: Bool) {
        let f = Fragmented(isIPv6: isIPv6, tcp: Fragmented.segmentTCP)
        let pieces = f.pieces(first: 24, size: 16)
        var late = FragmentReassembler()
        let got = feed(pieces.map { f.fragment($0.0, $0.1) }, &late, step: 10_000_000_000)
        #expect(got.allSatisfy { $0 == .fragment }, "\(got)")
        #expect(late.counts.timedOut >= 1 && late.counts.reassembled == 0)

        var inTime = FragmentReassembler()
        let quick = feed(pieces.map { f.fragment($0.0, $0.1) }, &inTime, step: 29_000_000_000 / Int64(pieces.count))
        if case .tcp = quick.last {} else { Issue.record("not reassembled within 30 s: \(quick)") }
    }

    /// A flood of datagrams that never complete: what is held never passes the memory limit,
    /// the oldest go first, and a datagram that then arrives whole is still reassembled.
    @Test("a fragment flood stays within the memory limit")
    func flood_staysWithinTheMemoryLimit() {
        let limits = FragmentReassembler.Limits(memory: 64 << 10)
        var r = FragmentReassembler(limits: limits)
        let filler = [UInt8](repeating: 0xEE, count: 1000)
        var peak = 0
        for n in 0..<5000 {
            let tcp = Build.tcp(sport: UInt16(n % 60000 + 1), dport: 80, seq: UInt32(n), ack: 0, flags: 0x02) + filler
            let first = Build.ipv4(src: Addr.v4a &+ UInt32(n), dst: Addr.v4b, id: UInt16(truncatingIfNeeded: n),
                                   flagsAndOffset: 0x2000, payload: Array(tcp.prefix(1000)))
            var segment = PacketDecoder.emptySegment
            let result = first.withUnsafeBytes {
                PacketDecoder.decode($0, linkType: .raw, originalLength: first.count, time: Timestamp(nanoseconds: Int64(n)),
                                     reassembling: &r, into: &segment)
            }
            if case .fragment = result {} else { Issue.record("flood fragment \(n): \(result)") }
            peak = max(peak, r.memory)
        }
        #expect(peak <= limits.memory)
        #expect(r.counts.evicted > 4000)
        #expect(r.pending < 64)
        let f = Fragmented(isIPv6: false, tcp: Fragmented.segmentTCP)
        let got = feed(f.pieces(first: 16, size: 16).map { f.fragment($0.0, $0.1) }, &r, start: 10_000)
        if case .tcp = got.last {} else { Issue.record("not reassembled after the flood: \(got)") }
        #expect(r.memory <= limits.memory)
    }

    /// Fragments that contradict their datagram or the IP limits, each with its reason.
    @Test("contradicting fragments drop the datagram, with a reason", arguments: versions)
    func contradictions(isIPv6: Bool) {
        let f = Fragmented(isIPv6: isIPv6, tcp: Fragmented.segmentTCP)
        let cases: [(String, [[UInt8]], String)] = [
            ("past 65,535", [f.fragment(24, 40), Build.prefixFree(f, offset: 65528, length: 16)], "largest datagram"),
            ("data after the last fragment", [f.fragment(24, 32, more: false), f.fragment(32, 48, more: true)], "last fragment"),
            ("two last fragments disagree", [f.fragment(24, 32, more: false), f.fragment(24, 40, more: false)], "disagrees"),
            ("no data", [f.fragment(24, 32), f.fragment(32, 32, more: true)], "no data"),
        ]
        for (name, packets, reason) in cases {
            var r = FragmentReassembler()
            let got = feed(packets, &r)
            #expect(isInvalid(got[1], reason), "\(name): \(got)")
            #expect(r.counts.invalid == 1, "\(name)")
            #expect(r.pending == 0 && r.memory == 0, "\(name)")
        }
    }

    /// IPv4 cuts a fragment other than the last to a multiple of 8 bytes; IPv6 drops the
    /// datagram (RFC 8200 §4.5).
    @Test("a fragment other than the last whose length is not a multiple of 8")
    func oddLength() {
        let v4 = Fragmented(isIPv6: false, tcp: Fragmented.segmentTCP)
        var r4 = FragmentReassembler()
        // [0, 20) is cut to [0, 16); [16, end) then completes the datagram.
        let got4 = feed([v4.fragment(0, 20), v4.fragment(16, v4.tcp.count)], &r4)
        if case .tcp = got4[1] {} else { Issue.record("IPv4: \(got4)") }
        let v6 = Fragmented(isIPv6: true, tcp: Fragmented.segmentTCP)
        var r6 = FragmentReassembler()
        let got6 = feed([v6.fragment(0, 28)], &r6)
        #expect(isInvalid(got6[0], "multiple of 8"), "\(got6)")
    }

    /// RFC 8200 §4.5: a first IPv6 fragment must hold the headers through TCP's.
    @Test("a first IPv6 fragment without the whole TCP header is dropped")
    func ipv6FirstFragment_mustHoldTheTCPHeader() {
        let f = Fragmented(isIPv6: true, tcp: Fragmented.segmentTCP)
        var r = FragmentReassembler()
        let got = feed([f.fragment(0, 16), f.fragment(16, f.tcp.count)], &r)
        #expect(isInvalid(got[0], "headers through TCP"), "\(got)")
        #expect(r.counts.rejected == 1)
        #expect(got[1] == .fragment)
    }

    /// A fragment cut by the snapshot length: the datagram is reassembled, its segment has the
    /// whole payload length and is marked truncated.
    @Test("a snaplen-cut fragment gives a truncated segment", arguments: versions)
    func snaplenCut_givesATruncatedSegment(isIPv6: Bool) {
        let f = Fragmented(isIPv6: isIPv6, tcp: Fragmented.segmentTCP)
        guard case .tcp(var expected) = decode(f.whole, .raw) else { return }
        expected.isTruncated = true
        let packets = f.pieces(first: 40, size: 16).map { f.fragment($0.0, $0.1) }
        var cut = packets
        cut[1] = Array(cut[1].prefix(cut[1].count - 5))
        var r = FragmentReassembler()
        let got = feed(cut, &r, original: packets.map { $0.count })
        #expect(got.last == .tcp(expected), "\(got)")
    }

    /// Every prefix of every fragment (the others whole), cut by snaplen or short on the wire,
    /// and every single-bit flip: never a trap, and nothing held after `finish`.
    @Test("prefixes and bit flips of fragments never trap", arguments: versions)
    func prefixesAndBitFlips(isIPv6: Bool) {
        let f = Fragmented(isIPv6: isIPv6, tcp: Fragmented.segmentTCP)
        let packets = f.pieces(first: 24, size: 16).map { f.fragment($0.0, $0.1) }
        for i in packets.indices {
            for k in 0...packets[i].count {
                for snaplen in [true, false] {
                    var cut = packets
                    cut[i] = Array(packets[i].prefix(k))
                    var r = FragmentReassembler()
                    let original: [Int?] = packets.indices.map { $0 == i && snaplen ? packets[i].count : nil }
                    for d in feed(cut, &r, original: original) {
                        if case .tcp(let s) = d { #expect(s.payloadLength >= 0 && s.payloadLength <= 65535) }
                    }
                    r.finish()
                    #expect(r.pending == 0 && r.memory == 0)
                }
            }
            for bit in 0..<(packets[i].count * 8) {
                var flipped = packets
                flipped[i][bit / 8] ^= UInt8(1 << (bit % 8))
                var r = FragmentReassembler()
                _ = feed(flipped, &r)
                r.finish()
                #expect(r.pending == 0 && r.memory == 0)
            }
        }
    }

    /// Seeded garbage fragments of a few datagrams, in random order and sizes: what is held
    /// is always within the limit and accounted to zero once every datagram has gone.
    @Test("seeded random fragments keep the accounting")
    func seededRandomFragments() {
        var rng = SplitMix64(state: 13)
        let limits = FragmentReassembler.Limits(timeoutNanoseconds: 5_000_000_000, memory: 8192)
        var r = FragmentReassembler(limits: limits)
        for n in 0..<20_000 {
            let offset = Int(rng.next() % 64) * 8
            let length = Int(rng.next() % 48)
            let flags = UInt16(rng.next() % 2 == 0 ? 0x2000 : 0) | UInt16(offset / 8)
            let packet = Build.ipv4(src: Addr.v4a, dst: Addr.v4b, id: UInt16(rng.next() % 8), flagsAndOffset: flags,
                                    payload: (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
            _ = feed([packet], &r, start: Int64(n) * 1_000_000)
            #expect(r.memory <= limits.memory)
        }
        r.finish()
        #expect(r.memory == 0 && r.pending == 0)
        let c = r.counts
        #expect(c.fragments > 0 && c.reassembled + c.dropped > 0)
    }
}

extension Build {
    /// A fragment of `f`'s datagram at `offset` (bytes) carrying `length` bytes of filler.
    fileprivate static func prefixFree(_ f: Fragmented, offset: Int, length: Int) -> [UInt8] {
        let filler = [UInt8](repeating: 0x5A, count: length)
        if f.isIPv6 {
            return ipv6(src: Addr.v6a, dst: Addr.v6b, firstNext: 44,
                        extensions: fragment(next: 6, offset: UInt16(offset / 8), more: true, id: f.id), upper: filler, lastNext: 0)
        }
        return ipv4(src: Addr.v4a, dst: Addr.v4b, id: UInt16(truncatingIfNeeded: f.id),
                    flagsAndOffset: 0x2000 | UInt16(offset / 8), payload: filler)
    }
}
