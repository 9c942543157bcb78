/// One MPLS label stack entry (RFC 3032 §2.1): label (20 bits), traffic class (3), bottom of
/// stack (1), TTL (8).
struct MPLSLabelEntry: FixedLengthHeader {
    enum Layout {
        static let entry = Field<UInt32>(at: 0)
        static let length = 4
        static let labelShift: UInt32 = 12
        static let bottomOfStackBit: UInt32 = 0x100
    }

    let start: Int
    let bytes: HeaderBytes

    static var length: Int { Layout.length }
    static var truncatedReason: StaticString { "captured bytes end inside an MPLS label stack entry" }

    @inline(__always) var label: UInt32 { bytes[Layout.entry] >> Layout.labelShift }
    @inline(__always) var isBottomOfStack: Bool { bytes[Layout.entry] & Layout.bottomOfStackBit != 0 }

    /// The Generic Associated Channel label (RFC 5586 §4): at the bottom, an associated
    /// channel (OAM, BFD) follows, never user data.
    static let generalAssociatedChannel: UInt32 = 13
}

/// The 4-byte control word of an Ethernet pseudowire (RFC 4448 §3, RFC 4385 §3): first nibble
/// 0, then flags, fragment bits, length and a sequence number.
enum PseudowireControlWord {
    static let length = 4
    /// An Ethernet pseudowire's EtherType at byte 12 without the control word, at 16 with it.
    static let etherTypeWithout = 12
    static let etherTypeWith = 16
}

/// A Provider Backbone Bridging I-tag (IEEE 802.1ah), after its EtherType 0x88E7: priority,
/// drop eligibility, use-customer-address and the 24-bit I-SID; the customer's Ethernet
/// frame (destination, source, EtherType ...) follows.
enum PBBInstanceTag {
    static let length = 4
}

/// A Cisco FabricPath outer header's last field, after its EtherType 0x8903: FTag and TTL.
/// The outer header is 16 bytes (outer destination and source, EtherType, this); the
/// classical Ethernet frame follows.
enum FabricPathTag {
    static let length = 2
}

/// An IEEE 802.1BR E-Tag, after its EtherType 0x893F: priority, drop eligibility and the
/// E-CID fields in 6 bytes, then the EtherType of what it carries (8 bytes with its TPID).
struct ETag: FixedLengthHeader {
    enum Layout {
        static let tagControl = 0..<6
        static let etherType = Field<UInt16>(at: 6)
        static let length = 8
    }

    let start: Int
    let bytes: HeaderBytes

    static var length: Int { Layout.length }
    static var truncatedReason: StaticString { "captured bytes end inside an 802.1BR E-Tag" }

    @inline(__always) var etherType: EtherType { EtherType(rawValue: bytes[Layout.etherType]) }
}

extension EtherType {
    static let mplsUnicast = EtherType(rawValue: 0x8847)
    static let mplsMulticast = EtherType(rawValue: 0x8848)
    static let pppoeDiscovery = EtherType(rawValue: 0x8863)
    static let pppoeSession = EtherType(rawValue: 0x8864)
    /// IEEE 802.1ah Provider Backbone Bridging I-tag.
    static let pbbInstanceTag = EtherType(rawValue: 0x88E7)
    /// Cisco FabricPath.
    static let fabricPath = EtherType(rawValue: 0x8903)
    /// IEEE 802.1BR E-Tag.
    static let eTag = EtherType(rawValue: 0x893F)
}
