/// Decodes one captured packet, link layer to TCP.
///
/// Each header is read through a view whose checked initialiser validates it once (see
/// `ByteReader`); nothing read from the wire can trap, and nothing here allocates on the heap:
/// the result is a small value, the segment is written into the caller's storage, and the
/// reason strings of errors are string literals.
///
/// Two lengths matter and are kept apart, as tcpdump keeps `caplen` and `length` apart
/// (pcap(3PCAP), pcap-savefile(5)):
/// - the *captured* length, `bytes.count`: running out of it inside a header is
///   `DecodeError.Kind.truncated`; running out of it inside the payload only sets
///   `TCPSegment.isTruncated`;
/// - the *wire* length, `originalLength`: a length field that claims more than was on the wire
///   is `DecodeError.Kind.malformed`, because no snaplen can explain it.
///
/// ## Layers inside layers
///
/// A packet is decoded one header at a time. Each step (`PacketDecoder+Link.swift`,
/// `PacketDecoder+IP.swift`) checks its header's view and either finishes the packet
/// (`LayerStep.done`) or hands the rest of the bytes on (`LayerStep.next`): which header comes
/// next, where it starts, and where the bytes that hold it end on the wire, so that an inner
/// IP header is checked against its enclosing payload rather than the whole packet. The loop in
/// `Packet.decode(_:into:)` runs the steps, at most `maximumDepth` of them, so a packet that
/// nests headers in itself (a tunnel in a tunnel ...) ends with an error rather than a deep
/// recursion. The TCP header ends every path that finds a segment: the IP step that carries it
/// decodes it (`PacketDecoder+TCP.swift`), as it needs the IP addresses and length.
///
/// To add an encapsulation (GRE, VXLAN, IP in IP, MPLS, PPPoE ...):
/// 1. Write a view for its header in `Headers/`: a `Layout` of named `Field`s and one
///    `init(checking:at:...) throws(DecodeError)` that checks what bounds the rest (the header
///    captured, its length fields against the bytes it may use); accessors then read without
///    checking. Test it with the view tests (every prefix fails the check or yields a view
///    whose bytes lie inside it).
/// 2. Add a case for it to `HeaderKind`, its step (`decodeGRE(_:)` ...) returning
///    `.next(Encapsulated(...))` with what it carries (`.ipv4`, `.ipv6`, `.ethernet`, or the
///    EtherType it names through `next(afterEtherType:at:wireEnd:)`), and an arm for that step in
///    `Packet.decode(_:into:)`.
/// 3. Have the layer that carries it name it: an EtherType in `next(afterEtherType:...)` (MPLS,
///    PPPoE), an IP protocol in the IP steps (IP in IP, GRE), a UDP port (VXLAN).
/// 4. Add fixtures: the encapsulated TCP fixtures, every prefix of them, and a tunnel nested
///    past `maximumDepth`.
public enum PacketDecoder {
    /// The most headers one packet is decoded through, link layer and IP included (the TCP
    /// header is decoded by the IP step that carries it). Plain TCP over Ethernet takes two;
    /// VLAN tags are read within the step of the header they follow. The deepest stack met in
    /// practice, an ERSPAN mirror of a VXLAN overlay carrying GTP-U (Ethernet, IPv4, GRE,
    /// ERSPAN, Ethernet, IPv4, UDP, VXLAN, Ethernet, IPv4, UDP, GTP-U, IPv4), takes 13; the
    /// limit leaves room for three more (IP in IP, PPPoE, MPLS ...). Each step reads a header
    /// at least 4 captured bytes further on and allocates nothing, so the limit bounds the work
    /// on a packet that nests tunnels in themselves.
    static let maximumDepth = 16

    /// Decodes `bytes` (the captured bytes of one packet) under `linkType`, writing the TCP
    /// segment into `segment`, which holds it when the result is `.tcp` and is meaningless
    /// (partly written) otherwise: a caller that keeps segments in an array decodes straight
    /// into it.
    /// - Parameter originalLength: the packet's length on the wire (pcap `len`); when it is larger
    ///   than `bytes.count` the packet was cut by snaplen. A value below `bytes.count` is bogus
    ///   and is read as `bytes.count`.
    public static func decode(_ bytes: UnsafeRawBufferPointer, linkType: LinkType, originalLength: Int,
                              into segment: inout TCPSegment) -> DecodeResult {
        var tunnel = TunnelPath()
        return decode(bytes, linkType: linkType, originalLength: originalLength, tunnel: &tunnel, into: &segment)
    }

