/// A VXLAN header (RFC 7348 §5): flags (I, the VNI is valid, 0x08), 24 reserved bits, the
/// 24-bit VXLAN Network Identifier, 8 reserved bits; an Ethernet frame follows. As Wireshark
/// and Zeek do, the frame is read whatever the flags say.
struct VXLANHeader: HeaderView {
    enum Layout {
        static let flags = Field<UInt8>(at: 0)
        static let vniAndReserved = Field<UInt32>(at: 4)
        static let vniShift: UInt32 = 8
        static let length = 8
    }

    let start: Int
    let bytes: HeaderBytes

    @inline(__always)
    init(checking reader: ByteReader, at start: Int, wireEnd: Int) throws(DecodeError) {
        guard Layout.length <= wireEnd - start else {
            throw DecodeError(.malformed, .vxlan, "UDP payload is shorter than the 8-byte VXLAN header")
        }
        guard reader.has(Layout.length, at: start) else {
            throw DecodeError(.truncated, .vxlan, "captured bytes end inside the 8-byte VXLAN header")
        }
        self.start = start
        bytes = reader.header(at: start, length: Layout.length)
    }

    @inline(__always) var flags: UInt8 { bytes[Layout.flags] }
    @inline(__always) var vni: UInt32 { bytes[Layout.vniAndReserved] >> Layout.vniShift }
}

/// A Geneve header (RFC 8926 §3.4): version (2 bits) and options length (6 bits, in 4-byte
/// words), O and C flags, the protocol type of the payload (an EtherType: 0x6558 for Ethernet),
/// the 24-bit VNI, then the options, skipped by their length.
struct GeneveHeader: HeaderView {
    enum Layout {
        static let versionAndOptionsLength = Field<UInt8>(at: 0)
        static let protocolType = Field<UInt16>(at: 2)
        static let vniAndReserved = Field<UInt32>(at: 4)
        static let vniShift: UInt32 = 8
        static let versionShift: UInt8 = 6
        static let optionsLengthMask: UInt8 = 0x3F
        static let optionUnit = 4
        static let fixedLength = 8
    }

    static let version0: UInt8 = 0

    let start: Int
    /// The fixed part and the options.
    let bytes: HeaderBytes

    @inline(__always)
    init(checking reader: ByteReader, at start: Int, wireEnd: Int) throws(DecodeError) {
        guard reader.has(Layout.versionAndOptionsLength.end, at: start) else {
            throw DecodeError(.truncated, .geneve, "captured bytes end inside the 8-byte Geneve header")
        }
        let first = reader.header(at: start, length: Layout.versionAndOptionsLength.end)[Layout.versionAndOptionsLength]
        let length = Layout.fixedLength + Int(first & Layout.optionsLengthMask) * Layout.optionUnit
        guard length <= wireEnd - start else {
            throw DecodeError(.malformed, .geneve, "Geneve header and options run past the UDP payload")
        }
        guard reader.has(length, at: start) else {
            throw DecodeError(.truncated, .geneve, "captured bytes end inside the Geneve header or its options")
        }
        self.start = start
        bytes = reader.header(at: start, length: length)
    }

    @inline(__always) var version: UInt8 { bytes[Layout.versionAndOptionsLength] >> Layout.versionShift }
    @inline(__always) var protocolType: EtherType { EtherType(rawValue: bytes[Layout.protocolType]) }
    @inline(__always) var vni: UInt32 { bytes[Layout.vniAndReserved] >> Layout.vniShift }
}
