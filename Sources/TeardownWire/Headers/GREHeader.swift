/// A GRE header: RFC 2784 with RFC 2890's key and sequence number (version 0), or PPTP's
/// enhanced GRE (version 1, RFC 2637 §4.1: the key holds the payload length and the call ID,
/// and an acknowledgment number may follow the sequence number).
///
///     C R K S s Recur | A Flags Ver | Protocol Type
///     [Checksum | Offset]   if C or R
///     [Key]                 if K
///     [Sequence Number]     if S
///     [Acknowledgment]      if A (version 1)
struct GREHeader: HeaderView {
    enum Layout {
        static let flagsAndVersion = Field<UInt16>(at: 0)
        static let protocolType = Field<UInt16>(at: 2)
        static let minimumLength = 4
        static let checksumPresent: UInt16 = 0x8000
        static let routingPresent: UInt16 = 0x4000
        static let keyPresent: UInt16 = 0x2000
        static let sequencePresent: UInt16 = 0x1000
        /// Version 1 only (RFC 2637 §4.1).
        static let acknowledgmentPresent: UInt16 = 0x0080
        static let versionMask: UInt16 = 0x0007
        /// Each optional field (checksum and offset, key, sequence, acknowledgment) is 4 bytes.
        static let optionalFieldLength = 4
        /// PPTP's GRE carries PPP (RFC 2637 §4.1).
        static let pptpProtocolType: UInt16 = 0x880B
    }

    static let version0: UInt16 = 0
    static let version1: UInt16 = 1

    let start: Int
    /// The fixed part and the optional fields the flags announce.
    let bytes: HeaderBytes

    /// Checks that the fixed part and the optional fields its flags announce were captured
    /// (else truncated) and fit in the IP payload (else malformed). The version and the routing
    /// flag are read by the step, which leaves what it does not follow to others (`.notTCP`).
    @inline(__always)
    init(checking reader: ByteReader, at start: Int, wireEnd: Int) throws(DecodeError) {
        guard reader.has(Layout.minimumLength, at: start) else {
            throw DecodeError(.truncated, .gre, "captured bytes end inside the 4-byte GRE header")
        }
        let flags = reader.header(at: start, length: Layout.minimumLength)[Layout.flagsAndVersion]
        var fields = 0
        if flags & (Layout.checksumPresent | Layout.routingPresent) != 0 { fields += 1 }
        if flags & Layout.keyPresent != 0 { fields += 1 }
        if flags & Layout.sequencePresent != 0 { fields += 1 }
        if flags & Layout.versionMask == Self.version1 && flags & Layout.acknowledgmentPresent != 0 { fields += 1 }
        let length = Layout.minimumLength + fields * Layout.optionalFieldLength
        guard length <= wireEnd - start else {
            throw DecodeError(.malformed, .gre, "GRE header runs past the IP payload")
        }
        guard reader.has(length, at: start) else {
            throw DecodeError(.truncated, .gre, "captured bytes end inside the GRE header's optional fields")
        }
        self.start = start
        bytes = reader.header(at: start, length: length)
    }

    @inline(__always) var flags: UInt16 { bytes[Layout.flagsAndVersion] }
    @inline(__always) var version: UInt16 { flags & Layout.versionMask }
    @inline(__always) var protocolType: EtherType { EtherType(rawValue: bytes[Layout.protocolType]) }
    @inline(__always) var hasRouting: Bool { flags & Layout.routingPresent != 0 }
    @inline(__always) var hasKey: Bool { flags & Layout.keyPresent != 0 }
    @inline(__always) var hasSequenceNumber: Bool { flags & Layout.sequencePresent != 0 }
    /// The key (RFC 2890 §2.1), or for version 1 the payload length and call ID; 0 without one.
    @inline(__always) var key: UInt32 {
        guard hasKey else { return 0 }
        let offset = flags & (Layout.checksumPresent | Layout.routingPresent) != 0 ? 8 : 4
        return bytes.read(UInt32.self, at: offset)
    }
}

