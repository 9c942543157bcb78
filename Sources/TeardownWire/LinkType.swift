/// A pcap link-layer header type (LINKTYPE_* / DLT_* values, tcpdump.org/linktypes.html).
/// An open set: any value is representable; `name` says what it is.
public struct LinkType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    @inlinable public init(rawValue: Int32) { self.rawValue = rawValue }

    /// BSD loopback: 4-byte address family in the capturing host's byte order.
    public static let null = LinkType(rawValue: 0)
    public static let ethernet = LinkType(rawValue: 1)
    /// DLT_RAW as some platforms number it (12 on most BSDs, 14 on OpenBSD); LINKTYPE_RAW is 101.
    public static let rawBSD12 = LinkType(rawValue: 12)
    public static let rawBSD14 = LinkType(rawValue: 14)
    public static let raw = LinkType(rawValue: 101)
    /// OpenBSD loopback: 4-byte address family in network byte order.
    public static let loop = LinkType(rawValue: 108)
    public static let linuxSLL = LinkType(rawValue: 113)
    public static let ipv4 = LinkType(rawValue: 228)
    public static let ipv6 = LinkType(rawValue: 229)
    public static let linuxSLL2 = LinkType(rawValue: 276)
    /// PPP (RFC 1661), with or without the HDLC address and control bytes FF 03 (RFC 1662).
    public static let ppp = LinkType(rawValue: 9)
    /// PPP in HDLC-like framing (RFC 1662), or Cisco HDLC when the first byte is 0x0F or 0x8F.
    public static let pppSerial = LinkType(rawValue: 50)
    /// Cisco HDLC: address, control, then an EtherType.
    public static let ciscoHDLC = LinkType(rawValue: 104)
    /// IEEE 802.11 frames without a radio header.
    public static let ieee80211 = LinkType(rawValue: 105)
    /// IEEE 802.11 behind a radiotap header (radiotap.org).
    public static let ieee80211Radiotap = LinkType(rawValue: 127)
    /// Linux ARCNET: source, destination, a 2-byte offset, then the RFC 1051/1201 header.
    public static let arcnetLinux = LinkType(rawValue: 129)
    /// Per-Packet Information: a header naming the link type that follows it.
    public static let ppi = LinkType(rawValue: 192)
    /// Linux netfilter NFLOG: a header, then type-length-value attributes, one the packet.
    public static let nflog = LinkType(rawValue: 239)
    /// IP over InfiniBand (RFC 4391 §6), behind the 40-byte address pseudo-header Linux writes.
    public static let ipoib = LinkType(rawValue: 242)

    /// Whether the decoder understands this link type.
    public var isSupported: Bool { HeaderKind(linkType: self) != nil }

    /// The LINKTYPE_ name, or `LINKTYPE <n>` for values this table does not know.
    public var description: String {
        switch rawValue {
        case 0: return "NULL"
        case 1: return "ETHERNET"
        case 12, 14, 101: return "RAW"
        case 108: return "LOOP"
        case 113: return "LINUX_SLL"
        case 228: return "IPV4"
        case 229: return "IPV6"
        case 276: return "LINUX_SLL2"
        case 6: return "IEEE802_5"
        case 9: return "PPP"
        case 50: return "PPP_HDLC"
        case 104: return "C_HDLC"
        case 105: return "IEEE802_11"
        case 127: return "IEEE802_11_RADIOTAP"
        case 129: return "ARCNET_LINUX"
        case 239: return "NFLOG"
        case 242: return "IPOIB"
        case 147...162: return "USER\(rawValue - 147)"
        case 192: return "PPI"
        case 220: return "USB_LINUX_MMAPPED"
        case 249: return "USBPCAP"
        case 253: return "NETLINK"
        default: return "LINKTYPE \(rawValue)"
        }
    }
}