    /// Decodes `bytes` as `decode(_:linkType:originalLength:into:)` does, and writes into
    /// `tunnel` the tunnels the segment was carried in, outermost first (none: `count` 0).
    /// `tunnel` holds the answer when the result is `.tcp`; whatever it held before is cleared.
    public static func decode(_ bytes: UnsafeRawBufferPointer, linkType: LinkType, originalLength: Int,
                              tunnel: inout TunnelPath, into segment: inout TCPSegment) -> DecodeResult {
        tunnel.removeAll()
        guard let link = HeaderKind(linkType: linkType) else { return .unsupportedLinkType }
        return Packet(reader: ByteReader(bytes))
            .decode(Encapsulated(link, at: 0, wireEnd: max(originalLength, bytes.count)), into: &segment, tunnel: &tunnel)
    }

    /// Decodes `bytes` as `decode(_:linkType:originalLength:into:)` does, and hands a fragment
    /// (`.fragment`) to `reassembler` with the packet's `time`: it stays `.fragment` while its
    /// datagram is incomplete; the fragment that completes it is decoded as the whole datagram
    /// (`.tcp` ...); a fragment that contradicts its datagram is `.invalid`. Fragments must come
    /// in capture order.
    public static func decode(_ bytes: UnsafeRawBufferPointer, linkType: LinkType, originalLength: Int, time: Timestamp,
                              reassembling reassembler: inout FragmentReassembler,
                              into segment: inout TCPSegment) -> DecodeResult {
        var tunnel = TunnelPath()
        return decode(bytes, linkType: linkType, originalLength: originalLength, time: time, reassembling: &reassembler,
                      tunnel: &tunnel, into: &segment)
    }

    /// Decodes as `decode(_:linkType:originalLength:time:reassembling:into:)` does, writing the
    /// tunnels into `tunnel` as `decode(_:linkType:originalLength:tunnel:into:)` does: a
    /// reassembled datagram's tunnels are those around its last fragment, then those inside it.
    public static func decode(_ bytes: UnsafeRawBufferPointer, linkType: LinkType, originalLength: Int, time: Timestamp,
                              reassembling reassembler: inout FragmentReassembler, tunnel: inout TunnelPath,
                              into segment: inout TCPSegment) -> DecodeResult {
        let result = decode(bytes, linkType: linkType, originalLength: originalLength, tunnel: &tunnel, into: &segment)
        guard case .fragment(let place) = result else { return result }
        return reassembler.reassemble(bytes, at: place, time: time, tunnel: &tunnel, into: &segment)
    }

    /// The TCP segment in `bytes`, or nil when the packet is not one (for callers that only
    /// track segments and count nothing else). Fragments are not reassembled: each is nil.
    public static func segment(_ bytes: UnsafeRawBufferPointer, linkType: LinkType, originalLength: Int) -> TCPSegment? {
        var segment = emptySegment
        guard case .tcp = decode(bytes, linkType: linkType, originalLength: originalLength, into: &segment) else {
            return nil
        }
        return segment
    }

    /// The TCP segment in `bytes`, or nil when the packet is not one, with fragments reassembled
    /// through `reassembler`: the segment of a fragmented datagram comes with its last fragment.
    public static func segment(_ bytes: UnsafeRawBufferPointer, linkType: LinkType, originalLength: Int, time: Timestamp,
                               reassembling reassembler: inout FragmentReassembler) -> TCPSegment? {
        var segment = emptySegment
        guard case .tcp = decode(bytes, linkType: linkType, originalLength: originalLength, time: time,
                                 reassembling: &reassembler, into: &segment) else {
            return nil
        }
        return segment
    }

    /// A segment to decode into (all zero).
    public static var emptySegment: TCPSegment {
        let nowhere = Endpoint(address: IPAddress(ipv4: 0), port: 0)
        return TCPSegment(source: nowhere, destination: nowhere, sequenceNumber: SequenceNumber(0),
                          acknowledgmentNumber: SequenceNumber(0), flags: [], window: 0, payloadLength: 0)
    }
}

/// A header the decoder reads, as a link type or the header before names it.
enum HeaderKind {
    case ethernet, linuxSLL, linuxSLL2, loopback, rawIP
    case ipv4, ipv6
    case udp, gre, erspan, ppp, vxlan, geneve, gtpU, capwap, teredo, ayiya
    case pppSerial, ciscoHDLC, pppoeSession, mpls
    case ieee80211, radiotap, ppi, arcnetLinux, ipoib, nflog

