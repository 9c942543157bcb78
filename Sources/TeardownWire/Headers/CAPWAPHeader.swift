/// A CAPWAP data channel header (RFC 5415 §4.3) with its preamble (§4.1): version and type
/// (0: the CAPWAP header follows; 1: a DTLS record, encrypted), then HLEN (the header's length
/// in 4-byte words, optional radio MAC address and wireless information included), RID, WBID,
/// the T (native frame format of WBID, else IEEE 802.3), F (fragment), L, W, M and K
/// (keep-alive) flags, and the fragment ID and offset.
struct CAPWAPHeader: HeaderView {
    enum Layout {
        static let preambleAndFlags = Field<UInt32>(at: 0)
        static let preambleShift: UInt32 = 24
        static let hlenShift: UInt32 = 19
        static let hlenMask: UInt32 = 0x1F
        static let wbidShift: UInt32 = 9
        static let wbidMask: UInt32 = 0x1F
        static let typeFlag: UInt32 = 1 << 8
        static let fragmentFlag: UInt32 = 1 << 7
        static let keepAliveFlag: UInt32 = 1 << 3
        static let wordLength = 4
        /// Preamble, flags, fragment ID and offset.
        static let minimumLength = 8
    }

    /// Preamble version 0, type 0: a clear CAPWAP header (RFC 5415 §4.1).
    static let clearPreamble: UInt8 = 0
    /// Wireless binding 1: IEEE 802.11 (RFC 5415 §4.3).
    static let ieee80211Binding: UInt32 = 1

    let start: Int
    let bytes: HeaderBytes

    /// Checks that the first word was captured (else truncated); for a clear preamble, that
    /// HLEN covers the 8 fixed bytes and fits in the UDP payload (else malformed) and that the
    /// header was captured (else truncated). A DTLS preamble leaves a view of the first word.
    @inline(__always)
    init(checking reader: ByteReader, at start: Int, wireEnd: Int) throws(DecodeError) {
        guard reader.has(Layout.preambleAndFlags.end, at: start) else {
            throw DecodeError(.truncated, .capwap, "captured bytes end inside the CAPWAP header")
        }
        let word = reader.header(at: start, length: Layout.preambleAndFlags.end)[Layout.preambleAndFlags]
        var length = Layout.preambleAndFlags.end
        if UInt8(truncatingIfNeeded: word >> Layout.preambleShift) == Self.clearPreamble {
            length = Int((word >> Layout.hlenShift) & Layout.hlenMask) * Layout.wordLength
            guard length >= Layout.minimumLength else {
                throw DecodeError(.malformed, .capwap, "CAPWAP header length (HLEN) is below its 8 fixed bytes")
            }
            guard length <= wireEnd - start else {
                throw DecodeError(.malformed, .capwap, "CAPWAP header runs past the UDP payload")
            }
            guard reader.has(length, at: start) else {
                throw DecodeError(.truncated, .capwap, "captured bytes end inside the CAPWAP header")
            }
        }
        self.start = start
        bytes = reader.header(at: start, length: length)
    }

    @inline(__always) private var word: UInt32 { bytes[Layout.preambleAndFlags] }
    @inline(__always) var preamble: UInt8 { UInt8(truncatingIfNeeded: word >> Layout.preambleShift) }
    @inline(__always) var wirelessBinding: UInt32 { (word >> Layout.wbidShift) & Layout.wbidMask }
    /// T: the payload is in the binding's native format (802.11), not IEEE 802.3.
    @inline(__always) var isNativeFrame: Bool { word & Layout.typeFlag != 0 }
    @inline(__always) var isFragment: Bool { word & Layout.fragmentFlag != 0 }
    @inline(__always) var isKeepAlive: Bool { word & Layout.keepAliveFlag != 0 }
}
