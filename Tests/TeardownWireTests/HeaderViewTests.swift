import Testing
import TeardownTestSupport
@testable import TeardownWire

/// Every header view, checked at `start` in `bytes`: for each view whose check passes, every
/// accessor is read and the end of its checked bytes is returned; a failed check gives nil.
///
/// In a debug build (the tests') each read is checked against the header's bytes and each
/// header's bytes against the packet, so an accessor that reads past what its checked
/// initialiser confirmed traps here.
private struct ViewEnds: Equatable {
    var ethernet, vlan, sll, sll2, loopback, ipv4, ipv6, tcp: Int?
    var ppp, pppoe, ciscoHDLC, mpls, eTag: Int?
    var wlan, llc, radiotap, ppi, arcnet, ipoib, nflog, nflogAttribute: Int?
    var extensionHeaders: [Int?] = []

    init(_ bytes: UnsafeRawBufferPointer, at start: Int, wireEnd: Int, segmentLength: Int) {
        let r = ByteReader(bytes)
        var sink = 0
        func end(_ v: some HeaderView) -> Int { v.end }
        if let v = try? EthernetHeader(checking: r, at: start) { sink &+= Int(v.etherType.rawValue); ethernet = end(v) }
        if let v = try? VLANTag(checking: r, at: start) {
            sink &+= Int(v.etherType.rawValue) &+ Int(v.tagControl); vlan = end(v)
        }
        if let v = try? LinuxSLLHeader(checking: r, at: start) { sink &+= Int(v.etherType.rawValue); sll = end(v) }
        if let v = try? LinuxSLL2Header(checking: r, at: start) { sink &+= Int(v.etherType.rawValue); sll2 = end(v) }
        if let v = try? LoopbackHeader(checking: r, at: start) { sink &+= Int(v.family); loopback = end(v) }
        if let v = try? PPPHeader(checking: r, at: start, wireEnd: wireEnd) {
            sink &+= Int(v.protocol)
            #expect(v.bytes.count >= 1 && v.bytes.count <= 4)
            ppp = end(v)
        }
        if let v = try? PPPoESessionHeader(checking: r, at: start) {
            sink &+= Int(v.sessionID) &+ Int(v.payloadLength) &+ (v.isSessionData ? 1 : 0); pppoe = end(v)
        }
        if let v = try? CiscoHDLCHeader(checking: r, at: start) { sink &+= Int(v.etherType.rawValue); ciscoHDLC = end(v) }
        if let v = try? MPLSLabelEntry(checking: r, at: start) {
            sink &+= Int(v.label) &+ (v.isBottomOfStack ? 1 : 0); mpls = end(v)
        }
        if let v = try? ETag(checking: r, at: start) { sink &+= Int(v.etherType.rawValue); eTag = end(v) }
        if let v = try? IEEE80211Header(checking: r, at: start) {
            sink &+= (v.isData ? 1 : 0) &+ (v.isProtected ? 2 : 0) &+ (v.hasBody ? 4 : 0)
            if v.isData { sink &+= (v.isFragment ? 8 : 0) &+ (v.isAMSDU ? 16 : 0) }
            wlan = end(v)
        }
        if let v = try? LLCSNAPHeader(checking: r, at: start) { sink &+= Int(v.etherType?.rawValue ?? 0); llc = end(v) }
        if let v = try? RadiotapHeader(checking: r, at: start, wireEnd: wireEnd) {
            sink &+= Int(v.flags) &+ (v.hasFCS ? 1 : 0) &+ (v.isDataPadded ? 1 : 0)
            #expect(v.bytes.count >= 8 && v.end <= wireEnd)
            radiotap = end(v)
        }
        if let v = try? PPIHeader(checking: r, at: start, wireEnd: wireEnd) {
            sink &+= Int(v.linkType.rawValue) &+ (v.hasFCS ? 1 : 0)
            #expect(v.bytes.count >= 8 && v.end <= wireEnd)
            ppi = end(v)
        }
        if let v = try? ARCNETLinuxHeader(checking: r, at: start) { sink &+= Int(v.protocolID); arcnet = end(v) }
        if let v = try? IPoIBHeader(checking: r, at: start) { sink &+= Int(v.etherType.rawValue); ipoib = end(v) }
        if let v = try? NFLOGHeader(checking: r, at: start) { sink &+= Int(v.family); nflog = end(v) }
        if let v = try? NFLOGAttribute(checking: r, at: start) {
            sink &+= v.length(bigEndian: true) &+ v.length(bigEndian: false) &+ Int(v.type(bigEndian: true))
                &+ Int(v.type(bigEndian: false))
            nflogAttribute = end(v)
        }
        if let v = try? IPv4Header(checking: r, at: start, wireEnd: wireEnd) {
            sink &+= Int(v.protocol.rawValue) &+ Int(v.timeToLive) &+ v.source.hashValue &+ v.destination.hashValue
                &+ (v.isNonFirstFragment ? 1 : 0) &+ v.payloadLength &+ v.headerLength
            ipv4 = end(v)
        }
        if let v = try? IPv6Header(checking: r, at: start, wireEnd: wireEnd) {
            sink &+= Int(v.nextHeader.rawValue) &+ Int(v.hopLimit) &+ v.source.hashValue &+ v.destination.hashValue
                &+ v.payloadLength
            ipv6 = end(v)
        }
        for kind in [IPProtocol.hopByHopOptions, .fragment, .authentication] {
            if let v = try? IPv6ExtensionHeader(checking: r, kind: kind, at: start, remaining: segmentLength) {
                sink &+= Int(v.nextHeader.rawValue) &+ v.length &+ (v.isNonFirstFragment ? 1 : 0)
                extensionHeaders.append(end(v))
            } else {
                extensionHeaders.append(nil)
            }
        }
        if let v = try? TCPHeader(checking: r, at: start, segmentLength: segmentLength) {
            var options = TCPOptions()
            _ = v.parseOptions(into: &options)
            sink &+= Int(v.sourcePort) &+ Int(v.destinationPort) &+ Int(v.sequenceNumber.rawValue)
                &+ Int(v.acknowledgmentNumber.rawValue) &+ Int(v.flags.rawValue) &+ Int(v.window)
                &+ (v.optionsAreWhole ? 1 : 0) &+ v.headerLength &+ options.hashValue
            #expect(v.headerLength >= 20 && v.headerLength <= 60 && v.headerLength <= segmentLength)
            tcp = end(v)
        }
        _ = sink
    }

