import TeardownWire

/// Number and time formatting shared by the renderers, without Foundation.
///
/// Everything here is exact integer arithmetic: no `Double` ever touches a timestamp, so
/// the nanoseconds a capture recorded are the nanoseconds printed.
public enum Format {
    /// `29994` → `29,994`, for any integer: the grouping the experiments and the command line
    /// print, as the renderers do.
    public static func thousands<T: BinaryInteger>(_ v: T) -> String {
        guard let m = UInt64(exactly: v.magnitude) else {
            // Beyond 64 bits: group the decimal digits.
            let digits = Array(String(v.magnitude))
            var out = v < 0 ? "-" : ""
            for (i, d) in digits.enumerated() {
                if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
                out.append(d)
            }
            return out
        }
        return ByteCursor.string { c in
            if v < 0 { c.write(UInt8(ascii: "-")) }
            c.writeGrouped(m)
        }
    }

    /// `1234567` → `1,234,567` (`ByteCursor.writeGrouped`), for text built as a String.
    static func grouped(_ value: UInt64) -> String { ByteCursor.string { $0.writeGrouped(value) } }

    /// `a - b` in nanoseconds, clamped instead of trapping on absurd timestamps.
    static func difference(_ a: Timestamp, _ b: Timestamp) -> Int64 {
        let (d, overflow) = a.nanoseconds.subtractingReportingOverflow(b.nanoseconds)
        if overflow { return a.nanoseconds < b.nanoseconds ? Int64.min + 1 : Int64.max }
        return d
    }
}

/// Calendar time in UTC from nanoseconds since the epoch: civil-from-days after H. Hinnant,
/// "chrono-Compatible Low-Level Date Algorithms".
enum CivilTime {
    /// The date, the second of the day and the nanoseconds within the second.
    static func utc(_ t: Timestamp) -> (year: Int64, month: Int64, day: Int64, secondOfDay: Int64, nanoseconds: Int64) {
        let ns = t.nanoseconds
        var secs = ns / 1_000_000_000
        var sub = ns % 1_000_000_000
        if sub < 0 { sub += 1_000_000_000; secs -= 1 }
        var days = secs / 86_400
        var sod = secs % 86_400
        if sod < 0 { sod += 86_400; days -= 1 }
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day, sod, sub)
    }
}

