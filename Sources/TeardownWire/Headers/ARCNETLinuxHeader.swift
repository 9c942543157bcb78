/// A Linux ARCNET header (LINKTYPE_ARCNET_LINUX; tcpdump's print-arcnet.c `arc_linux_header`):
/// source, destination, a 2-byte offset, the protocol ID; the RFC 1201 protocols then have a
/// split flag and a 2-byte sequence number, the RFC 1051 ones and diagnostics do not.
struct ARCNETLinuxHeader: HeaderView {
    enum Layout {
        static let source = Field<UInt8>(at: 0)
        static let destination = Field<UInt8>(at: 1)
        static let offset = Field<UInt16>(at: 2)
        static let protocolID = Field<UInt8>(at: 4)
        static let splitFlag = Field<UInt8>(at: 5)
        static let sequence = Field<UInt16>(at: 6)
        static let shortLength = 5
        static let longLength = 8
    }

    /// ARCNET protocol IDs (tcpdump's arcnet.h, Wireshark's arcnet_pids.h).
    enum ProtocolID {
        /// RFC 1051 IPv4 and ARP, and the ATA 878.1 diagnostic: the 5-byte header.
        static let ipv4RFC1051: UInt8 = 240, arpRFC1051: UInt8 = 241, diagnose: UInt8 = 0x80
        /// RFC 1201 IPv4, and IPv6 (Linux's rfc1201.c carries both with the split flag).
        static let ipv4RFC1201: UInt8 = 212, ipv6: UInt8 = 196
    }

    let start: Int
    let bytes: HeaderBytes

    @inline(__always)
    init(checking reader: ByteReader, at start: Int) throws(DecodeError) {
        guard reader.has(Layout.shortLength, at: start) else {
            throw DecodeError(.truncated, .link, "captured bytes end inside the Linux ARCNET header")
        }
        let id = reader.header(at: start, length: Layout.shortLength)[Layout.protocolID]
        let length: Int
        switch id {
        case ProtocolID.ipv4RFC1051, ProtocolID.arpRFC1051, ProtocolID.diagnose: length = Layout.shortLength
        default: length = Layout.longLength
        }
        guard reader.has(length, at: start) else {
            throw DecodeError(.truncated, .link, "captured bytes end inside the Linux ARCNET header")
        }
        self.start = start
        bytes = reader.header(at: start, length: length)
    }

    @inline(__always) var protocolID: UInt8 { bytes[Layout.protocolID] }
}
