/// A TCP header (RFC 9293 §3.1): the fixed part, and as many option bytes as were captured.
struct TCPHeader: HeaderView {
    enum Layout {
        static let sourcePort = Field<UInt16>(at: 0)
        static let destinationPort = Field<UInt16>(at: 2)
        static let sequenceNumber = Field<UInt32>(at: 4)
        static let acknowledgmentNumber = Field<UInt32>(at: 8)
        /// Data offset (high nibble), reserved bits, and AE (low bit; RFC 9768, formerly NS).
        static let dataOffsetAndAE = Field<UInt8>(at: 12)
        /// CWR ECE URG ACK PSH RST SYN FIN, high bit to low.
        static let controlBits = Field<UInt8>(at: 13)
        static let window = Field<UInt16>(at: 14)
        static let checksum = Field<UInt16>(at: 16)
        static let urgentPointer = Field<UInt16>(at: 18)
        /// The fixed part; options follow, up to data offset * 4 bytes (at most 60).
        static let minimumLength = 20
        static let dataOffsetShift: UInt8 = 4
        static let minimumDataOffset: UInt8 = 5
        static let bytesPerDataOffsetWord = 4
        static let aeBit: UInt8 = 0x01
    }

    let start: Int
    /// The fixed header and the options as far as they were captured: `headerLength` bytes,
    /// or fewer when snaplen cut the options.
    let bytes: HeaderBytes
    /// The header's length by its data offset: 20 to 60 bytes, within the segment.
    let headerLength: Int

    /// Checks a header at `start` whose segment (header and payload) is `segmentLength` bytes
    /// long by the IP length fields: the segment can hold the fixed header (else malformed), the
    /// fixed header was captured (else truncated), the data offset is at least 5 words and
    /// within the segment (else malformed).
    ///
    /// Options cut by snaplen do not fail the check: the fixed header is whole, so the segment
    /// counts, as tcpdump prints it with `[|tcp]`; `optionsAreWhole` tells.
    @inline(__always)
    init(checking reader: ByteReader, at start: Int, segmentLength: Int) throws(DecodeError) {
        guard segmentLength >= Layout.minimumLength else {
            throw DecodeError(.malformed, .tcp, "IP payload is shorter than the 20-byte minimum TCP header")
        }
        guard reader.has(Layout.minimumLength, at: start) else {
            throw DecodeError(.truncated, .tcp, "captured bytes end inside the 20-byte TCP header")
        }
        let fixed = reader.header(at: start, length: Layout.minimumLength)
        let dataOffset = fixed[Layout.dataOffsetAndAE] >> Layout.dataOffsetShift
        guard dataOffset >= Layout.minimumDataOffset else {
            throw DecodeError(.malformed, .tcp, "TCP data offset is below the minimum of 5 words (20 bytes)")
        }
        let headerLength = Int(dataOffset) * Layout.bytesPerDataOffsetWord
        guard headerLength <= segmentLength else {
            throw DecodeError(.malformed, .tcp, "TCP data offset points past the end of the IP payload")
        }
        self.start = start
        self.headerLength = headerLength
        bytes = reader.has(headerLength, at: start)
            ? reader.header(at: start, length: headerLength)
            : reader.header(at: start, length: reader.count - start)
    }

    @inline(__always) var sourcePort: UInt16 { bytes[Layout.sourcePort] }
    @inline(__always) var destinationPort: UInt16 { bytes[Layout.destinationPort] }
    @inline(__always) var sequenceNumber: SequenceNumber { SequenceNumber(bytes[Layout.sequenceNumber]) }
    @inline(__always) var acknowledgmentNumber: SequenceNumber { SequenceNumber(bytes[Layout.acknowledgmentNumber]) }
    /// The eight control bits, and AE from the byte before them.
    @inline(__always) var flags: TCPFlags {
        TCPFlags(rawValue: UInt16(bytes[Layout.dataOffsetAndAE] & Layout.aeBit) << 8 | UInt16(bytes[Layout.controlBits]))
    }
    @inline(__always) var window: UInt16 { bytes[Layout.window] }
    /// Whether every option byte was captured.
    @inline(__always) var optionsAreWhole: Bool { bytes.count == headerLength }
}