    /// Every end that a passed check returned.
    var all: [Int] {
        ([ethernet, vlan, sll, sll2, loopback, ipv4, ipv6, tcp, ppp, pppoe, ciscoHDLC, mpls, eTag,
          wlan, llc, radiotap, ppi, arcnet, ipoib, nflog, nflogAttribute] + extensionHeaders)
            .compactMap { $0 }
    }
}

@Suite("Header views: one checked initialiser, then reads that cannot fail")
struct HeaderViewTests {
    /// Every prefix of every fixture's headers, every view at every offset up to the TCP header:
    /// the check fails, or the view's bytes lie inside the prefix (and reading every field does
    /// not trap).
    @Test("every prefix of each header fails the check or yields a view inside it", arguments: Fixtures.all)
    func everyPrefix(_ f: Fixture) {
        let last = f.expected.isTCP ? f.tcpStart : f.bytes.count
        // Past the TCP header only payload follows: longer prefixes end no header.
        let longest = f.expected.isTCP ? min(f.bytes.count, f.tcpEnd + 8) : f.bytes.count
        for k in 0...longest {
            let prefix = Array(f.bytes.prefix(k))
            prefix.withUnsafeBytes { bytes in
                for start in 0...min(last, k) {   // a view starting past the prefix fails its check (garbage tries those)
                    let ends = ViewEnds(bytes, at: start, wireEnd: f.bytes.count, segmentLength: f.bytes.count - start)
                    for end in ends.all { #expect(end <= k, "\(f.name): view at \(start) ends at \(end), past \(k) bytes") }
                }
            }
        }
    }

    /// At the fixture's real headers, each check passes exactly when the header was captured.
    @Test("checks pass exactly when the header was captured", arguments: Fixtures.tcp)
    func realHeaders(_ f: Fixture) {
        let ipHeader = f.ipLayer == .ipv4 ? f.bytes[f.linkEnd] & 0x0F : 0
        for k in 0...min(f.bytes.count, f.tcpEnd + 8) {
            Array(f.bytes.prefix(k)).withUnsafeBytes { bytes in
                let wire = f.bytes.count
                let ip = ViewEnds(bytes, at: f.linkEnd, wireEnd: wire, segmentLength: 0)
                if f.ipLayer == .ipv4 {
                    #expect((ip.ipv4 != nil) == (k >= f.linkEnd + Int(ipHeader) * 4), "\(f.name) cut at \(k)")
                } else {
                    #expect((ip.ipv6 != nil) == (k >= f.linkEnd + 40), "\(f.name) cut at \(k)")
                }
                let tcp = ViewEnds(bytes, at: f.tcpStart, wireEnd: wire, segmentLength: f.ipEnd - f.tcpStart)
                #expect((tcp.tcp != nil) == (k >= f.tcpStart + 20), "\(f.name) cut at \(k)")
                if let end = tcp.tcp { #expect(end == min(k, f.tcpEnd), "\(f.name) cut at \(k)") }
                let link = ViewEnds(bytes, at: 0, wireEnd: wire, segmentLength: 0)
                switch f.linkType {
                case .ethernet: #expect((link.ethernet != nil) == (k >= 14), "\(f.name) cut at \(k)")
                case .linuxSLL: #expect((link.sll != nil) == (k >= 16), "\(f.name) cut at \(k)")
                case .linuxSLL2: #expect((link.sll2 != nil) == (k >= 20), "\(f.name) cut at \(k)")
                case .null, .loop: #expect((link.loopback != nil) == (k >= 4), "\(f.name) cut at \(k)")
                default: break
                }
            }
        }
    }

    /// Garbage at any offset, with any wire end and any segment length: no check lets a view
    /// reach past the captured bytes.
    @Test("seeded garbage at any offset")
    func garbage() {
        var rng = SplitMix64(state: 0x5EED_0F_7CE5)
        for n in 0..<20_000 {
            let count = Int(rng.next() % 100)
            var bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if count > 0, n % 3 == 0 {
                // A plausible first byte (IPv4 with IHL 5...15, IPv6, a data offset 5...15) half the time.
                bytes[0] = [0x45, 0x4F, 0x60, 0x50, 0xF0][Int(rng.next() % 5)]
            }
            let start = Int(rng.next() % UInt64(count + 3))
            let wireEnd = count + (n % 2 == 0 ? 0 : Int(rng.next() % 2000))
            let segmentLength = Int(rng.next() % 200) - 20
            bytes.withUnsafeBytes { b in
                let ends = ViewEnds(b, at: start, wireEnd: wireEnd, segmentLength: segmentLength)
                for end in ends.all { #expect(end <= count, "garbage #\(n): a view at \(start) ends at \(end), past \(count)") }
            }
        }
    }

    /// The named fields of each layout add up to the header length its RFC or spec gives.
    @Test("layouts: fields end where the header does")
    func layouts() {
        #expect(EthernetHeader.Layout.etherType.end == EthernetHeader.Layout.length)
        #expect(EthernetHeader.Layout.source.upperBound == EthernetHeader.Layout.etherType.offset)
        #expect(VLANTag.Layout.etherType.end == VLANTag.Layout.length)
        #expect(LinuxSLLHeader.Layout.protocolType.end == LinuxSLLHeader.Layout.length)
        #expect(LinuxSLL2Header.Layout.address.upperBound == LinuxSLL2Header.Layout.length)
        #expect(LoopbackHeader.Layout.family.end == LoopbackHeader.Layout.length)
        #expect(PPPoESessionHeader.Layout.payloadLength.end == PPPoESessionHeader.Layout.length)
        #expect(CiscoHDLCHeader.Layout.protocolType.end == CiscoHDLCHeader.Layout.length)
        #expect(MPLSLabelEntry.Layout.entry.end == MPLSLabelEntry.Layout.length)
        #expect(ETag.Layout.etherType.end == ETag.Layout.length)
        #expect(ETag.Layout.tagControl.upperBound == ETag.Layout.etherType.offset)
        #expect(IEEE80211Header.Layout.sequenceControl0.end + 1 == IEEE80211Header.Layout.dataHeaderLength)
        #expect(LLCSNAPHeader.Layout.etherType.end == LLCSNAPHeader.Layout.length)
        #expect(RadiotapHeader.Layout.firstPresent + 4 == RadiotapHeader.Layout.fixedLength)
        #expect(PPIHeader.Layout.linkType.end == PPIHeader.Layout.fixedLength)
        #expect(ARCNETLinuxHeader.Layout.sequence.end == ARCNETLinuxHeader.Layout.longLength)
        #expect(IPoIBHeader.Layout.reserved.end == IPoIBHeader.Layout.length)
        #expect(NFLOGHeader.Layout.resourceID.end == NFLOGHeader.Layout.length)
        #expect(NFLOGAttribute.Layout.typeField.end == NFLOGAttribute.Layout.length)
        #expect(IPv4Header.Layout.destination.end == IPv4Header.Layout.minimumLength)
        #expect(IPv6Header.Layout.destinationLow.end == IPv6Header.Layout.length)
        #expect(TCPHeader.Layout.urgentPointer.end == TCPHeader.Layout.minimumLength)
        #expect(TCPOptionLayout.maximumSegmentSize.end == TCPOptionLength.maximumSegmentSize)
        #expect(TCPOptionLayout.windowScaleShift.end == TCPOptionLength.windowScale)
        #expect(TCPOptionLayout.timestampEcho.end == TCPOptionLength.timestamps)
        #expect(SACKBlockLayout.rightEdge.end == TCPOptionLength.sackBlock)
    }

    /// The decoder follows at most `maximumDepth` headers: with fewer than a packet needs, it
    /// stops with an error naming the header it did not decode.
    @Test("nesting is bounded")
    func nestingIsBounded() {
        let f = Fixtures.tcp[0]
        f.bytes.withUnsafeBytes { bytes in
            var segment = PacketDecoder.emptySegment
            var tunnel = TunnelPath()
            let packet = Packet(reader: ByteReader(bytes))
            let outermost = Encapsulated(HeaderKind(linkType: f.linkType)!, at: 0, wireEnd: bytes.count)
            let cut = packet.decode(outermost, maximumDepth: 1, into: &segment, tunnel: &tunnel)
            guard case .invalid(let e) = cut else { Issue.record("\(cut)"); return }
            #expect(e.kind == .malformed && e.layer == f.ipLayer)
            #expect(packet.decode(outermost, maximumDepth: 2, into: &segment, tunnel: &tunnel) == .tcp)
        }
    }
}

extension Expected {
    var isTCP: Bool { if case .tcp = self { return true } else { return false } }
}
