/// The start of an IEEE 802.11 frame (IEEE 802.11-2020 §9.2.3, §9.3.2.1): the frame control
/// field and, for a data frame, the whole MAC header: duration, three addresses, sequence
/// control, a fourth address when both ToDS and FromDS are set (a wireless bridge), QoS Control
/// in QoS subtypes, and HT Control when a QoS frame has the +HTC (Order) bit.
///
/// Multi-byte 802.11 fields are little-endian; only single bytes are read here.
struct IEEE80211Header: HeaderView {
    enum Layout {
        /// Protocol version (bits 0-1), type (2-3), subtype (4-7).
        static let frameControl0 = Field<UInt8>(at: 0)
        /// ToDS, FromDS, More Fragments, Retry, Power Management, More Data, Protected, +HTC/Order.
        static let frameControl1 = Field<UInt8>(at: 1)
        static let frameControlLength = 2
        /// The low byte of Sequence Control: fragment number in its low nibble.
        static let sequenceControl0 = Field<UInt8>(at: 22)
        static let dataHeaderLength = 24
        static let fourthAddressLength = 6
        static let qosControlLength = 2
        static let htControlLength = 4
        static let typeData: UInt8 = 2
        static let toDS: UInt8 = 0x01, fromDS: UInt8 = 0x02, moreFragments: UInt8 = 0x04
        static let protected: UInt8 = 0x40, order: UInt8 = 0x80
        /// Subtype bits: QoS (8) and "no data" (4: Null, CF-Ack, CF-Poll ... carry no body).
        static let subtypeQoS: UInt8 = 0x8, subtypeNoData: UInt8 = 0x4
        /// QoS Control's first byte: bit 7 says the body is an A-MSDU (§9.2.4.5.9).
        static let amsduPresent: UInt8 = 0x80
        static let fragmentNumberMask: UInt8 = 0x0F
    }

    let start: Int
    /// The frame control field, or the whole MAC header of a data frame.
    let bytes: HeaderBytes

    @inline(__always)
    init(checking reader: ByteReader, at start: Int) throws(DecodeError) {
        guard reader.has(Layout.frameControlLength, at: start) else {
            throw DecodeError(.truncated, .link, "captured bytes end inside the 802.11 frame control field")
        }
        let control = reader.header(at: start, length: Layout.frameControlLength)
        let fc0 = control[Layout.frameControl0], fc1 = control[Layout.frameControl1]
        var length = Layout.frameControlLength
        if fc0 & 0x03 == 0 && (fc0 >> 2) & 0x03 == Layout.typeData {
            length = Layout.dataHeaderLength
            if fc1 & (Layout.toDS | Layout.fromDS) == Layout.toDS | Layout.fromDS { length += Layout.fourthAddressLength }
            if (fc0 >> 4) & Layout.subtypeQoS != 0 {
                length += Layout.qosControlLength
                if fc1 & Layout.order != 0 { length += Layout.htControlLength }
            }
            guard reader.has(length, at: start) else {
                throw DecodeError(.truncated, .link, "captured bytes end inside the 802.11 MAC header")
            }
        }
        self.start = start
        bytes = reader.header(at: start, length: length)
    }

    /// A data frame (type 2, protocol version 0) whose whole MAC header was checked.
    @inline(__always) var isData: Bool { bytes.count >= Layout.dataHeaderLength }
    @inline(__always) private var flags: UInt8 { bytes[Layout.frameControl1] }
    @inline(__always) var isProtected: Bool { flags & Layout.protected != 0 }
    /// A data subtype that carries a body (not Null, CF-Ack, CF-Poll ...).
    @inline(__always) var hasBody: Bool { (bytes[Layout.frameControl0] >> 4) & Layout.subtypeNoData == 0 }
    /// Part of a fragmented MSDU: More Fragments set, or a fragment number other than 0.
    @inline(__always) var isFragment: Bool {
        flags & Layout.moreFragments != 0 || bytes[Layout.sequenceControl0] & Layout.fragmentNumberMask != 0
    }
    /// The body is an A-MSDU: several subframes, each with its own addresses and length.
    @inline(__always) var isAMSDU: Bool {
        (bytes[Layout.frameControl0] >> 4) & Layout.subtypeQoS != 0
            && bytes.read(UInt8.self, at: qosControlOffset) & Layout.amsduPresent != 0
    }
    @inline(__always) private var qosControlOffset: Int {
        Layout.dataHeaderLength
            + (flags & (Layout.toDS | Layout.fromDS) == Layout.toDS | Layout.fromDS ? Layout.fourthAddressLength : 0)
    }
}

