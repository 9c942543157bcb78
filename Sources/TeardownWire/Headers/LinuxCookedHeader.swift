/// A LINKTYPE_LINUX_SLL header (tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html): Linux
/// "cooked" capture, as `tcpdump -i any` writes it. The protocol field is an EtherType for the
/// address types that carry IP.
struct LinuxSLLHeader: EtherTypeHeader {
    enum Layout {
        static let packetType = Field<UInt16>(at: 0)
        static let addressType = Field<UInt16>(at: 2)
        static let addressLength = Field<UInt16>(at: 4)
        static let address = 6..<14
        static let protocolType = Field<UInt16>(at: 14)
        static let length = 16
    }

    let start: Int
    let bytes: HeaderBytes

    static var length: Int { Layout.length }
    static var truncatedReason: StaticString { "captured bytes end inside the 16-byte Linux cooked (SLL) header" }

    /// The protocol type field: an EtherType.
    @inline(__always) var etherType: EtherType { EtherType(rawValue: bytes[Layout.protocolType]) }
}

/// A LINKTYPE_LINUX_SLL2 header (tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html): as SLL, with
/// the protocol field first, the interface index, and 20 bytes in all.
struct LinuxSLL2Header: EtherTypeHeader {
    enum Layout {
        static let protocolType = Field<UInt16>(at: 0)
        static let reserved = Field<UInt16>(at: 2)
        static let interfaceIndex = Field<UInt32>(at: 4)
        static let addressType = Field<UInt16>(at: 8)
        static let packetType = Field<UInt8>(at: 10)
        static let addressLength = Field<UInt8>(at: 11)
        static let address = 12..<20
        static let length = 20
    }

    let start: Int
    let bytes: HeaderBytes

    static var length: Int { Layout.length }
    static var truncatedReason: StaticString { "captured bytes end inside the 20-byte Linux cooked (SLL2) header" }

    /// The protocol type field: an EtherType.
    @inline(__always) var etherType: EtherType { EtherType(rawValue: bytes[Layout.protocolType]) }
}
