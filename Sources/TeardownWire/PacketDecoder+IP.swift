/// An IP protocol / IPv6 next-header number (IANA "protocol-numbers"). An open set.
@usableFromInline
struct IPProtocol: RawRepresentable, Hashable, Sendable {
    @usableFromInline var rawValue: UInt8
    @inline(__always) @usableFromInline init(rawValue: UInt8) { self.rawValue = rawValue }

    static let hopByHopOptions = IPProtocol(rawValue: 0)    // RFC 8200 §4.3
    static let tcp = IPProtocol(rawValue: 6)
    static let routing = IPProtocol(rawValue: 43)           // RFC 8200 §4.4
    static let fragment = IPProtocol(rawValue: 44)          // RFC 8200 §4.5
    static let esp = IPProtocol(rawValue: 50)               // RFC 4303
    static let authentication = IPProtocol(rawValue: 51)    // RFC 4302 §2
    static let noNextHeader = IPProtocol(rawValue: 59)      // RFC 8200 §4.7
    static let destinationOptions = IPProtocol(rawValue: 60) // RFC 8200 §4.6
    static let mobility = IPProtocol(rawValue: 135)         // RFC 6275 §6.1
    static let hip = IPProtocol(rawValue: 139)              // RFC 7401 §5.1
    static let shim6 = IPProtocol(rawValue: 140)            // RFC 5533 §5

    /// Extension headers in the RFC 8200 §4 format: next header, length in 8-octet units not
    /// counting the first 8. (AH and the fragment header differ and are handled apart.)
    @inline(__always) var isGenericExtensionHeader: Bool {
        self == .hopByHopOptions || self == .routing || self == .destinationOptions
            || self == .mobility || self == .hip || self == .shim6
    }
}

/// IPv4 header (RFC 791 §3.1).
enum IPv4Layout {
    static let versionAndIHL = 0
    static let typeOfService = 1
    static let totalLength = 2
    static let identification = 4
    static let flagsAndFragmentOffset = 6
    static let timeToLive = 8
    static let `protocol` = 9
    static let headerChecksum = 10
    static let source = 12
    static let destination = 16
    /// The fixed part; options follow, up to IHL * 4 bytes.
    static let minimumLength = 20
    static let minimumIHL: UInt8 = 5
    /// Low 13 bits of the flags/fragment-offset word; nonzero means a non-first fragment.
    static let fragmentOffsetMask: UInt16 = 0x1FFF
}

/// IPv6 fixed header (RFC 8200 §3).
enum IPv6Layout {
    static let versionClassFlow = 0
    static let payloadLength = 4
    static let nextHeader = 6
    static let hopLimit = 7
    static let source = 8       // 16 bytes: two big-endian UInt64 halves
    static let destination = 24
    static let length = 40
}

/// The first two bytes of every IPv6 extension header (RFC 8200 §4), and the fragment header.
enum IPv6ExtensionLayout {
    static let nextHeader = 0
    static let headerExtensionLength = 1
    /// Generic headers: (length + 1) * 8 bytes.
    static let unit = 8
    /// Authentication header (RFC 4302 §2.2): (length + 2) * 4 bytes.
    static let authenticationUnit = 4
    /// Fragment header (RFC 8200 §4.5): fixed 8 bytes; offset in the high 13 bits at byte 2.
    static let fragmentLength = 8
    static let fragmentOffsetAndFlags = 2
    static let fragmentOffsetShift: UInt16 = 3
}

/// What the IP layer hands to TCP: the addresses, and where the TCP segment lies.
@usableFromInline
struct IPContext {
    var source: IPAddress
    var destination: IPAddress
    var ipVersion: UInt8
    var hopLimit: UInt8
    /// Where the TCP header starts, from the first captured byte.
    var segmentStart: Int
    /// Length of the TCP segment (header + payload) according to the IP length fields.
    var segmentLength: Int
}

