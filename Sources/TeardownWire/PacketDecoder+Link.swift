/// An EtherType (IEEE 802 numbers, IANA "ieee-802-numbers"). An open set.
@usableFromInline
struct EtherType: RawRepresentable, Hashable, Sendable {
    @usableFromInline var rawValue: UInt16
    @inline(__always) @usableFromInline init(rawValue: UInt16) { self.rawValue = rawValue }

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

/// Ethernet II header (IEEE 802.3 §3.1.1): destination, source, type/length.
enum EthernetLayout {
    static let destination = 0..<6
    static let source = 6..<12
    static let etherType = 12
    static let length = 14
}

/// An 802.1Q/802.1ad tag as it follows a tag EtherType: TCI, then the next EtherType.
enum VLANTagLayout {
    static let tagControl = 0
    static let etherType = 2
    static let length = 4
}

/// LINKTYPE_LINUX_SLL (tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html).
enum LinuxSLLLayout {
    static let packetType = 0
    static let addressType = 2
    static let addressLength = 4
    static let address = 6..<14
    static let protocolType = 14
    static let length = 16
}

/// LINKTYPE_LINUX_SLL2 (tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html).
enum LinuxSLL2Layout {
    static let protocolType = 0
    static let reserved = 2
    static let interfaceIndex = 4
    static let addressType = 8
    static let packetType = 10
    static let addressLength = 11
    static let address = 12..<20
    static let length = 20
}

/// LINKTYPE_NULL / LINKTYPE_LOOP: a 4-byte address family (tcpdump.org/linktypes.html).
enum LoopbackLayout {
    static let family = 0
    static let length = 4
}

/// The address-family values that BSD loopback headers carry for IP.
///
/// NULL stores the family in the *capturing* host's byte order and LOOP in network order, but
/// files travel between hosts and some writers get LOOP wrong, so both orders are accepted
/// (libpcap's `pcap-common.c` and tcpdump's `print-null.c` do the same). All valid values are
/// below 256, so at most one of the two byte orders yields one.
enum LoopbackFamily {
    static let inet: UInt32 = 2
    /// Linux AF_INET6.
    static let inet6Linux: UInt32 = 10
    /// NetBSD, OpenBSD, BSD/OS AF_INET6.
    static let inet6BSD: UInt32 = 24
    /// FreeBSD, DragonFly BSD AF_INET6.
    static let inet6FreeBSD: UInt32 = 28
    /// Darwin (macOS, iOS) AF_INET6.
    static let inet6Darwin: UInt32 = 30
}

/// The first byte of an IP header: the version in its high nibble (RFC 791 §3.1, RFC 8200 §3).
enum IPVersion {
    static let v4: UInt8 = 4
    static let v6: UInt8 = 6
    @inline(__always) static func of(_ firstByte: UInt8) -> UInt8 { firstByte >> 4 }
}

extension Packet {
    /// Ethernet II, with any number of stacked VLAN tags (802.1Q, 802.1ad, legacy QinQ).
    @inline(__always)
    func decodeEthernet(into segment: inout TCPSegment) -> DecodeResult {
        guard let type = reader.u16(at: EthernetLayout.etherType) else {
            return .truncated(.link, "captured bytes end inside the 14-byte Ethernet header")
        }
        return decodeEtherType(EtherType(rawValue: type), payloadAt: EthernetLayout.length, into: &segment)
    }

    /// LINUX_SLL: the protocol field is an EtherType for the address types that carry IP.
    @inline(__always)
    func decodeLinuxSLL(into segment: inout TCPSegment) -> DecodeResult {
        guard reader.has(LinuxSLLLayout.length, at: 0), let type = reader.u16(at: LinuxSLLLayout.protocolType) else {
            return .truncated(.link, "captured bytes end inside the 16-byte Linux cooked (SLL) header")
        }
        return decodeEtherType(EtherType(rawValue: type), payloadAt: LinuxSLLLayout.length, into: &segment)
    }

    /// LINUX_SLL2: as SLL, with the protocol field first and a 20-byte header.
    @inline(__always)
    func decodeLinuxSLL2(into segment: inout TCPSegment) -> DecodeResult {
        guard reader.has(LinuxSLL2Layout.length, at: 0), let type = reader.u16(at: LinuxSLL2Layout.protocolType) else {
            return .truncated(.link, "captured bytes end inside the 20-byte Linux cooked (SLL2) header")
        }
        return decodeEtherType(EtherType(rawValue: type), payloadAt: LinuxSLL2Layout.length, into: &segment)
    }

    /// NULL and LOOP: the family word in either byte order.
    @inline(__always)
    func decodeLoopback(into segment: inout TCPSegment) -> DecodeResult {
        guard let word = reader.u32(at: LoopbackLayout.family) else {
            return .truncated(.link, "captured bytes end inside the 4-byte loopback address family")
        }
        let family = word <= 0xFF ? word : word.byteSwapped
        switch family {
        case LoopbackFamily.inet:
            return decodeIPv4(at: LoopbackLayout.length, into: &segment)
        case LoopbackFamily.inet6Linux, LoopbackFamily.inet6BSD, LoopbackFamily.inet6FreeBSD, LoopbackFamily.inet6Darwin:
            return decodeIPv6(at: LoopbackLayout.length, into: &segment)
        default:
            return .notTCP
        }
    }

    /// RAW (101, and DLT_RAW 12/14): no link header; the IP version nibble says which IP.
    @inline(__always)
    func decodeRawIP(into segment: inout TCPSegment) -> DecodeResult {
        guard let first = reader.u8(at: 0) else {
            return .truncated(.link, "captured bytes end before the IP version field of a raw IP packet")
        }
        switch IPVersion.of(first) {
        case IPVersion.v4: return decodeIPv4(at: 0, into: &segment)
        case IPVersion.v6: return decodeIPv6(at: 0, into: &segment)
        default: return .malformed(.link, "raw IP packet has a version other than 4 or 6")
        }
    }

    /// Dispatches on an EtherType whose payload starts at `offset`, first skipping VLAN tags.
    ///
    /// The loop ends: each tag advances `offset` by 4 and a read past the captured bytes fails.
    @inline(__always)
    func decodeEtherType(_ first: EtherType, payloadAt start: Int, into segment: inout TCPSegment) -> DecodeResult {
        var type = first
        var offset = start
        while type.isVLANTag {
            guard let next = reader.u16(at: offset &+ VLANTagLayout.etherType) else {
                return .truncated(.link, "captured bytes end inside an 802.1Q/802.1ad VLAN tag")
            }
            type = EtherType(rawValue: next)
            offset &+= VLANTagLayout.length
        }
        switch type {
        case .ipv4: return decodeIPv4(at: offset, into: &segment)
        case .ipv6: return decodeIPv6(at: offset, into: &segment)
        default:
            // 802.3 length fields (<= 1500, LLC/SNAP follows), ARP, MPLS, PPPoE, ...: not ours.
            return .notTCP
        }
    }
}
