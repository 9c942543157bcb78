/// Decodes one captured packet, link layer to TCP.
///
/// Every read is bounds-checked; nothing read from the wire can trap, and nothing here
/// allocates on the heap: the result is a value type held inline, and the reason strings of
/// errors are string literals. The layers live in `PacketDecoder+Link.swift`,
/// `PacketDecoder+IP.swift` and `PacketDecoder+TCP.swift`.
///
/// Two lengths matter and are kept apart, as tcpdump keeps `caplen` and `length` apart
/// (pcap(3PCAP), pcap-savefile(5)):
/// - the *captured* length, `bytes.count`: running out of it inside a header is
///   `DecodeError.Kind.truncated`; running out of it inside the payload only sets
///   `TCPSegment.isTruncated`;
/// - the *wire* length, `originalLength`: a length field that claims more than was on the wire
///   is `DecodeError.Kind.malformed`, because no snaplen can explain it.
public enum PacketDecoder {
    /// Decodes `bytes` (the captured bytes of one packet) under `linkType`.
    /// - Parameter originalLength: the packet's length on the wire (pcap `len`); when it is larger
    ///   than `bytes.count` the packet was cut by snaplen. A value below `bytes.count` is bogus
    ///   and is read as `bytes.count`.
    public static func decode(_ bytes: UnsafeRawBufferPointer, linkType: LinkType, originalLength: Int) -> DecodeResult {
        let packet = Packet(reader: ByteReader(bytes), wireLength: max(originalLength, bytes.count))
        switch linkType.rawValue {
        case LinkType.ethernet.rawValue:
            return packet.decodeEthernet()
        case LinkType.linuxSLL.rawValue:
            return packet.decodeLinuxSLL()
        case LinkType.linuxSLL2.rawValue:
            return packet.decodeLinuxSLL2()
        case LinkType.null.rawValue, LinkType.loop.rawValue:
            return packet.decodeLoopback()
        case LinkType.raw.rawValue, LinkType.rawBSD12.rawValue, LinkType.rawBSD14.rawValue:
            return packet.decodeRawIP()
        case LinkType.ipv4.rawValue:
            return packet.decodeIPv4(at: 0)
        case LinkType.ipv6.rawValue:
            return packet.decodeIPv6(at: 0)
        default:
            return .unsupportedLinkType(linkType)
        }
    }
}

/// The captured bytes of one packet and its length on the wire; the layer decoders are
/// extensions of this type, each taking the offset at which its header starts.
@usableFromInline
struct Packet {
    @usableFromInline let reader: ByteReader
    /// pcap `len`, never below the captured length.
    @usableFromInline let wireLength: Int

    /// Wire bytes from `offset` to the end of the packet (link trailers included).
    @inline(__always)
    func wireBytes(from offset: Int) -> Int { wireLength &- offset }
}

extension DecodeResult {
    @inline(__always)
    static func truncated(_ layer: ProtocolLayer, _ reason: String) -> DecodeResult {
        .invalid(DecodeError(.truncated, layer, reason))
    }
    @inline(__always)
    static func malformed(_ layer: ProtocolLayer, _ reason: String) -> DecodeResult {
        .invalid(DecodeError(.malformed, layer, reason))
    }
}