extension Packet {
    /// IPv4 (RFC 791 §3.1) at `start`.
    ///
    /// The total length is trusted over the buffer, so Ethernet padding is not payload. A total
    /// length of 0 is what Linux writes in TSO/GSO super-packets captured before segmentation
    /// (and IPv4 BIG TCP); as tcpdump does, the length is then taken from the wire length.
    /// Protocols other than TCP are `.notTCP`, and non-first fragments of TCP are `.fragment`;
    /// a first fragment with MF set is decoded like any other packet (its payload length is
    /// the fragment's share).
    @inline(__always)
    func decodeIPv4(at start: Int, into segment: inout TCPSegment) -> DecodeResult {
        guard reader.has(IPv4Layout.minimumLength, at: start),
              let versionAndIHL = reader.u8(at: start &+ IPv4Layout.versionAndIHL),
              let totalLengthField = reader.u16(at: start &+ IPv4Layout.totalLength),
              let fragmentWord = reader.u16(at: start &+ IPv4Layout.flagsAndFragmentOffset),
              let ttl = reader.u8(at: start &+ IPv4Layout.timeToLive),
              let proto = reader.u8(at: start &+ IPv4Layout.protocol),
              let source = reader.u32(at: start &+ IPv4Layout.source),
              let destination = reader.u32(at: start &+ IPv4Layout.destination)
        else {
            return .truncated(.ipv4, "captured bytes end inside the 20-byte IPv4 header")
        }
        guard IPVersion.of(versionAndIHL) == IPVersion.v4 else {
            return .malformed(.ipv4, "IPv4 header has a version field other than 4")
        }
        let ihl = versionAndIHL & 0x0F
        guard ihl >= IPv4Layout.minimumIHL else {
            return .malformed(.ipv4, "IPv4 header length (IHL) is below the minimum of 5 words (20 bytes)")
        }
        let headerLength = Int(ihl) &* 4
        let onWire = wireBytes(from: start)
        let totalLength = totalLengthField == 0 ? onWire : Int(totalLengthField)
        guard totalLength >= headerLength else {
            return .malformed(.ipv4, "IPv4 total length is smaller than the IPv4 header length")
        }
        guard totalLength <= onWire else {
            return .malformed(.ipv4, "IPv4 total length is larger than the packet on the wire")
        }
        guard reader.has(headerLength, at: start) else {
            return .truncated(.ipv4, "captured bytes end inside the IPv4 options")
        }
        guard IPProtocol(rawValue: proto) == .tcp else { return .notTCP }
        guard fragmentWord & IPv4Layout.fragmentOffsetMask == 0 else { return .fragment }
        return decodeTCP(IPContext(
            source: IPAddress(ipv4: source), destination: IPAddress(ipv4: destination),
            ipVersion: IPVersion.v4, hopLimit: ttl,
            segmentStart: start &+ headerLength, segmentLength: totalLength &- headerLength), into: &segment)
    }

