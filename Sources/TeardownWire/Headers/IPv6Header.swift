/// An IPv6 fixed header (RFC 8200 §3).
struct IPv6Header: HeaderView {
    enum Layout {
        /// Version in the high nibble; the traffic class and the flow label follow.
        static let versionAndTrafficClass = Field<UInt8>(at: 0)
        static let payloadLength = Field<UInt16>(at: 4)
        static let nextHeader = Field<UInt8>(at: 6)
        static let hopLimit = Field<UInt8>(at: 7)
        /// The 16-byte addresses, each read as two big-endian halves.
        static let sourceHigh = Field<UInt64>(at: 8)
        static let sourceLow = Field<UInt64>(at: 16)
        static let destinationHigh = Field<UInt64>(at: 24)
        static let destinationLow = Field<UInt64>(at: 32)
        static let length = 40
    }

    let start: Int
    let bytes: HeaderBytes
    /// What follows the fixed header, extension headers included, at most what the wire holds.
    let payloadLength: Int

    /// Checks that the header was captured (else truncated), that the version is 6 and the
    /// payload length fits in the packet on the wire (else malformed).
    ///
    /// A payload length of 0 means an RFC 2675 jumbogram or a Linux BIG TCP / GSO super-packet;
    /// the Jumbo Payload option is not parsed: the payload length is taken from the wire length
    /// instead (those packets are never padded).
    /// - Parameter wireEnd: as for `IPv4Header`.
    @inline(__always)
    init(checking reader: ByteReader, at start: Int, wireEnd: Int) throws(DecodeError) {
        guard reader.has(Layout.length, at: start) else {
            throw DecodeError(.truncated, .ipv6, "captured bytes end inside the 40-byte IPv6 header")
        }
        let bytes = reader.header(at: start, length: Layout.length)
        guard IPVersion.of(bytes[Layout.versionAndTrafficClass]) == IPVersion.v6 else {
            throw DecodeError(.malformed, .ipv6, "IPv6 header has a version field other than 6")
        }
        let onWire = wireEnd - start - Layout.length
        let payloadLengthField = bytes[Layout.payloadLength]
        let payloadLength = payloadLengthField == 0 ? onWire : Int(payloadLengthField)
        guard payloadLength <= onWire else {
            throw DecodeError(.malformed, .ipv6, "IPv6 payload length is larger than the packet on the wire")
        }
        self.start = start
        self.bytes = bytes
        self.payloadLength = payloadLength
    }

    @inline(__always) var nextHeader: IPProtocol { IPProtocol(rawValue: bytes[Layout.nextHeader]) }
    @inline(__always) var hopLimit: UInt8 { bytes[Layout.hopLimit] }
    @inline(__always) var source: IPAddress {
        IPAddress(ipv6High: bytes[Layout.sourceHigh], low: bytes[Layout.sourceLow])
    }
    @inline(__always) var destination: IPAddress {
        IPAddress(ipv6High: bytes[Layout.destinationHigh], low: bytes[Layout.destinationLow])
    }
}

/// One extension header of an IPv6 chain (RFC 8200 §4): a generic one (hop-by-hop, routing,
/// destination options, mobility, HIP, shim6), the authentication header, or the fragment header.
struct IPv6ExtensionHeader: HeaderView {
    enum Layout {
        static let nextHeader = Field<UInt8>(at: 0)
        static let headerExtensionLength = Field<UInt8>(at: 1)
        /// Generic headers are (length + 1) * 8 bytes (RFC 8200 §4.3).
        static let unit = 8
        /// The authentication header is (length + 2) * 4 bytes (RFC 4302 §2.2).
        static let authenticationUnit = 4
        /// The shortest extension header, and the fragment header's fixed length (RFC 8200 §4.5).
        static let minimumLength = 8
        /// Fragment header: the offset in 8-octet units in the high 13 bits, then two reserved
        /// bits and M.
        static let fragmentOffsetAndFlags = Field<UInt16>(at: 2)
        static let fragmentOffsetShift: UInt16 = 3
        /// The offset's low bits count 8-octet units; the M flag is the lowest bit.
        static let fragmentOffsetMask: UInt16 = 0xFFF8
        static let moreFragmentsFlag: UInt16 = 0x0001
        static let fragmentIdentification = Field<UInt32>(at: 4)
    }

    let start: Int
    /// The whole extension header.
    let bytes: HeaderBytes

    /// Checks a header of `kind` (fragment, authentication or a generic one) at `start`, with
    /// `remaining` bytes of the IPv6 payload left from there: it must fit in them (else
    /// malformed) and have been captured (else truncated); its length field is read first.
    @inline(__always)
    init(checking reader: ByteReader, kind: IPProtocol, at start: Int, remaining: Int) throws(DecodeError) {
        guard remaining >= Layout.minimumLength else {
            throw DecodeError(.malformed, .ipv6, "IPv6 extension header runs past the payload length")
        }
        var length = Layout.minimumLength
        if kind != .fragment {
            guard reader.has(Layout.headerExtensionLength.end, at: start) else {
                throw DecodeError(.truncated, .ipv6, "captured bytes end inside an IPv6 extension header")
            }
            let units = Int(reader.header(at: start, length: Layout.headerExtensionLength.end)[Layout.headerExtensionLength])
            length = kind == .authentication ? (units + 2) * Layout.authenticationUnit : (units + 1) * Layout.unit
            guard length <= remaining else {
                throw DecodeError(.malformed, .ipv6, "IPv6 extension header runs past the payload length")
            }
        }
        guard reader.has(length, at: start) else {
            throw DecodeError(.truncated, .ipv6, "captured bytes end inside an IPv6 extension header")
        }
        self.start = start
        bytes = reader.header(at: start, length: length)
    }

    @inline(__always) var nextHeader: IPProtocol { IPProtocol(rawValue: bytes[Layout.nextHeader]) }
    @inline(__always) var length: Int { bytes.count }
    /// For a fragment header: whether it is a fragment other than the first.
    @inline(__always) var isNonFirstFragment: Bool {
        bytes[Layout.fragmentOffsetAndFlags] >> Layout.fragmentOffsetShift != 0
    }
    /// For a fragment header: whether the packet is a fragment at all. An atomic fragment
    /// (offset 0, M clear) is a whole datagram and is processed as one (RFC 8200 §4.5, RFC 6946).
    @inline(__always) var isFragment: Bool {
        bytes[Layout.fragmentOffsetAndFlags] & (Layout.fragmentOffsetMask | Layout.moreFragmentsFlag) != 0
    }
    /// For a fragment header: where the fragment's data lies in the fragmentable part, in bytes.
    @inline(__always) var fragmentOffset: Int {
        Int(bytes[Layout.fragmentOffsetAndFlags] & Layout.fragmentOffsetMask)
    }
    @inline(__always) var moreFragments: Bool {
        bytes[Layout.fragmentOffsetAndFlags] & Layout.moreFragmentsFlag != 0
    }
    /// For a fragment header: the Identification, which with the addresses names the datagram.
    @inline(__always) var identification: UInt32 { bytes[Layout.fragmentIdentification] }
}
