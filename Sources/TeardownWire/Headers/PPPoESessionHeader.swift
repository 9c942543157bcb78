/// A PPPoE session-stage header (RFC 2516 §4): version and type (both 1), code 0, the
/// session ID and the length of the PPP payload; a PPP protocol field follows.
struct PPPoESessionHeader: FixedLengthHeader {
    enum Layout {
        static let versionAndType = Field<UInt8>(at: 0)
        static let code = Field<UInt8>(at: 1)
        static let sessionID = Field<UInt16>(at: 2)
        static let payloadLength = Field<UInt16>(at: 4)
        static let length = 6
        /// Version 1, type 1 (RFC 2516 §4).
        static let versionOneTypeOne: UInt8 = 0x11
        /// A session-stage packet's code (RFC 2516 §5.5).
        static let sessionData: UInt8 = 0x00
    }

    let start: Int
    let bytes: HeaderBytes

    static var length: Int { Layout.length }
    static var truncatedReason: StaticString { "captured bytes end inside the 6-byte PPPoE header" }

    /// Whether this is a version-1 session packet; anything else carries no PPP frame that
    /// RFC 2516 defines.
    @inline(__always) var isSessionData: Bool {
        bytes[Layout.versionAndType] == Layout.versionOneTypeOne && bytes[Layout.code] == Layout.sessionData
    }
    @inline(__always) var sessionID: UInt16 { bytes[Layout.sessionID] }
    @inline(__always) var payloadLength: UInt16 { bytes[Layout.payloadLength] }
}
