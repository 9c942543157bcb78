/// The start of a PPP frame as LINKTYPE_PPP, a PPPoE session or PPTP's enhanced GRE carries it
/// (RFC 1661 §2, RFC 1662 §3.1):
/// the HDLC address and control bytes (0xFF 0x03), which Address-and-Control-Field-Compression
/// leaves out, then the protocol field, one byte under Protocol-Field-Compression (an odd first
/// byte: RFC 1661 §6.5) or two. As Wireshark reads it, either form is accepted.
struct PPPHeader: HeaderView {
    enum Layout {
        static let address: UInt8 = 0xFF
        static let control: UInt8 = 0x03
        static let addressAndControlLength = 2
        /// A protocol field whose first byte is odd is one byte long (compressed).
        static let compressedBit: UInt8 = 0x01
    }

    /// PPP protocol numbers (IANA "ppp-numbers").
    static let ipv4: UInt16 = 0x0021
    static let ipv6: UInt16 = 0x0057
    static let mplsUnicast: UInt16 = 0x0281
    static let mplsMulticast: UInt16 = 0x0283

    let start: Int
    /// Address and control (when present) and the protocol field.
    let bytes: HeaderBytes
    /// Where the protocol field starts within `bytes`.
    private let protocolOffset: Int

    @inline(__always)
    init(checking reader: ByteReader, at start: Int, wireEnd: Int) throws(DecodeError) {
        guard reader.has(1, at: start) else {
            throw DecodeError(.truncated, .ppp, "captured bytes end inside the PPP header")
        }
        var offset = 0
        if reader.header(at: start, length: 1).read(UInt8.self, at: 0) == Layout.address {
            guard reader.has(Layout.addressAndControlLength + 1, at: start) else {
                throw DecodeError(.truncated, .ppp, "captured bytes end inside the PPP header")
            }
            guard reader.header(at: start, length: Layout.addressAndControlLength).read(UInt8.self, at: 1)
                    == Layout.control else {
                throw DecodeError(.malformed, .ppp, "PPP address 0xFF is not followed by control 0x03")
            }
            offset = Layout.addressAndControlLength
        }
        guard reader.has(offset + 1, at: start) else {
            throw DecodeError(.truncated, .ppp, "captured bytes end inside the PPP header")
        }
        let first = reader.header(at: start, length: offset + 1).read(UInt8.self, at: offset)
        let length = offset + (first & Layout.compressedBit != 0 ? 1 : 2)
        guard length <= wireEnd - start else {
            throw DecodeError(.malformed, .ppp, "PPP header runs past the end of the packet or its enclosing payload")
        }
        guard reader.has(length, at: start) else {
            throw DecodeError(.truncated, .ppp, "captured bytes end inside the PPP header")
        }
        self.start = start
        bytes = reader.header(at: start, length: length)
        protocolOffset = offset
    }

    /// The protocol field, a compressed one widened (0x21 is 0x0021).
    @inline(__always) var `protocol`: UInt16 {
        bytes.count - protocolOffset == 1
            ? UInt16(bytes.read(UInt8.self, at: protocolOffset)) : bytes.read(UInt16.self, at: protocolOffset)
    }
}
