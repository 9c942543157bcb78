/// An IPsec authentication header (RFC 4302 §2) in an IPv4 packet: next header, payload length
/// ((length + 2) 4-octet words), reserved, SPI, sequence number, integrity check value. It
/// authenticates but does not encrypt, so what it protects is read past it. (In IPv6 it is an
/// extension header of the chain: `IPv6ExtensionHeader`.)
struct AuthenticationHeader: HeaderView {
    enum Layout {
        static let nextHeader = Field<UInt8>(at: 0)
        static let payloadLength = Field<UInt8>(at: 1)
        static let securityParametersIndex = Field<UInt32>(at: 4)
        /// Next header, length, reserved, SPI and sequence number; the ICV follows.
        static let minimumLength = 12
        static let unit = 4
        static let uncountedUnits = 2
    }

    let start: Int
    /// The whole header, ICV included.
    let bytes: HeaderBytes

    /// Checks that the header's length fits in the `remaining` bytes of the IP payload (else
    /// malformed) and that it was captured (else truncated).
    @inline(__always)
    init(checking reader: ByteReader, at start: Int, remaining: Int) throws(DecodeError) {
        guard reader.has(Layout.payloadLength.end, at: start) else {
            throw DecodeError(.truncated, .authentication, "captured bytes end inside an IPsec authentication header")
        }
        let units = Int(reader.header(at: start, length: Layout.payloadLength.end)[Layout.payloadLength])
        let length = (units + Layout.uncountedUnits) * Layout.unit
        guard length >= Layout.minimumLength else {
            throw DecodeError(.malformed, .authentication, "IPsec authentication header is shorter than its 12 fixed bytes")
        }
        guard length <= remaining else {
            throw DecodeError(.malformed, .authentication, "IPsec authentication header runs past the IP payload")
        }
        guard reader.has(length, at: start) else {
            throw DecodeError(.truncated, .authentication, "captured bytes end inside an IPsec authentication header")
        }
        self.start = start
        bytes = reader.header(at: start, length: length)
    }

    @inline(__always) var nextHeader: IPProtocol { IPProtocol(rawValue: bytes[Layout.nextHeader]) }
    @inline(__always) var length: Int { bytes.count }
    @inline(__always) var securityParametersIndex: UInt32 { bytes[Layout.securityParametersIndex] }
}
