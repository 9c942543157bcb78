/// The header of a Linux NFLOG packet (LINKTYPE_NFLOG; libpcap's pcap/nflog.h): address
/// family, version, resource ID; type-length-value attributes follow.
struct NFLOGHeader: FixedLengthHeader {
    enum Layout {
        static let family = Field<UInt8>(at: 0)
        static let version = Field<UInt8>(at: 1)
        static let resourceID = Field<UInt16>(at: 2)
        static let length = 4
        /// Linux AF_INET and AF_INET6.
        static let inet: UInt8 = 2, inet6: UInt8 = 10
    }

    let start: Int
    let bytes: HeaderBytes

    static var length: Int { Layout.length }
    static var truncatedReason: StaticString { "captured bytes end inside the 4-byte NFLOG header" }

    @inline(__always) var family: UInt8 { bytes[Layout.family] }
}

/// One NFLOG attribute's header (pcap/nflog.h `nflog_tlv_t`): length (header included) and
/// type, in the capturing host's byte order, which libpcap leaves as it found it when the file
/// came from a host of the same order; the value follows, padded to a multiple of 4 bytes.
struct NFLOGAttribute: FixedLengthHeader {
    enum Layout {
        static let length = 4
        static let lengthField = Field<UInt16>(at: 0)
        static let typeField = Field<UInt16>(at: 2)
        /// The payload attribute: the packet, from its network header (NFULA_PAYLOAD).
        static let payload: UInt16 = 9
        /// Netlink's nested and byte-order flags (NLA_F_NESTED, NLA_F_NET_BYTEORDER) are not
        /// part of the type.
        static let typeMask: UInt16 = 0x3FFF
        static let alignment = 4
    }

    let start: Int
    let bytes: HeaderBytes

    static var length: Int { Layout.length }
    static var truncatedReason: StaticString { "captured bytes end inside an NFLOG attribute header" }

    /// The length and type read little-endian (`bigEndian` false) or big-endian.
    @inline(__always) func length(bigEndian: Bool) -> Int {
        let raw = bytes[Layout.lengthField]
        return Int(bigEndian ? raw : raw.byteSwapped)
    }
    @inline(__always) func type(bigEndian: Bool) -> UInt16 {
        let raw = bytes[Layout.typeField]
        return (bigEndian ? raw : raw.byteSwapped) & Layout.typeMask
    }
}
