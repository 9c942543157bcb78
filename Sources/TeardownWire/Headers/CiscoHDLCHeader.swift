/// A Cisco HDLC header (LINKTYPE_C_HDLC; tcpdump's print-chdlc.c): address (0x0F unicast,
/// 0x8F broadcast), control 0, then an EtherType.
struct CiscoHDLCHeader: EtherTypeHeader {
    enum Layout {
        static let address = Field<UInt8>(at: 0)
        static let control = Field<UInt8>(at: 1)
        static let protocolType = Field<UInt16>(at: 2)
        static let length = 4
        static let unicast: UInt8 = 0x0F
        static let broadcast: UInt8 = 0x8F
    }

    let start: Int
    let bytes: HeaderBytes

    static var length: Int { Layout.length }
    static var truncatedReason: StaticString { "captured bytes end inside the 4-byte Cisco HDLC header" }

    @inline(__always) var etherType: EtherType { EtherType(rawValue: bytes[Layout.protocolType]) }
}
