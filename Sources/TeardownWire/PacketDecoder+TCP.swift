/// TCP header (RFC 9293 §3.1).
enum TCPLayout {
    static let sourcePort = 0
    static let destinationPort = 2
    static let sequenceNumber = 4
    static let acknowledgmentNumber = 8
    /// Data offset (high nibble), reserved bits, and AE (low bit; RFC 9768, formerly NS).
    static let dataOffsetAndAE = 12
    /// CWR ECE URG ACK PSH RST SYN FIN, high bit to low.
    static let controlBits = 13
    static let window = 14
    static let checksum = 16
    static let urgentPointer = 18
    /// The fixed part; options follow, up to data offset * 4 bytes (at most 60).
    static let minimumLength = 20
    static let minimumDataOffset: UInt8 = 5
    static let aeBit: UInt8 = 0x01
}

/// Lengths of the TCP options this decoder interprets, kind and length bytes included.
enum TCPOptionLength {
    static let header = 2                 // kind + length
    static let maximumSegmentSize = 4     // RFC 9293 §3.2
    static let windowScale = 3            // RFC 7323 §2.2
    static let sackPermitted = 2          // RFC 2018 §2
    static let sackBlock = 8              // RFC 2018 §3: n blocks make 2 + 8n bytes
    static let timestamps = 10            // RFC 7323 §3.2
}

extension Packet {
    /// The TCP header at `ip.segmentStart` (RFC 9293 §3.1), whose segment is `ip.segmentLength`
    /// bytes long by the IP length fields.
    ///
    /// The payload length is the IP's segment length minus the TCP header length, never the
    /// captured length; `isTruncated` says the capture holds less than the whole segment.
    @inline(__always)
    func decodeTCP(_ ip: IPContext, into segment: inout TCPSegment) -> DecodeResult {
        let start = ip.segmentStart
        guard ip.segmentLength >= TCPLayout.minimumLength else {
            return .malformed(.tcp, "IP payload is shorter than the 20-byte minimum TCP header")
        }
        guard reader.has(TCPLayout.minimumLength, at: start),
              let sourcePort = reader.u16(at: start &+ TCPLayout.sourcePort),
              let destinationPort = reader.u16(at: start &+ TCPLayout.destinationPort),
              let sequence = reader.u32(at: start &+ TCPLayout.sequenceNumber),
              let acknowledgment = reader.u32(at: start &+ TCPLayout.acknowledgmentNumber),
              let offsetByte = reader.u8(at: start &+ TCPLayout.dataOffsetAndAE),
              let controlBits = reader.u8(at: start &+ TCPLayout.controlBits),
              let window = reader.u16(at: start &+ TCPLayout.window)
        else {
            return .truncated(.tcp, "captured bytes end inside the 20-byte TCP header")
        }
        let dataOffset = offsetByte >> 4
        guard dataOffset >= TCPLayout.minimumDataOffset else {
            return .malformed(.tcp, "TCP data offset is below the minimum of 5 words (20 bytes)")
        }
        let headerLength = Int(dataOffset) &* 4
        guard headerLength <= ip.segmentLength else {
            return .malformed(.tcp, "TCP data offset points past the end of the IP payload")
        }
        // Written field by field into `segment`, so the 131-byte value is never copied here.
        segment.options = TCPOptions()
        if reader.has(headerLength, at: start) {
            if headerLength == TCPLayout.minimumLength &+ 12, let tsval = timestampsOnly(at: start &+ TCPLayout.minimumLength) {
                // NOP, NOP, timestamps: what Linux puts on every segment after the handshake
                // (RFC 7323 Appendix A's layout), read without walking the list. The general
                // walk below gives the same options for these 12 bytes.
                segment.options.timestampValue = tsval.value
                segment.options.timestampEcho = tsval.echo
            } else if headerLength > TCPLayout.minimumLength {
                if let error = parseOptions(from: start &+ TCPLayout.minimumLength, to: start &+ headerLength,
                                            into: &segment.options) {
                    return .invalid(error)
                }
            }
        } else {
            // Snaplen cut the options (the IP layer has checked the lengths against the wire):
            // the fixed header is whole, so the segment counts, as tcpdump prints it with
            // `[|tcp]`. Options are kept as far as they were captured; a cut one is dropped.
            _ = parseOptions(from: start &+ TCPLayout.minimumLength, to: reader.count, into: &segment.options)
        }
        segment.source = Endpoint(address: ip.source, port: sourcePort)
        segment.destination = Endpoint(address: ip.destination, port: destinationPort)
        segment.sequenceNumber = SequenceNumber(sequence)
        segment.acknowledgmentNumber = SequenceNumber(acknowledgment)
        segment.flags = TCPFlags(rawValue: UInt16(offsetByte & TCPLayout.aeBit) << 8 | UInt16(controlBits))
        segment.window = window
        segment.payloadLength = ip.segmentLength &- headerLength
        segment.isTruncated = reader.count &- start < ip.segmentLength
        segment.ipVersion = ip.ipVersion
        segment.hopLimit = ip.hopLimit
        return .tcp
    }

    /// The timestamps in 12 captured option bytes at `offset` when they are exactly NOP, NOP,
    /// timestamps (kind 8, length 10); nil for any other layout.
    @inline(__always)
    func timestampsOnly(at offset: Int) -> (value: UInt32, echo: UInt32)? {
        guard let head = reader.u32(at: offset), head == 0x0101_080A,
              let value = reader.u32(at: offset &+ 4), let echo = reader.u32(at: offset &+ 8) else { return nil }
        return (value, echo)
    }