/// An IEEE 802.2 LLC header with a SNAP extension (RFC 1042, IEEE 802-2014 §10.3): DSAP and
/// SSAP 0xAA, control 0x03 (UI), an organisation code, then an EtherType when the code is 0
/// (RFC 1042) or 00-00-F8 (802.1H bridge tunnel).
struct LLCSNAPHeader: FixedLengthHeader {
    enum Layout {
        static let dsap = Field<UInt8>(at: 0)
        static let ssap = Field<UInt8>(at: 1)
        static let control = Field<UInt8>(at: 2)
        static let organisation = 3..<6
        static let organisationHigh = Field<UInt16>(at: 3)
        static let organisationLow = Field<UInt8>(at: 5)
        static let etherType = Field<UInt16>(at: 6)
        static let length = 8
        static let snap: UInt8 = 0xAA
        static let unnumberedInformation: UInt8 = 0x03
        static let bridgeTunnel: UInt8 = 0xF8
    }

    let start: Int
    let bytes: HeaderBytes

    static var length: Int { Layout.length }
    static var truncatedReason: StaticString { "captured bytes end inside the 8-byte LLC/SNAP header" }

    /// The EtherType of an RFC 1042 or bridge-tunnel SNAP header; nil for any other LLC.
    @inline(__always) var etherType: EtherType? {
        guard bytes[Layout.dsap] == Layout.snap, bytes[Layout.ssap] == Layout.snap,
              bytes[Layout.control] == Layout.unnumberedInformation, bytes[Layout.organisationHigh] == 0,
              bytes[Layout.organisationLow] == 0 || bytes[Layout.organisationLow] == Layout.bridgeTunnel else {
            return nil
        }
        return EtherType(rawValue: bytes[Layout.etherType])
    }
}

/// A radiotap header (radiotap.org, "Radiotap header format"): version 0, pad, the header's
/// length and the presence bitmaps (little-endian), then the fields they name. Only the Flags
/// field is read: it says whether an FCS ends the frame and whether the 802.11 header is
/// padded to a multiple of 4 bytes.
struct RadiotapHeader: HeaderView {
    enum Layout {
        static let version = Field<UInt8>(at: 0)
        static let length = Field<UInt16>(at: 2)
        static let firstPresent = 4
        static let fixedLength = 8
        static let presentWordLength = 4
        /// Bit 31 of a presence word: another word follows.
        static let extended: UInt32 = 1 << 31
        static let tsft: UInt32 = 1 << 0, flags: UInt32 = 1 << 1
        static let tsftAlignment = 8, tsftLength = 8
        /// Flags: the frame ends with its 4-byte FCS; padding follows the 802.11 header.
        static let fcsAtEnd: UInt8 = 0x10, dataPad: UInt8 = 0x20
    }

    let start: Int
    /// The whole radiotap header (its length field's worth).
    let bytes: HeaderBytes
    /// The Flags field, 0 when absent.
    let flags: UInt8

    @inline(__always)
    init(checking reader: ByteReader, at start: Int, wireEnd: Int) throws(DecodeError) {
        let header = try radioHeaderBytes(reader, at: start, wireEnd: wireEnd, reasons: (
            "captured bytes end inside the 8-byte radiotap header", "radiotap header has a version other than 0",
            "radiotap length is below 8 bytes or past the end of the packet", "captured bytes end inside the radiotap header"))
        let length = header.count
        let present = header.read(UInt32.self, at: Layout.firstPresent).byteSwapped
        var fields = Layout.firstPresent + Layout.presentWordLength
        var word = present
        while word & Layout.extended != 0 {
            guard fields + Layout.presentWordLength <= length else {
                throw DecodeError(.malformed, .link, "radiotap presence bitmaps run past the header's length")
            }
            word = header.read(UInt32.self, at: fields).byteSwapped
            fields += Layout.presentWordLength
        }
        var flags: UInt8 = 0
        if present & Layout.flags != 0 {
            if present & Layout.tsft != 0 {
                fields = (fields + Layout.tsftAlignment - 1) / Layout.tsftAlignment * Layout.tsftAlignment + Layout.tsftLength
            }
            guard fields < length else {
                throw DecodeError(.malformed, .link, "radiotap Flags field lies past the header's length")
            }
            flags = header.read(UInt8.self, at: fields)
        }
        self.start = start
        bytes = header
        self.flags = flags
    }