    /// The outermost header of a packet of `linkType`; nil when the decoder does not know it.
    @inline(__always)
    init?(linkType: LinkType) {
        switch linkType.rawValue {
        case LinkType.ethernet.rawValue: self = .ethernet
        case LinkType.linuxSLL.rawValue: self = .linuxSLL
        case LinkType.linuxSLL2.rawValue: self = .linuxSLL2
        case LinkType.null.rawValue, LinkType.loop.rawValue: self = .loopback
        case LinkType.raw.rawValue, LinkType.rawBSD12.rawValue, LinkType.rawBSD14.rawValue: self = .rawIP
        case LinkType.ipv4.rawValue: self = .ipv4
        case LinkType.ipv6.rawValue: self = .ipv6
        case LinkType.ppp.rawValue: self = .ppp
        case LinkType.pppSerial.rawValue: self = .pppSerial
        case LinkType.ciscoHDLC.rawValue: self = .ciscoHDLC
        case LinkType.ieee80211.rawValue: self = .ieee80211
        case LinkType.ieee80211Radiotap.rawValue: self = .radiotap
        case LinkType.ppi.rawValue: self = .ppi
        case LinkType.arcnetLinux.rawValue: self = .arcnetLinux
        case LinkType.ipoib.rawValue: self = .ipoib
        case LinkType.nflog.rawValue: self = .nflog
        default: return nil
        }
    }

    /// The layer an error about this header names.
    var layer: ProtocolLayer {
        switch self {
        case .ethernet, .linuxSLL, .linuxSLL2, .loopback, .rawIP: return .link
        case .pppSerial, .ciscoHDLC, .pppoeSession, .mpls: return .link
        case .ieee80211, .radiotap, .ppi, .arcnetLinux, .ipoib, .nflog: return .link
        case .ipv4: return .ipv4
        case .ipv6: return .ipv6
        case .udp: return .udp
        case .gre: return .gre
        case .erspan: return .erspan
        case .ppp: return .ppp
        case .vxlan: return .vxlan
        case .geneve: return .geneve
        case .gtpU: return .gtpU
        case .capwap: return .capwap
        case .teredo: return .teredo
        case .ayiya: return .ayiya
        }
    }
}

/// What one layer hands the next: a header of `kind` at `start`, in bytes that end at
/// `wireEnd` on the wire (the packet's wire length, or the end of an enclosing payload).
struct Encapsulated {
    var kind: HeaderKind
    var start: Int
    var wireEnd: Int

    @inline(__always)
    init(_ kind: HeaderKind, at start: Int, wireEnd: Int) {
        self.kind = kind
        self.start = start
        self.wireEnd = wireEnd
    }
}

/// What a layer's step found: the packet's answer, or the header that comes next.
enum LayerStep {
    case done(DecodeResult)
    case next(Encapsulated)
}

/// The captured bytes of one packet; the layers' steps are extensions of this type.
struct Packet {
    let reader: ByteReader

    /// Runs the steps from `outermost` until one finishes the packet, at most `maximumDepth`.
    @inline(__always)
    func decode(_ outermost: Encapsulated, maximumDepth: Int = PacketDecoder.maximumDepth,
                into segment: inout TCPSegment, tunnel: inout TunnelPath) -> DecodeResult {
        var header = outermost
        for _ in 0..<maximumDepth {
            let step: LayerStep
            switch header.kind {
            case .ethernet: step = decodeLink(EthernetHeader.self, header)
            case .linuxSLL: step = decodeLink(LinuxSLLHeader.self, header)
            case .linuxSLL2: step = decodeLink(LinuxSLL2Header.self, header)
            case .loopback: step = decodeLoopback(header)
            case .rawIP: step = decodeRawIP(header)
            case .ipv4: step = decodeIPv4(header, into: &segment, tunnel: &tunnel)
            case .ipv6: step = decodeIPv6(header, into: &segment, tunnel: &tunnel)
            case .udp: step = decodeUDP(header)
            case .gre: step = decodeGRE(header, tunnel: &tunnel)
            case .erspan: step = decodeERSPAN(header, tunnel: &tunnel)
            case .ppp: step = decodePPP(header)
            case .vxlan: step = decodeVXLAN(header, tunnel: &tunnel)
            case .geneve: step = decodeGeneve(header, tunnel: &tunnel)
            case .gtpU: step = decodeGTPU(header, tunnel: &tunnel)
            case .capwap: step = decodeCAPWAP(header, tunnel: &tunnel)
            case .teredo: step = decodeTeredo(header, tunnel: &tunnel)
            case .ayiya: step = decodeAYIYA(header, tunnel: &tunnel)
            case .pppSerial: step = decodePPPSerial(header)
            case .ciscoHDLC: step = decodeLink(CiscoHDLCHeader.self, header)
            case .pppoeSession: step = decodePPPoESession(header)
            case .mpls: step = decodeMPLS(header)
            case .ieee80211: step = decodeIEEE80211(header)
            case .radiotap: step = decodeRadiotap(header)
            case .ppi: step = decodePPI(header)
            case .arcnetLinux: step = decodeARCNETLinux(header)
            case .ipoib: step = decodeLink(IPoIBHeader.self, header)
            case .nflog: step = decodeNFLOG(header)
            }
            switch step {
            case .done(let result): return result
            case .next(let inner): header = inner
            }
        }
        return .malformed(header.kind.layer, "headers are nested more deeply than the decoder follows")
    }
}