/// The byte-level formatters: `--summary` and JSON Lines print a line per connection of
/// captures with hundreds of thousands of them, and building Strings for each cell cost more
/// than the connection model.
extension ByteCursor {
    /// `value` in decimal, at least `width` digits (zero-padded): the length known first
    /// (`Width.digits`), then the digits stored in place from the right, two at a time.
    mutating func writeDecimal(_ value: UInt64, width: Int = 1) {
        if value < 10 && width <= 1 {   // most counts in a line: one digit
            write(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value))
            return
        }
        let length = max(Width.digits(value), width)
        guard let p = claim(length) else { return }
        var i = length, v = value
        while v >= 100 {
            i &-= 2
            Self.storeTwoDigits(v % 100, at: p + i)
            v /= 100
        }
        if v >= 10 {
            i &-= 2
            Self.storeTwoDigits(v, at: p + i)
        } else {
            i &-= 1
            p[i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v)
        }
        while i > 0 { i &-= 1; p[i] = UInt8(ascii: "0") }
    }

    /// The last `count` decimal digits of `value`, zeros included: `(1500, 6)` → `001500`.
    /// For fractions, which the caller keeps below 10^`count`: no digits to count first.
    mutating func writeDigits(_ value: UInt64, exactly count: Int) {
        guard count > 0, let p = claim(count) else { return }
        var i = count, v = value
        // Four digits a step (one 64-bit division, the two pairs from 32-bit arithmetic): a
        // fraction's count is fixed, 6 or 9, where writeDecimal's numbers are mostly short.
        while i >= 4 {
            let rest = v / 10_000
            i &-= 4
            Self.storeFourDigits(UInt32(truncatingIfNeeded: v &- rest &* 10_000), at: p + i)
            v = rest
        }
        while i >= 2 {
            i &-= 2
            Self.storeTwoDigits(v % 100, at: p + i)
            v /= 100
        }
        if i == 1 { p[0] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v % 10) }
    }

    /// Writes `v` (0...9999) as four digits at `p`: two pairs, split with 32-bit arithmetic.
    @inline(__always)
    static func storeFourDigits(_ v: UInt32, at p: UnsafeMutablePointer<UInt8>) {
        let high = v / 100
        storeTwoDigits(UInt64(high), at: p)
        storeTwoDigits(UInt64(v &- high &* 100), at: p + 2)
    }

    /// Writes `v` (0...99) as two digits at `p`, from the table `00` `01` … `99`: one load and
    /// one store where two divisions by 10 would do.
    @inline(__always)
    static func storeTwoDigits(_ v: UInt64, at p: UnsafeMutablePointer<UInt8>) {
        let pairs: StaticString = """
            00010203040506070809101112131415161718192021222324252627282930313233343536373839\
            40414243444546474849505152535455565758596061626364656667686970717273747576777879\
            8081828384858687888990919293949596979899
            """
        let table = UnsafeRawPointer(pairs.utf8Start)
        let pair = table.loadUnaligned(fromByteOffset: Int(truncatingIfNeeded: v) &* 2, as: UInt16.self)
        UnsafeMutableRawPointer(p).storeBytes(of: pair, as: UInt16.self)
    }

    /// The flags as tcpdump prints them between brackets (`S.`, `FP.`, `R`, `none`), from
    /// the flag table `TCPFlags.tcpdumpLetters`.
    @inline(__always)
    mutating func writeTcpdumpFlags(_ flags: TCPFlags) {
        guard !flags.lettered.isEmpty else { write(TCPFlags.tcpdumpNone); return }
        flags.forEachTcpdumpLetter { write($0) }
    }

    /// `value` in decimal with thousands separators: `1234567` → `1,234,567`. The length
    /// known first (the digits and a comma a full group after the first), then written in
    /// place from the right, a group of three at a time.
    mutating func writeGrouped(_ value: UInt64) {
        guard value >= 1000 else { writeDecimal(value); return }
        let digits = Width.digits(value)
        let length = digits &+ (digits &- 1) / 3
        guard let p = claim(length) else { return }
        var i = length, v = value
        while v >= 1000 {
            let rest = v / 1000
            let group = v &- rest &* 1000   // 0...999, written with its zeros
            let hundreds = group / 100
            i &-= 2
            Self.storeTwoDigits(group &- hundreds &* 100, at: p + i)
            i &-= 2
            p[i] = UInt8(ascii: ",")
            p[i &+ 1] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: hundreds)
            v = rest
        }
        // The first group, 1...999, without zeros in front: it ends at i.
        if v >= 100 {
            let hundreds = v / 100
            Self.storeTwoDigits(v &- hundreds &* 100, at: p + (i &- 2))
            p[i &- 3] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: hundreds)
        } else if v >= 10 {
            Self.storeTwoDigits(v, at: p + (i &- 2))
        } else {
            p[i &- 1] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v)
        }
    }

    /// `-1234` → `-1,234`: a minus sign, then the magnitude grouped.
    mutating func writeGrouped(signed value: Int64) {
        if value < 0 { write(UInt8(ascii: "-")) }
        writeGrouped(value.magnitude)
    }

    /// `String(value)`.
    mutating func writeInt(_ value: Int64) {
        if value < 0 { write(UInt8(ascii: "-")) }
        writeDecimal(value.magnitude)
    }

    /// `String(value)`.
    mutating func writeInt(_ value: Int) { writeInt(Int64(value)) }

    /// A call's duration in the unit that reads best: `850 ns`, `12 µs`, `1.234 ms`, `2.000000 s`.
    mutating func writeDuration(nanoseconds ns: Int64) {
        let m = ns.magnitude
        if m >= 1_000_000_000 {
            writeSeconds(nanoseconds: ns, decimals: 6)
            write(" s")
            return
        }
        if ns < 0 { write(UInt8(ascii: "-")) }
        if m < 1_000 {
            writeDecimal(m)
            write(" ns")
        } else if m < 1_000_000 {
            writeDecimal((m + 500) / 1_000)
            write(" µs")
        } else {
            let micros = (m + 500) / 1_000
            writeDecimal(micros / 1_000)
            write(UInt8(ascii: "."))
            writeDecimal(micros % 1_000, width: 3)
            write(" ms")
        }
    }

    /// UTC calendar time, `2024-05-01 12:00:00.123456 UTC`, from nanoseconds since the epoch
    /// (sub-microsecond digits are dropped, not rounded, so the second never rolls over).
    mutating func writeUTC(_ t: Timestamp) {
        let (year, month, day, sod, sub) = CivilTime.utc(t)
        writeInt(year)
        write(UInt8(ascii: "-"))
        writeDecimal(UInt64(clamping: month), width: 2)
        write(UInt8(ascii: "-"))
        writeDecimal(UInt64(clamping: day), width: 2)
        write(0x20)
        writeDecimal(UInt64(clamping: sod / 3600), width: 2)
        write(UInt8(ascii: ":"))
        writeDecimal(UInt64(clamping: sod % 3600 / 60), width: 2)
        write(UInt8(ascii: ":"))
        writeDecimal(UInt64(clamping: sod % 60), width: 2)
        write(UInt8(ascii: "."))
        writeDecimal(UInt64(clamping: sub) / 1_000, width: 6)
        write(" UTC")
    }

    /// Writes free text (file labels, notes, call strings, histories) made safe for a
    /// terminal: C0 controls, DEL and C1 controls become U+FFFD, so a hostile file name cannot
    /// inject escape sequences and the no-colour output never holds an escape byte (ECMA-48
    /// §5). Returns its width in columns, one per Unicode scalar (every glyph the renderers
    /// draw is single-width), with no String made.
    /// A C1 control U+0080...U+009F is the two bytes `C2 80`...`C2 9F` in UTF-8, and a
    /// String's UTF-8 is always valid, so it is recognised from its bytes.
    @discardableResult
    mutating func writeTerminalSafe(_ text: String) -> Int {
        var width = 0
        text.withUTF8Bytes { bytes in
            guard let base = bytes.baseAddress else { return }
            let n = bytes.count
            var run = 0   // start of the bytes not yet copied
            var i = 0
            let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
            while i < n {
                // Eight bytes at once while they are printable ASCII (most text is): none has
                // its high bit set, none is below 0x20, none is 0x7F (the "has a byte less than"
                // and "has a zero byte" tests of Anderson's Bit Twiddling Hacks).
                if n &- i >= 8 {
                    let x = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                    let del = x ^ (0x7F &* ones)
                    if (x | ((x &- 0x20 &* ones) & ~x) | ((del &- ones) & ~del)) & highs == 0 {
                        width &+= 8
                        i &+= 8
                        continue
                    }
                }
                let b = base.load(fromByteOffset: i, as: UInt8.self)
                if b >= 0x20 && b < 0x7F { width &+= 1; i &+= 1; continue }   // printable ASCII
                var control = 0
                if b < 0x20 || b == 0x7F {
                    control = 1
                } else if b == 0xC2, i &+ 1 < n {
                    let next = base.load(fromByteOffset: i &+ 1, as: UInt8.self)
                    if next >= 0x80 && next <= 0x9F { control = 2 }
                }
                if control > 0 {
                    write(UnsafeRawBufferPointer(start: base + run, count: i &- run))
                    write(0xEF, 0xBF)
                    write(0xBD)   // U+FFFD REPLACEMENT CHARACTER
                    width &+= 1
                    i &+= control
                    run = i
                } else {
                    if b & 0xC0 != 0x80 { width &+= 1 }
                    i &+= 1
                }
            }
            write(UnsafeRawBufferPointer(start: base + run, count: n &- run))
        }
        return width
    }

    /// Seconds with exactly `decimals` fraction digits (0...9), rounded half away from zero:
    /// `(1_500_000, 6)` → `0.001500`.
    mutating func writeSeconds(nanoseconds: Int64, decimals: Int) {
        let decimals = min(max(decimals, 0), 9)
        if decimals == 6 {   // the timeline's relative times, several a row: constant divisors
            let scaled = (nanoseconds.magnitude + 500) / 1_000
            if nanoseconds < 0 && scaled != 0 { write(UInt8(ascii: "-")) }
            writeDecimal(scaled / 1_000_000)
            write(UInt8(ascii: "."))
            writeDigits(scaled % 1_000_000, exactly: 6)
            return
        }
        var unit: UInt64 = 1
        for _ in 0..<(9 - decimals) { unit *= 10 }
        let magnitude = nanoseconds.magnitude
        // magnitude <= 2^63, so adding at most 5e8 cannot overflow a UInt64.
        let scaled = (magnitude + unit / 2) / unit
        var perSecond: UInt64 = 1
        for _ in 0..<decimals { perSecond *= 10 }
        if nanoseconds < 0 && scaled != 0 { write(UInt8(ascii: "-")) }
        writeDecimal(scaled / perSecond)
        if decimals > 0 {
            write(UInt8(ascii: "."))
            writeDigits(scaled % perSecond, exactly: decimals)
        }
    }
}