    @inline(__always) var hasFCS: Bool { flags & Layout.fcsAtEnd != 0 }
    @inline(__always) var isDataPadded: Bool { flags & Layout.dataPad != 0 }
}

/// A PPI header (Per-Packet Information Header Specification 1.0.10, CACE Technologies):
/// version 0, flags, the header's length and the link type of what follows (little-endian),
/// then fields. The 802.11-Common field (type 2) says in its flags whether an FCS ends the
/// frame.
struct PPIHeader: HeaderView {
    enum Layout {
        static let version = Field<UInt8>(at: 0)
        static let length = Field<UInt16>(at: 2)
        static let linkType = Field<UInt32>(at: 4)
        static let fixedLength = 8
        static let fieldHeaderLength = 4
        static let common80211: UInt16 = 2
        /// In the 802.11-Common field: the flags after the 8-byte TSF timer; bit 0 = FCS present.
        static let commonFlagsOffset = 8
        static let fcsPresent: UInt16 = 0x0001
    }

    let start: Int
    /// The whole PPI header, fields included.
    let bytes: HeaderBytes

    @inline(__always)
    init(checking reader: ByteReader, at start: Int, wireEnd: Int) throws(DecodeError) {
        self.start = start
        bytes = try radioHeaderBytes(reader, at: start, wireEnd: wireEnd, reasons: (
            "captured bytes end inside the 8-byte PPI header", "PPI header has a version other than 0",
            "PPI length is below 8 bytes or past the end of the packet", "captured bytes end inside the PPI header"))
    }

    /// The link type of the packet after the header.
    @inline(__always) var linkType: LinkType { LinkType(rawValue: Int32(bitPattern: bytes[Layout.linkType].byteSwapped)) }

    /// Whether an 802.11-Common field says the frame ends with its FCS. The walk over the
    /// fields is bounded: each is at least 4 bytes of the checked header.
    var hasFCS: Bool {
        var offset = Layout.fixedLength
        while offset + Layout.fieldHeaderLength <= bytes.count {
            let type = bytes.read(UInt16.self, at: offset).byteSwapped
            let length = Int(bytes.read(UInt16.self, at: offset + 2).byteSwapped)
            let data = offset + Layout.fieldHeaderLength
            if type == Layout.common80211 && length >= Layout.commonFlagsOffset + 2
                && data + Layout.commonFlagsOffset + 2 <= bytes.count {
                return bytes.read(UInt16.self, at: data + Layout.commonFlagsOffset).byteSwapped & Layout.fcsPresent != 0
            }
            offset = data + length
        }
        return false
    }
}

/// The bytes of a header that starts as radiotap and PPI do: version 0, a byte, the header's
/// own length (little-endian, at least 8), which must lie inside the packet on the wire (else
/// malformed) and be captured (else truncated). `reasons`: truncated in the first 8 bytes, bad
/// version, bad length, truncated after them.
@inline(__always)
private func radioHeaderBytes(_ reader: ByteReader, at start: Int, wireEnd: Int,
                              reasons: (StaticString, StaticString, StaticString, StaticString)) throws(DecodeError) -> HeaderBytes {
    let fixedLength = 8
    guard reader.has(fixedLength, at: start) else { throw DecodeError(.truncated, .link, reasons.0) }
    let fixed = reader.header(at: start, length: fixedLength)
    guard fixed.read(UInt8.self, at: 0) == 0 else { throw DecodeError(.malformed, .link, reasons.1) }
    let length = Int(fixed.read(UInt16.self, at: 2).byteSwapped)
    guard length >= fixedLength, length <= wireEnd - start else { throw DecodeError(.malformed, .link, reasons.2) }
    guard reader.has(length, at: start) else { throw DecodeError(.truncated, .link, reasons.3) }
    return reader.header(at: start, length: length)
}

/// The IEEE 802.11 frame check sequence, when a radio header says one ends the frame.
enum IEEE80211FCS {
    static let length = 4
}
