/// IP over InfiniBand as libpcap hands it over (LINKTYPE_IPOIB, read as Wireshark's
/// packet-ipoib.c reads it): a 40-byte pseudo-header (the GRH, or zeros and the destination
/// address), then RFC 4391 §6's header: an EtherType and 2 reserved bytes.
struct IPoIBHeader: EtherTypeHeader {
    enum Layout {
        static let pseudoHeader = 0..<40
        static let etherType = Field<UInt16>(at: 40)
        static let reserved = Field<UInt16>(at: 42)
        static let length = 44
    }

    let start: Int
    let bytes: HeaderBytes

    static var length: Int { Layout.length }
    static var truncatedReason: StaticString { "captured bytes end inside the 44-byte IPoIB header" }

    @inline(__always) var etherType: EtherType { EtherType(rawValue: bytes[Layout.etherType]) }
}