    /// Parses the options in `[start, end)`, all of which were captured (RFC 9293 §3.2).
    ///
    /// EOL ends the list; NOP is one byte; every other kind has a length byte that counts the
    /// kind and length bytes. A length below 2 or one that runs past the header makes the
    /// segment malformed (the list cannot be walked any further), and so does a known kind
    /// with a length its RFC does not allow. Unknown kinds are counted and skipped.
    /// Returns nil on success.
    @inline(__always)
    func parseOptions(from start: Int, to end: Int, into options: inout TCPOptions) -> DecodeError? {
        var offset = start
        while offset < end {
            guard let kindByte = reader.u8(at: offset) else { return optionError(.pastEnd, .endOfList) }
            let kind = TCPOptionKind(rawValue: kindByte)
            switch kind {
            case .endOfList:
                return nil
            case .noOperation:
                offset &+= 1
                continue
            default:
                break
            }
            guard offset &+ 1 < end, let lengthByte = reader.u8(at: offset &+ 1) else {
                return optionError(.pastEnd, kind)
            }
            let length = Int(lengthByte)
            guard length >= TCPOptionLength.header else { return optionError(.lengthBelowTwo, kind) }
            guard length <= end &- offset else { return optionError(.pastEnd, kind) }
            let value = offset &+ TCPOptionLength.header
            switch kind {
            case .maximumSegmentSize:
                guard length == TCPOptionLength.maximumSegmentSize, let mss = reader.u16(at: value) else {
                    return optionError(.wrongLength, kind)
                }
                options.mss = mss
            case .windowScale:
                guard length == TCPOptionLength.windowScale, let shift = reader.u8(at: value) else {
                    return optionError(.wrongLength, kind)
                }
                options.windowScale = shift
            case .sackPermitted:
                guard length == TCPOptionLength.sackPermitted else { return optionError(.wrongLength, kind) }
                options.sackPermitted = true
            case .sack:
                let blockBytes = length &- TCPOptionLength.header
                guard blockBytes >= TCPOptionLength.sackBlock, blockBytes % TCPOptionLength.sackBlock == 0 else {
                    return optionError(.wrongLength, kind)
                }
                var block = value
                while block < offset &+ length {
                    guard let left = reader.u32(at: block), let right = reader.u32(at: block &+ 4) else {
                        return optionError(.pastEnd, kind)
                    }
                    options.appendSACK(SACKBlock(left: SequenceNumber(left), right: SequenceNumber(right)))
                    block &+= TCPOptionLength.sackBlock
                }
            case .timestamps:
                guard length == TCPOptionLength.timestamps,
                      let tsval = reader.u32(at: value), let tsecr = reader.u32(at: value &+ 4) else {
                    return optionError(.wrongLength, kind)
                }
                options.timestampValue = tsval
                options.timestampEcho = tsecr
            default:
                if options.firstUnknownKind == nil { options.firstUnknownKind = kind }
                if options.unknownCount < UInt8.max { options.unknownCount &+= 1 }
            }
            offset &+= length
        }
        return nil
    }

    enum OptionProblem { case lengthBelowTwo, pastEnd, wrongLength }

    /// A malformed-TCP error naming the option and what was wrong with it (static strings).
    func optionError(_ problem: OptionProblem, _ kind: TCPOptionKind) -> DecodeError {
        let reason: StaticString
        switch (problem, kind) {
        case (.lengthBelowTwo, .maximumSegmentSize): reason = "MSS option has a length below 2"
        case (.lengthBelowTwo, .windowScale): reason = "window scale option has a length below 2"
        case (.lengthBelowTwo, .sackPermitted): reason = "SACK-permitted option has a length below 2"
        case (.lengthBelowTwo, .sack): reason = "SACK option has a length below 2"
        case (.lengthBelowTwo, .timestamps): reason = "timestamps option has a length below 2"
        case (.lengthBelowTwo, _): reason = "option of an unknown kind has a length below 2"
        case (.pastEnd, .maximumSegmentSize): reason = "MSS option runs past the end of the TCP header"
        case (.pastEnd, .windowScale): reason = "window scale option runs past the end of the TCP header"
        case (.pastEnd, .sackPermitted): reason = "SACK-permitted option runs past the end of the TCP header"
        case (.pastEnd, .sack): reason = "SACK option runs past the end of the TCP header"
        case (.pastEnd, .timestamps): reason = "timestamps option runs past the end of the TCP header"
        case (.pastEnd, _): reason = "option of an unknown kind runs past the end of the TCP header"
        case (.wrongLength, .maximumSegmentSize): reason = "MSS option length is not 4"
        case (.wrongLength, .windowScale): reason = "window scale option length is not 3"
        case (.wrongLength, .sackPermitted): reason = "SACK-permitted option length is not 2"
        case (.wrongLength, .sack): reason = "SACK option length is not 2 + 8n for n = 1...4"
        case (.wrongLength, .timestamps): reason = "timestamps option length is not 10"
        case (.wrongLength, _): reason = "option has a length its kind does not allow"
        }
        return DecodeError(.malformed, .tcp, reason)
    }
}
