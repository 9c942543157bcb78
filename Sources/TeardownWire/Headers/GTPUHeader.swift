/// A GTPv1-U header (3GPP TS 29.281 §5): flags (version 1, protocol type 1 for GTP, E, S,
/// PN), message type (255: a G-PDU, which carries a user's packet), the length of what follows
/// the first 8 bytes, the tunnel endpoint identifier (TEID); when any of E, S, PN is set, a
/// sequence number, an N-PDU number and the type of the first extension header; then the
/// extension headers, each (length in 4-byte units, content, next type), the chain ending at
/// type 0. The user's IPv4 or IPv6 packet follows.
struct GTPUHeader: HeaderView {
    enum Layout {
        static let flags = Field<UInt8>(at: 0)
        static let messageType = Field<UInt8>(at: 1)
        static let length = Field<UInt16>(at: 2)
        static let teid = Field<UInt32>(at: 4)
        static let nextExtensionType = Field<UInt8>(at: 11)
        static let mandatoryLength = 8
        /// With E, S or PN set: sequence number, N-PDU number, next extension header type.
        static let optionalLength = 12
        static let versionShift: UInt8 = 5
        static let protocolTypeFlag: UInt8 = 0x10
        static let extensionFlag: UInt8 = 0x04
        static let optionalFlags: UInt8 = 0x07
        static let extensionUnit = 4
    }

    static let version1: UInt8 = 1
    /// G-PDU (TS 29.281 §6.1): a T-PDU, the user's packet, follows.
    static let gPDU: UInt8 = 255
    static let noMoreExtensions: UInt8 = 0

    let start: Int
    /// The header and its extension headers.
    let bytes: HeaderBytes
    /// Where the message ends, by the length field.
    let messageEnd: Int

    /// Checks the mandatory part (captured, else truncated; its length within the UDP payload,
    /// else malformed), then, for version 1 G-PDUs, the optional part and each extension header
    /// (captured, else truncated; within the message and of nonzero length, else malformed).
    /// Other versions and message types leave a view of the mandatory part, which the step
    /// refuses. The walk ends: each extension header is at least 4 captured bytes further on.
    @inline(__always)
    init(checking reader: ByteReader, at start: Int, wireEnd: Int) throws(DecodeError) {
        guard reader.has(Layout.mandatoryLength, at: start) else {
            throw DecodeError(.truncated, .gtpU, "captured bytes end inside the 8-byte GTP-U header")
        }
        let mandatory = reader.header(at: start, length: Layout.mandatoryLength)
        let messageEnd = start + Layout.mandatoryLength + Int(mandatory[Layout.length])
        guard messageEnd <= wireEnd else {
            throw DecodeError(.malformed, .gtpU, "GTP-U length is larger than the UDP payload")
        }
        let flags = mandatory[Layout.flags]
        var length = Layout.mandatoryLength
        if flags >> Layout.versionShift == Self.version1, flags & Layout.protocolTypeFlag != 0,
           mandatory[Layout.messageType] == Self.gPDU, flags & Layout.optionalFlags != 0 {
            length = Layout.optionalLength
            guard start + length <= messageEnd else {
                throw DecodeError(.malformed, .gtpU, "GTP-U optional fields run past the GTP-U length")
            }
            guard reader.has(length, at: start) else {
                throw DecodeError(.truncated, .gtpU, "captured bytes end inside the GTP-U header")
            }
            var next = flags & Layout.extensionFlag != 0
                ? reader.header(at: start, length: length)[Layout.nextExtensionType] : Self.noMoreExtensions
            while next != Self.noMoreExtensions {
                guard reader.has(1, at: start + length) else {
                    throw DecodeError(.truncated, .gtpU, "captured bytes end inside a GTP-U extension header")
                }
                let units = Int(reader.header(at: start + length, length: 1).read(UInt8.self, at: 0))
                guard units > 0 else {
                    throw DecodeError(.malformed, .gtpU, "GTP-U extension header has a length of 0")
                }
                let extensionLength = units * Layout.extensionUnit
                guard start + length + extensionLength <= messageEnd else {
                    throw DecodeError(.malformed, .gtpU, "GTP-U extension header runs past the GTP-U length")
                }
                guard reader.has(extensionLength, at: start + length) else {
                    throw DecodeError(.truncated, .gtpU, "captured bytes end inside a GTP-U extension header")
                }
                next = reader.header(at: start + length, length: extensionLength).read(UInt8.self, at: extensionLength - 1)
                length += extensionLength
            }
        }
        self.start = start
        bytes = reader.header(at: start, length: length)
        self.messageEnd = messageEnd
    }

    @inline(__always) var flags: UInt8 { bytes[Layout.flags] }
    @inline(__always) var version: UInt8 { flags >> Layout.versionShift }
    /// Protocol type 1 is GTP; 0 is GTP' (charging), which carries no user packets.
    @inline(__always) var isGTP: Bool { flags & Layout.protocolTypeFlag != 0 }
    @inline(__always) var messageType: UInt8 { bytes[Layout.messageType] }
    @inline(__always) var teid: UInt32 { bytes[Layout.teid] }
}
