/// A LINKTYPE_NULL / LINKTYPE_LOOP header: the 4-byte address family of a BSD loopback
/// packet (tcpdump.org/linktypes.html).
struct LoopbackHeader: FixedLengthHeader {
    enum Layout {
        static let family = Field<UInt32>(at: 0)
        static let length = 4
    }

    let start: Int
    let bytes: HeaderBytes

    static var length: Int { Layout.length }
    static var truncatedReason: StaticString { "captured bytes end inside the 4-byte loopback address family" }

    /// The address family, whichever byte order it was written in.
    ///
    /// NULL stores the family in the *capturing* host's byte order and LOOP in network order,
    /// but files travel between hosts and some writers get LOOP wrong, so both orders are
    /// accepted (libpcap's `pcap-common.c` and tcpdump's `print-null.c` do the same). All valid
    /// values are below 256, so at most one of the two byte orders yields one.
    @inline(__always) var family: UInt32 {
        let word = bytes[Layout.family]
        return word <= 0xFF ? word : word.byteSwapped
    }
}

/// The address-family values that BSD loopback headers carry for IP.
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
