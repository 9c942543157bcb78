/// What precedes the IPv6 packet in a Teredo UDP payload (RFC 4380 §5.1.1): at most one
/// authentication indicator (type 0x0001: ID length, authentication-value length, client
/// identifier, authentication value, 8-byte nonce, confirmation byte), then at most one origin
/// indication (type 0x0000: obfuscated port and IPv4 address, 8 bytes), either or both left
/// out. As Zeek reads it (TeredoEncapsulation::DoParse), a payload that is not this shape
/// followed by an IPv6 version nibble is not Teredo. The indicators may be absent, so this is
/// not a `HeaderView` (whose bytes are never empty): it says where the IPv6 packet starts.
struct TeredoHeader {
    enum Layout {
        static let indicatorType = Field<UInt16>(at: 0)
        static let identifierLength = Field<UInt8>(at: 2)
        static let authenticationLength = Field<UInt8>(at: 3)
        /// Type, the two lengths, nonce and confirmation: the authentication indicator's fixed bytes.
        static let authenticationFixedLength = 4 + 8 + 1
        static let originLength = 8
    }

    static let origin: UInt16 = 0x0000
    static let authentication: UInt16 = 0x0001

    let start: Int
    /// Where the IPv6 packet starts.
    let end: Int

    /// The indicators at `start`, in a UDP payload that ends at `wireEnd`; nil when the payload
    /// is not Teredo's shape (an indicator twice, out of order, past the payload, or no IPv6
    /// version nibble after them). Throws truncated when the captured bytes end first.
    @inline(__always)
    static func locate(_ reader: ByteReader, at start: Int, wireEnd: Int) throws(DecodeError) -> TeredoHeader? {
        var offset = start
        var sawAuthentication = false, sawOrigin = false
        // At most two indicators, then the IPv6 header.
        for _ in 0..<3 {
            guard wireEnd - offset >= Layout.indicatorType.end else { return nil }
            guard reader.has(Layout.indicatorType.end, at: offset) else {
                throw DecodeError(.truncated, .teredo, "captured bytes end inside a Teredo indicator")
            }
            let head = reader.header(at: offset, length: Layout.indicatorType.end)
            let type = head[Layout.indicatorType]
            if type == Self.authentication {
                guard !sawAuthentication, !sawOrigin else { return nil }
                guard wireEnd - offset >= Layout.authenticationLength.end else { return nil }
                guard reader.has(Layout.authenticationLength.end, at: offset) else {
                    throw DecodeError(.truncated, .teredo, "captured bytes end inside a Teredo indicator")
                }
                let lengths = reader.header(at: offset, length: Layout.authenticationLength.end)
                let length = Layout.authenticationFixedLength + Int(lengths[Layout.identifierLength])
                    + Int(lengths[Layout.authenticationLength])
                guard wireEnd - offset >= length else { return nil }
                sawAuthentication = true
                offset += length
            } else if type == Self.origin {
                guard !sawOrigin else { return nil }
                guard wireEnd - offset >= Layout.originLength else { return nil }
                sawOrigin = true
                offset += Layout.originLength
            } else {
                guard IPVersion.of(head.read(UInt8.self, at: 0)) == IPVersion.v6 else { return nil }
                return TeredoHeader(start: start, end: offset)
            }
        }
        return nil
    }
}

/// An AYIYA header (draft-massar-v6ops-ayiya-02 §5): identity length (2^n bytes) and type,
/// signature length (n 4-byte words) and hash method, authentication method and operation
/// code, next header (an IP protocol), epoch time, then the identity and the signature; the
/// packet named by the next header follows. As Zeek does, only the forward operation (1)
/// carries a packet.
struct AYIYAHeader: HeaderView {
    enum Layout {
        static let identity = Field<UInt8>(at: 0)
        static let signature = Field<UInt8>(at: 1)
        static let operation = Field<UInt8>(at: 2)
        static let nextHeader = Field<UInt8>(at: 3)
        static let fixedLength = 8
        static let lengthShift: UInt8 = 4
        static let operationMask: UInt8 = 0x0F
        static let signatureUnit = 4
    }

    static let forward: UInt8 = 1

    let start: Int
    let bytes: HeaderBytes

    @inline(__always)
    init(checking reader: ByteReader, at start: Int, wireEnd: Int) throws(DecodeError) {
        guard reader.has(Layout.fixedLength, at: start) else {
            throw DecodeError(.truncated, .ayiya, "captured bytes end inside the 8-byte AYIYA header")
        }
        let fixed = reader.header(at: start, length: Layout.fixedLength)
        let length = Layout.fixedLength + 1 << Int(fixed[Layout.identity] >> Layout.lengthShift)
            + Int(fixed[Layout.signature] >> Layout.lengthShift) * Layout.signatureUnit
        guard length <= wireEnd - start else {
            throw DecodeError(.malformed, .ayiya, "AYIYA identity and signature run past the UDP payload")
        }
        guard reader.has(length, at: start) else {
            throw DecodeError(.truncated, .ayiya, "captured bytes end inside the AYIYA identity or signature")
        }
        self.start = start
        bytes = reader.header(at: start, length: length)
    }

    @inline(__always) var operation: UInt8 { bytes[Layout.operation] & Layout.operationMask }
    @inline(__always) var nextHeader: IPProtocol { IPProtocol(rawValue: bytes[Layout.nextHeader]) }
}
