/// A UDP header (RFC 768), which carries the UDP-based tunnels (VXLAN, Geneve, GTP-U, CAPWAP,
/// Teredo, AYIYA).
struct UDPHeader: HeaderView {
    enum Layout {
        static let sourcePort = Field<UInt16>(at: 0)
        static let destinationPort = Field<UInt16>(at: 2)
        static let length = Field<UInt16>(at: 4)
        static let checksum = Field<UInt16>(at: 6)
        static let headerLength = 8
    }

    let start: Int
    let bytes: HeaderBytes
    /// The datagram's length, header included, by its length field.
    let datagramLength: Int

    /// Checks that the header was captured (else truncated) and that the length field covers
    /// the header and fits in the IP payload that holds the datagram (else malformed). A
    /// length of 0 is an RFC 2675 jumbogram's: the IP payload's length is taken instead.
    /// The checksum is not verified, as no layer's is (like `zeek -C` and Wireshark's defaults).
    /// - Parameter wireEnd: where the IP payload that holds the datagram ends.
    @inline(__always)
    init(checking reader: ByteReader, at start: Int, wireEnd: Int) throws(DecodeError) {
        guard reader.has(Layout.headerLength, at: start) else {
            throw DecodeError(.truncated, .udp, "captured bytes end inside the 8-byte UDP header")
        }
        let bytes = reader.header(at: start, length: Layout.headerLength)
        let onWire = wireEnd - start
        let field = Int(bytes[Layout.length])
        let length = field == 0 ? onWire : field
        guard length >= Layout.headerLength else {
            throw DecodeError(.malformed, .udp, "UDP length is smaller than the 8-byte UDP header")
        }
        guard length <= onWire else {
            throw DecodeError(.malformed, .udp, "UDP length is larger than the IP payload")
        }
        self.start = start
        self.bytes = bytes
        datagramLength = length
    }

    @inline(__always) var sourcePort: UInt16 { bytes[Layout.sourcePort] }
    @inline(__always) var destinationPort: UInt16 { bytes[Layout.destinationPort] }
    /// Just past the datagram, by its length field.
    @inline(__always) var datagramEnd: Int { start + datagramLength }
}
