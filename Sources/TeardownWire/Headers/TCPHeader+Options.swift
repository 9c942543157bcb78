/// A TCP option (RFC 9293 §3.2): its kind, its length (counting the kind and length bytes),
/// and for the options this decoder interprets, their values, from the option's first byte.
enum TCPOptionLayout {
    static let kind = Field<UInt8>(at: 0)
    static let length = Field<UInt8>(at: 1)
    static let maximumSegmentSize = Field<UInt16>(at: 2)     // RFC 9293 §3.2
    static let windowScaleShift = Field<UInt8>(at: 2)        // RFC 7323 §2.2
    static let timestampValue = Field<UInt32>(at: 2)         // RFC 7323 §3.2
    static let timestampEcho = Field<UInt32>(at: 6)
    /// Where a SACK option's first block starts (RFC 2018 §3).
    static let firstSACKBlock = 2
    /// NOP, NOP, timestamps (kind 8, length 10): the four bytes that start the options of every
    /// segment Linux sends after the handshake (RFC 7323 Appendix A's layout).
    static let nopNopTimestamps: UInt32 = 0x0101_080A
}

/// One SACK block (RFC 2018 §3): the left edge and the right edge of a received range.
enum SACKBlockLayout {
    static let leftEdge = Field<UInt32>(at: 0)
    static let rightEdge = Field<UInt32>(at: 4)
}

/// Lengths of the TCP options this decoder interprets, kind and length bytes included.
enum TCPOptionLength {
    static let header = 2                 // kind + length
    static let maximumSegmentSize = 4     // RFC 9293 §3.2
    static let windowScale = 3            // RFC 7323 §2.2
    static let sackPermitted = 2          // RFC 2018 §2
    static let sackBlock = 8              // RFC 2018 §3: n blocks make 2 + 8n bytes
    static let timestamps = 10            // RFC 7323 §3.2
    /// NOP, NOP and the timestamps option.
    static let nopNopTimestamps = 12
}

extension TCPHeader {
    /// The options, decoded into `options` as far as they were captured (RFC 9293 §3.2).
    ///
    /// EOL ends the list; NOP is one byte; every other kind has a length byte that counts the
    /// kind and length bytes. A length below 2 or one that runs past the captured options makes
    /// the list malformed (it cannot be walked any further), and so does a known kind with a
    /// length its RFC does not allow. Unknown kinds are counted and skipped. Returns nil when
    /// every captured option was read; when snaplen cut the options, the cut one is where the
    /// walk stops and the error says so, but the options before it are kept.
    @inline(__always)
    func parseOptions(into options: inout TCPOptions) -> DecodeError? {
        options = TCPOptions()
        if optionsAreWhole && headerLength == Layout.minimumLength + TCPOptionLength.nopNopTimestamps
            && bytes.read(UInt32.self, at: Layout.minimumLength) == TCPOptionLayout.nopNopTimestamps {
            // What Linux puts on every segment after the handshake, read without walking the
            // list; the walk below gives the same options for these 12 bytes.
            let timestamps = Layout.minimumLength + 2
            options.timestampValue = bytes[TCPOptionLayout.timestampValue, from: timestamps]
            options.timestampEcho = bytes[TCPOptionLayout.timestampEcho, from: timestamps]
            return nil
        }
        // Every read below lies in [offset, offset + length), which is inside `bytes`.
        let end = bytes.count
        var offset = Layout.minimumLength
        while offset < end {
            let kind = TCPOptionKind(rawValue: bytes[TCPOptionLayout.kind, from: offset])
            switch kind {
            case .endOfList:
                return nil
            case .noOperation:
                offset += 1
                continue
            default:
                break
            }
            guard offset + TCPOptionLayout.length.offset < end else { return optionError(.pastEnd, kind) }
            let length = Int(bytes[TCPOptionLayout.length, from: offset])
            guard length >= TCPOptionLength.header else { return optionError(.lengthBelowTwo, kind) }
            guard length <= end - offset else { return optionError(.pastEnd, kind) }
            switch kind {
            case .maximumSegmentSize:
                guard length == TCPOptionLength.maximumSegmentSize else { return optionError(.wrongLength, kind) }
                options.mss = bytes[TCPOptionLayout.maximumSegmentSize, from: offset]
            case .windowScale:
                guard length == TCPOptionLength.windowScale else { return optionError(.wrongLength, kind) }
                options.windowScale = bytes[TCPOptionLayout.windowScaleShift, from: offset]
            case .sackPermitted:
                guard length == TCPOptionLength.sackPermitted else { return optionError(.wrongLength, kind) }
                options.sackPermitted = true
            case .sack:
                let blockBytes = length - TCPOptionLength.header
                guard blockBytes >= TCPOptionLength.sackBlock, blockBytes % TCPOptionLength.sackBlock == 0 else {
                    return optionError(.wrongLength, kind)
                }
                var block = offset + TCPOptionLayout.firstSACKBlock
                while block < offset + length {
                    options.appendSACK(SACKBlock(left: SequenceNumber(bytes[SACKBlockLayout.leftEdge, from: block]),
                                                 right: SequenceNumber(bytes[SACKBlockLayout.rightEdge, from: block])))
                    block += TCPOptionLength.sackBlock
                }
            case .timestamps:
                guard length == TCPOptionLength.timestamps else { return optionError(.wrongLength, kind) }
                options.timestampValue = bytes[TCPOptionLayout.timestampValue, from: offset]
                options.timestampEcho = bytes[TCPOptionLayout.timestampEcho, from: offset]
            default:
                if options.firstUnknownKind == nil { options.firstUnknownKind = kind }
                if options.unknownCount < UInt8.max { options.unknownCount += 1 }
            }
            offset += length
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
