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
    /// Decodes `bytes` (the captured bytes of one packet) under `linkType`, writing the TCP
    /// segment into `segment`, which holds it when the result is `.tcp` and is meaningless
    /// (partly written) otherwise: a caller that keeps segments in an array decodes straight
    /// into it.
    /// - Parameter originalLength: the packet's length on the wire (pcap `len`); when it is larger
    ///   than `bytes.count` the packet was cut by snaplen. A value below `bytes.count` is bogus
    ///   and is read as `bytes.count`.
    public static func decode(_ bytes: UnsafeRawBufferPointer, linkType: LinkType, originalLength: Int,
                              into segment: inout TCPSegment) -> DecodeResult {
        let packet = Packet(reader: ByteReader(bytes), wireLength: max(originalLength, bytes.count))
        switch linkType.rawValue {
        case LinkType.ethernet.rawValue:
            return packet.decodeEthernet(into: &segment)
        case LinkType.linuxSLL.rawValue:
            return packet.decodeLinuxSLL(into: &segment)
        case LinkType.linuxSLL2.rawValue:
            return packet.decodeLinuxSLL2(into: &segment)
        case LinkType.null.rawValue, LinkType.loop.rawValue:
            return packet.decodeLoopback(into: &segment)
        case LinkType.raw.rawValue, LinkType.rawBSD12.rawValue, LinkType.rawBSD14.rawValue:
            return packet.decodeRawIP(into: &segment)
        case LinkType.ipv4.rawValue:
            return packet.decodeIPv4(at: 0, into: &segment)
        case LinkType.ipv6.rawValue:
            return packet.decodeIPv6(at: 0, into: &segment)
        default:
            return .unsupportedLinkType
        }
    }

    /// The TCP segment in `bytes`, or nil when the packet is not one (for callers that only
    /// track segments and count nothing else).
    public static func segment(_ bytes: UnsafeRawBufferPointer, linkType: LinkType, originalLength: Int) -> TCPSegment? {
        var segment = Packet.placeholderSegment
        guard case .tcp = decode(bytes, linkType: linkType, originalLength: originalLength, into: &segment) else {
            return nil
        }
        return segment
    }

    /// A segment to decode into (all zero).
    public static var emptySegment: TCPSegment { Packet.placeholderSegment }
}

/// The captured bytes of one packet and its length on the wire; the layer decoders are
/// extensions of this type, each taking the offset at which its header starts.
///
/// The layers return a `DecodeResult` and the TCP layer writes the segment, field by field,
/// into the caller's `inout` storage, so the 131-byte `TCPSegment` is not copied out of every
/// layer (those copies were over half the decode time in a release-build profile).
@usableFromInline
struct Packet {
    @usableFromInline let reader: ByteReader
    /// pcap `len`, never below the captured length.
    @usableFromInline let wireLength: Int

    @inline(__always)
    init(reader: ByteReader, wireLength: Int) {
        self.reader = reader
        self.wireLength = wireLength
    }

    /// Storage for `decodeTCP` to fill; read only when a layer returns `.tcp`.
    @inline(__always)
    static var placeholderSegment: TCPSegment {
        let nowhere = Endpoint(address: IPAddress(ipv4: 0), port: 0)
        return TCPSegment(source: nowhere, destination: nowhere, sequenceNumber: SequenceNumber(0),
                          acknowledgmentNumber: SequenceNumber(0), flags: [], window: 0, payloadLength: 0)
    }

    /// Wire bytes from `offset` to the end of the packet (link trailers included).
    @inline(__always)
    func wireBytes(from offset: Int) -> Int { wireLength &- offset }
}
