/// An IPv4 header (RFC 791 §3.1), options included.
struct IPv4Header: HeaderView {
    enum Layout {
        /// Version in the high nibble, IHL (header length in 4-byte words) in the low one.
        static let versionAndIHL = Field<UInt8>(at: 0)
        static let typeOfService = Field<UInt8>(at: 1)
        static let totalLength = Field<UInt16>(at: 2)
        static let identification = Field<UInt16>(at: 4)
        static let flagsAndFragmentOffset = Field<UInt16>(at: 6)
        static let timeToLive = Field<UInt8>(at: 8)
        static let `protocol` = Field<UInt8>(at: 9)
        static let headerChecksum = Field<UInt16>(at: 10)
        static let source = Field<UInt32>(at: 12)
        static let destination = Field<UInt32>(at: 16)
        /// The fixed part; options follow, up to IHL * 4 bytes.
        static let minimumLength = 20
        static let ihlMask: UInt8 = 0x0F
        static let minimumIHL: UInt8 = 5
        static let bytesPerIHLWord = 4
        /// Low 13 bits of the flags/fragment-offset word: the offset in 8-octet units;
        /// nonzero means a non-first fragment.
        static let fragmentOffsetMask: UInt16 = 0x1FFF
        /// More Fragments: set on every fragment but the last.
        static let moreFragmentsFlag: UInt16 = 0x2000
        /// Fragment offsets count 8-octet units (RFC 791 §3.1).
        static let fragmentUnit = 8
    }

    let start: Int
    /// The whole header, options included: IHL * 4 bytes.
    let bytes: HeaderBytes
    /// The datagram's length, header and payload, at most what the wire holds from `start`.
    let totalLength: Int

    /// Checks, in this order: the fixed header was captured (else truncated); the version is 4,
    /// IHL is at least 5, and the total length covers the header and fits in the packet on the
    /// wire (else malformed); the options were captured (else truncated).
    ///
    /// The total length is trusted over the buffer, so Ethernet padding is not payload. A total
    /// length of 0 is what Linux writes in TSO/GSO super-packets captured before segmentation
    /// (and IPv4 BIG TCP); as tcpdump does, the length is then taken from the wire length.
    /// - Parameter wireEnd: where the bytes holding this datagram end on the wire: the
    ///   packet's wire length for the outermost header, the enclosing payload's end for an inner one.
    @inline(__always)
    init(checking reader: ByteReader, at start: Int, wireEnd: Int) throws(DecodeError) {
        guard reader.has(Layout.minimumLength, at: start) else {
            throw DecodeError(.truncated, .ipv4, "captured bytes end inside the 20-byte IPv4 header")
        }
        let fixed = reader.header(at: start, length: Layout.minimumLength)
        let versionAndIHL = fixed[Layout.versionAndIHL]
        guard IPVersion.of(versionAndIHL) == IPVersion.v4 else {
            throw DecodeError(.malformed, .ipv4, "IPv4 header has a version field other than 4")
        }
        let ihl = versionAndIHL & Layout.ihlMask
        guard ihl >= Layout.minimumIHL else {
            throw DecodeError(.malformed, .ipv4, "IPv4 header length (IHL) is below the minimum of 5 words (20 bytes)")
        }
        let headerLength = Int(ihl) * Layout.bytesPerIHLWord
        let onWire = wireEnd - start
        let totalLengthField = fixed[Layout.totalLength]
        let totalLength = totalLengthField == 0 ? onWire : Int(totalLengthField)
        guard totalLength >= headerLength else {
            throw DecodeError(.malformed, .ipv4, "IPv4 total length is smaller than the IPv4 header length")
        }
        guard totalLength <= onWire else {
            throw DecodeError(.malformed, .ipv4, "IPv4 total length is larger than the packet on the wire")
        }
        guard reader.has(headerLength, at: start) else {
            throw DecodeError(.truncated, .ipv4, "captured bytes end inside the IPv4 options")
        }
        self.start = start
        bytes = reader.header(at: start, length: headerLength)
        self.totalLength = totalLength
    }

    @inline(__always) var headerLength: Int { bytes.count }
    @inline(__always) var `protocol`: IPProtocol { IPProtocol(rawValue: bytes[Layout.protocol]) }
    @inline(__always) var timeToLive: UInt8 { bytes[Layout.timeToLive] }
    @inline(__always) var source: IPAddress { IPAddress(ipv4: bytes[Layout.source]) }
    @inline(__always) var destination: IPAddress { IPAddress(ipv4: bytes[Layout.destination]) }
    /// A fragment other than the first: it carries no header of the protocol it belongs to.
    @inline(__always) var isNonFirstFragment: Bool {
        bytes[Layout.flagsAndFragmentOffset] & Layout.fragmentOffsetMask != 0
    }
    /// A fragment, first or not: More Fragments is set or the offset is nonzero (RFC 791 §3.2).
    @inline(__always) var isFragment: Bool {
        bytes[Layout.flagsAndFragmentOffset] & (Layout.moreFragmentsFlag | Layout.fragmentOffsetMask) != 0
    }
    /// Where this fragment's data lies in its datagram's data, in bytes.
    @inline(__always) var fragmentOffset: Int {
        Int(bytes[Layout.flagsAndFragmentOffset] & Layout.fragmentOffsetMask) * Layout.fragmentUnit
    }
    @inline(__always) var moreFragments: Bool {
        bytes[Layout.flagsAndFragmentOffset] & Layout.moreFragmentsFlag != 0
    }
    /// The Identification field: with the addresses and the protocol, it names the datagram
    /// a fragment belongs to (RFC 791 §3.2).
    @inline(__always) var identification: UInt16 { bytes[Layout.identification] }
    /// What follows the header, by the total length (a first fragment's share of it, when MF is set).
    @inline(__always) var payloadLength: Int { totalLength - headerLength }
}