    /// IPv6 (RFC 8200) at `start`, walking the extension-header chain to TCP.
    ///
    /// - A payload length of 0 means an RFC 2675 jumbogram or a Linux BIG TCP / GSO
    ///   super-packet; the Jumbo Payload option is not parsed: the payload length is taken
    ///   from the wire length instead (those packets are never padded).
    /// - Hop-by-hop options must come first (RFC 8200 §4.1); elsewhere they are malformed.
    /// - ESP (its payload is encrypted) and No Next Header are `.notTCP`, as is any
    ///   upper-layer protocol other than TCP.
    /// - A non-first fragment is `.fragment` when what follows its fragment header may lead
    ///   to TCP (TCP or another extension header), otherwise `.notTCP`.
    @inline(__always)
    func decodeIPv6(at start: Int, into segment: inout TCPSegment) -> DecodeResult {
        guard reader.has(IPv6Layout.length, at: start),
              let first = reader.u8(at: start &+ IPv6Layout.versionClassFlow),
              let payloadLengthField = reader.u16(at: start &+ IPv6Layout.payloadLength),
              let firstNextHeader = reader.u8(at: start &+ IPv6Layout.nextHeader),
              let hopLimit = reader.u8(at: start &+ IPv6Layout.hopLimit),
              let sourceHigh = reader.u64(at: start &+ IPv6Layout.source),
              let sourceLow = reader.u64(at: start &+ IPv6Layout.source &+ 8),
              let destinationHigh = reader.u64(at: start &+ IPv6Layout.destination),
              let destinationLow = reader.u64(at: start &+ IPv6Layout.destination &+ 8)
        else {
            return .truncated(.ipv6, "captured bytes end inside the 40-byte IPv6 header")
        }
        guard IPVersion.of(first) == IPVersion.v6 else {
            return .malformed(.ipv6, "IPv6 header has a version field other than 6")
        }
        let onWire = wireBytes(from: start) &- IPv6Layout.length
        let payloadLength = payloadLengthField == 0 ? onWire : Int(payloadLengthField)
        guard payloadLength <= onWire else {
            return .malformed(.ipv6, "IPv6 payload length is larger than the packet on the wire")
        }

        // Walk the chain. Each header is at least 8 bytes and must be captured to be read,
        // so the loop ends within (captured bytes / 8) steps.
        var next = IPProtocol(rawValue: firstNextHeader)
        var offset = start &+ IPv6Layout.length
        var remaining = payloadLength
        var isFirst = true
        while true {
            switch next {
            case .tcp:
                return decodeTCP(IPContext(
                    source: IPAddress(ipv6High: sourceHigh, low: sourceLow),
                    destination: IPAddress(ipv6High: destinationHigh, low: destinationLow),
                    ipVersion: IPVersion.v6, hopLimit: hopLimit,
                    segmentStart: offset, segmentLength: remaining), into: &segment)
            case .fragment:
                guard remaining >= IPv6ExtensionLayout.fragmentLength else {
                    return .malformed(.ipv6, "IPv6 extension header runs past the payload length")
                }
                guard reader.has(IPv6ExtensionLayout.fragmentLength, at: offset),
                      let after = reader.u8(at: offset &+ IPv6ExtensionLayout.nextHeader),
                      let word = reader.u16(at: offset &+ IPv6ExtensionLayout.fragmentOffsetAndFlags)
                else {
                    return .truncated(.ipv6, "captured bytes end inside an IPv6 extension header")
                }
                let following = IPProtocol(rawValue: after)
                if word >> IPv6ExtensionLayout.fragmentOffsetShift != 0 {
                    return following == .tcp || following.isGenericExtensionHeader || following == .authentication
                        || following == .fragment ? .fragment : .notTCP
                }
                next = following
                offset &+= IPv6ExtensionLayout.fragmentLength
                remaining &-= IPv6ExtensionLayout.fragmentLength
            default:
                guard next == .authentication || next.isGenericExtensionHeader else {
                    // ESP, No Next Header, UDP, ICMPv6, ...: nothing TCP to find.
                    return .notTCP
                }
                if next == .hopByHopOptions && !isFirst {
                    return .malformed(.ipv6, "IPv6 hop-by-hop options header is not first in the chain")
                }
                guard remaining >= IPv6ExtensionLayout.unit else {
                    return .malformed(.ipv6, "IPv6 extension header runs past the payload length")
                }
                guard let after = reader.u8(at: offset &+ IPv6ExtensionLayout.nextHeader),
                      let units = reader.u8(at: offset &+ IPv6ExtensionLayout.headerExtensionLength)
                else {
                    return .truncated(.ipv6, "captured bytes end inside an IPv6 extension header")
                }
                // AH counts 4-byte units less two (RFC 4302 §2.2); the others count 8-byte units
                // after the first (RFC 8200 §4.3).
                let length = next == .authentication
                    ? (Int(units) &+ 2) &* IPv6ExtensionLayout.authenticationUnit
                    : (Int(units) &+ 1) &* IPv6ExtensionLayout.unit
                guard length <= remaining else {
                    return .malformed(.ipv6, "IPv6 extension header runs past the payload length")
                }
                guard reader.has(length, at: offset) else {
                    return .truncated(.ipv6, "captured bytes end inside an IPv6 extension header")
                }
                next = IPProtocol(rawValue: after)
                offset &+= length
                remaining &-= length
            }
            isFirst = false
        }
    }
}
