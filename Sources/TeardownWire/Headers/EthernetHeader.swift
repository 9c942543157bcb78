/// An EtherType (IEEE 802 numbers, IANA "ieee-802-numbers"). An open set.
struct EtherType: RawRepresentable, Hashable, Sendable {
    var rawValue: UInt16
    @inline(__always) init(rawValue: UInt16) { self.rawValue = rawValue }

    static let ipv4 = EtherType(rawValue: 0x0800)
    static let ipv6 = EtherType(rawValue: 0x86DD)
    /// IEEE 802.1Q customer VLAN tag.
    static let vlan8021Q = EtherType(rawValue: 0x8100)
    /// IEEE 802.1ad service VLAN tag (QinQ outer tag).
    static let vlan8021AD = EtherType(rawValue: 0x88A8)
    /// The pre-standard QinQ outer tag some switches still send.
    static let vlanQinQLegacy = EtherType(rawValue: 0x9100)
    /// Values up to 1500 in the type/length field are an IEEE 802.3 length, not a type.
    static let maximumIEEE8023Length: UInt16 = 1500

    @inline(__always) var isVLANTag: Bool {
        self == .vlan8021Q || self == .vlan8021AD || self == .vlanQinQLegacy
    }
}

/// An Ethernet II header (IEEE 802.3 §3.1.1): destination, source, type/length.
struct EthernetHeader: EtherTypeHeader {
    enum Layout {
        static let destination = 0..<6
        static let source = 6..<12
        static let etherType = Field<UInt16>(at: 12)
        static let length = 14
    }

    let start: Int
    let bytes: HeaderBytes

    static var length: Int { Layout.length }
    static var truncatedReason: StaticString { "captured bytes end inside the 14-byte Ethernet header" }

    /// What the payload is (or, up to 1500, an IEEE 802.3 length).
    @inline(__always) var etherType: EtherType { EtherType(rawValue: bytes[Layout.etherType]) }
}

/// An 802.1Q/802.1ad tag, as it follows a tag EtherType: the tag control information, then
/// the EtherType of what the tag carries.
struct VLANTag: FixedLengthHeader {
    enum Layout {
        static let tagControl = Field<UInt16>(at: 0)
        static let etherType = Field<UInt16>(at: 2)
        static let length = 4
    }

    let start: Int
    let bytes: HeaderBytes

    static var length: Int { Layout.length }
    static var truncatedReason: StaticString { "captured bytes end inside an 802.1Q/802.1ad VLAN tag" }

    @inline(__always) var tagControl: UInt16 { bytes[Layout.tagControl] }
    @inline(__always) var etherType: EtherType { EtherType(rawValue: bytes[Layout.etherType]) }
}