/// An ERSPAN header (draft-foschiano-erspan-03), after GRE protocol type 0x88BE (type II,
/// when GRE's sequence flag is set; without it, type I, which has no header) or 0x22EB
/// (type III). As Wireshark does, the header's own version field says which it is: 1 is
/// type II (8 bytes), 2 is type III (12 bytes, 8 more when its O flag announces a
/// platform-specific subheader). The mirrored frame follows.
struct ERSPANHeader: HeaderView {
    enum Layout {
        /// Version in the high 4 bits, VLAN in the low 12.
        static let versionAndVLAN = Field<UInt16>(at: 0)
        /// COS, encapsulation / BSO, truncated, and the 10-bit session ID.
        static let session = Field<UInt16>(at: 2)
        static let sessionMask: UInt16 = 0x03FF
        static let versionShift: UInt16 = 12
        static let typeIILength = 8
        static let typeIIILength = 12
        /// Type III: P, frame type (5 bits), hardware ID, D, granularity, O.
        static let typeIIIFlags = Field<UInt16>(at: 10)
        static let frameTypeShift: UInt16 = 10
        static let frameTypeMask: UInt16 = 0x1F
        static let optionalSubheaderFlag: UInt16 = 0x0001
        static let platformSubheaderLength = 8
    }

    static let typeII: UInt16 = 1
    static let typeIII: UInt16 = 2
    /// Type III frame type 0: an Ethernet frame.
    static let ethernetFrame: UInt16 = 0

    let start: Int
    let bytes: HeaderBytes

    /// Checks that the version field was captured and, for versions 1 and 2, the whole
    /// header (else truncated), and that it fits in the GRE payload (else malformed). Any
    /// other version leaves a view of the version field alone, for the step to refuse.
    @inline(__always)
    init(checking reader: ByteReader, at start: Int, wireEnd: Int) throws(DecodeError) {
        guard reader.has(Layout.versionAndVLAN.end, at: start) else {
            throw DecodeError(.truncated, .erspan, "captured bytes end inside the ERSPAN header")
        }
        let version = reader.header(at: start, length: Layout.versionAndVLAN.end)[Layout.versionAndVLAN] >> Layout.versionShift
        var length = Layout.versionAndVLAN.end
        if version == Self.typeII {
            length = Layout.typeIILength
        } else if version == Self.typeIII {
            guard reader.has(Layout.typeIIILength, at: start) else {
                throw DecodeError(.truncated, .erspan, "captured bytes end inside the ERSPAN header")
            }
            let flags = reader.header(at: start, length: Layout.typeIIILength)[Layout.typeIIIFlags]
            length = Layout.typeIIILength
                + (flags & Layout.optionalSubheaderFlag != 0 ? Layout.platformSubheaderLength : 0)
        }
        guard length <= wireEnd - start else {
            throw DecodeError(.malformed, .erspan, "ERSPAN header runs past the GRE payload")
        }
        guard reader.has(length, at: start) else {
            throw DecodeError(.truncated, .erspan, "captured bytes end inside the ERSPAN header")
        }
        self.start = start
        bytes = reader.header(at: start, length: length)
    }

    @inline(__always) var version: UInt16 { bytes[Layout.versionAndVLAN] >> Layout.versionShift }
    /// The session ID (type II and III).
    @inline(__always) var session: UInt16 {
        bytes.count >= Layout.session.end ? bytes[Layout.session] & Layout.sessionMask : 0
    }
    /// What the mirrored frame is: type II always carries Ethernet; type III says.
    @inline(__always) var carriesEthernet: Bool {
        switch version {
        case Self.typeII: return true
        case Self.typeIII:
            return (bytes[Layout.typeIIIFlags] >> Layout.frameTypeShift) & Layout.frameTypeMask == Self.ethernetFrame
        default: return false
        }
    }
}
