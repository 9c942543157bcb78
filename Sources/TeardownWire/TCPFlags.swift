/// The TCP control bits (RFC 9293 §3.1), plus AE (RFC 9768, the former NS bit).
public struct TCPFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }

    @inlinable public static var fin: TCPFlags { TCPFlags(rawValue: 0x001) }
    @inlinable public static var syn: TCPFlags { TCPFlags(rawValue: 0x002) }
    @inlinable public static var rst: TCPFlags { TCPFlags(rawValue: 0x004) }
    @inlinable public static var psh: TCPFlags { TCPFlags(rawValue: 0x008) }
    @inlinable public static var ack: TCPFlags { TCPFlags(rawValue: 0x010) }
    @inlinable public static var urg: TCPFlags { TCPFlags(rawValue: 0x020) }
    @inlinable public static var ece: TCPFlags { TCPFlags(rawValue: 0x040) }
    @inlinable public static var cwr: TCPFlags { TCPFlags(rawValue: 0x080) }
    @inlinable public static var ae: TCPFlags { TCPFlags(rawValue: 0x100) }

    /// tcpdump's flag table (print-tcp.c `tcp_flag_values`): the letter of each control bit it
    /// prints, from bit 0 up, which is also the order it prints them in: `F` FIN, `S` SYN,
    /// `R` RST, `P` PSH, `.` ACK, `U` URG, `E` ECE, `W` CWR. AE (bit 8) has no letter, in
    /// tcpdump as here. Every spelling of the flags reads this table: `tcpdumpString`, the
    /// renderers' byte writer and the timeline's column widths.
    @inlinable public static var tcpdumpLetters: StaticString { "FSRP.UEW" }

    /// What tcpdump prints when no flag with a letter is set.
    @inlinable public static var tcpdumpNone: StaticString { "none" }

    /// The set flags that have a letter in `tcpdumpLetters`.
    @inlinable public var lettered: TCPFlags {
        TCPFlags(rawValue: rawValue & (1 << UInt16(TCPFlags.tcpdumpLetters.utf8CodeUnitCount) - 1))
    }

    /// Calls `body` with the letter of each set flag, in tcpdump's order (none when no
    /// lettered flag is set: the caller then writes `tcpdumpNone`).
    @inlinable public func forEachTcpdumpLetter(_ body: (UInt8) -> Void) {
        let letters = TCPFlags.tcpdumpLetters.utf8Start
        var bits = lettered.rawValue
        while bits != 0 {
            body(letters[bits.trailingZeroBitCount])
            bits &= bits &- 1
        }
    }

    /// tcpdump's flag string without brackets: `S`, `S.`, `P.`, `F.`, `R.`, `R`, `.`, `FP.`, `S.E` ...
    /// (`tcpdumpLetters`), or `none`.
    public var tcpdumpString: String {
        guard !lettered.isEmpty else { return TCPFlags.tcpdumpNone.description }
        var s = ""
        forEachTcpdumpLetter { s.unicodeScalars.append(Unicode.Scalar($0)) }
        return s
    }
}
