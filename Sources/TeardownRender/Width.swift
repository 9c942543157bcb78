import TeardownWire

/// What the timeline's one-line texts (a packet's label, a fold's text, the title) are written
/// into: a `ByteCursor` writes their bytes, `Columns` counts the columns they would take. A
/// text written by one generic function through either has its width from the very code that
/// writes it, and the layout can measure every row before it writes the first.
protocol TextSink {
    /// A literal (every glyph one column).
    mutating func write(_ text: StaticString)
    /// One ASCII byte.
    mutating func write(_ byte: UInt8)
    /// ASCII bytes (an endpoint's text).
    mutating func write(_ bytes: UnsafeRawBufferPointer)
    mutating func writeInt(_ value: Int)
    mutating func writeGrouped(_ value: UInt64)
    mutating func writeGrouped(signed value: Int64)
    mutating func writeTcpdumpFlags(_ flags: TCPFlags)
}

extension ByteCursor: TextSink {}

/// Counts the columns a `TextSink` writer would write, writing nothing.
struct Columns: TextSink {
    private(set) var count = 0

    /// The columns `body` writes.
    @inline(__always)
    static func of(_ body: (inout Columns) -> Void) -> Int {
        var columns = Columns()
        body(&columns)
        return columns.count
    }

    /// A literal's Unicode scalars: its bytes that are not UTF-8 continuation bytes (for a
    /// literal written in line, a constant).
    @inline(__always)
    mutating func write(_ text: StaticString) {
        guard text.hasPointerRepresentation else { count &+= 1; return }   // one scalar
        var i = 0
        while i < text.utf8CodeUnitCount {
            if text.utf8Start[i] & 0xC0 != 0x80 { count &+= 1 }
            i &+= 1
        }
    }

    mutating func write(_ byte: UInt8) { count &+= 1 }
    mutating func write(_ bytes: UnsafeRawBufferPointer) { count &+= bytes.count }
    mutating func writeInt(_ value: Int) { count &+= Width.int(value) }
    mutating func writeGrouped(_ value: UInt64) { count &+= Width.grouped(value) }
    mutating func writeGrouped(signed value: Int64) { count &+= Width.grouped(signed: value) }
    mutating func writeTcpdumpFlags(_ flags: TCPFlags) { count &+= Width.tcpdumpFlags(flags) }
}

/// Writes into a cursor and counts the columns written, for a text whose width is needed
/// right after it is written (a title, which its rule extends to the rows' width).
struct MeasuredCursor: TextSink {
    var cursor: ByteCursor
    private var count = Columns()
    var columns: Int { count.count }

    init(_ cursor: ByteCursor) { self.cursor = cursor }

    @inline(__always) mutating func write(_ text: StaticString) { cursor.write(text); count.write(text) }
    mutating func write(_ byte: UInt8) { cursor.write(byte); count.write(byte) }
    mutating func write(_ bytes: UnsafeRawBufferPointer) { cursor.write(bytes); count.write(bytes) }
    mutating func writeInt(_ value: Int) { cursor.writeInt(value); count.writeInt(value) }
    mutating func writeGrouped(_ value: UInt64) { cursor.writeGrouped(value); count.writeGrouped(value) }
    mutating func writeGrouped(signed value: Int64) { cursor.writeGrouped(signed: value); count.writeGrouped(signed: value) }
    mutating func writeTcpdumpFlags(_ flags: TCPFlags) { cursor.writeTcpdumpFlags(flags); count.writeTcpdumpFlags(flags) }
}

/// Columns of formatted numbers, counted without formatting them, one function per
/// `ByteCursor` writer: each equals the columns of what that writer writes (checked against
/// it in `WidthTests`).
enum Width {
    /// Decimal digits of `v` (1 for 0), without dividing: ⌊log10 v⌋ + 1 from the bit length
    /// (log10 2 ≈ 1233 / 4096, exact enough for 64 bits), less one when `v` is below the power
    /// of ten that guess names (Anderson's "Bit Twiddling Hacks", "Find integer log base 10 of
    /// an integer").
    @inline(__always)
    static func digits(_ v: UInt64) -> Int {
        let bits = 64 &- (v | 1).leadingZeroBitCount   // 1...64
        let guess = (bits &* 1233) >> 12                // 0...19: ⌊log10 v⌋ or one more
        return guess &+ (v < powerOfTen(guess) ? 0 : 1)
    }

    /// 10^`n` for 1...19, and 0 for 0 (so that 0...7, whose guess is 0, have one digit): a
    /// switch of constants, which the compiler makes a table.
    @inline(__always)
    private static func powerOfTen(_ n: Int) -> UInt64 {
        switch n {
        case 1: return 10
        case 2: return 100
        case 3: return 1_000
        case 4: return 10_000
        case 5: return 100_000
        case 6: return 1_000_000
        case 7: return 10_000_000
        case 8: return 100_000_000
        case 9: return 1_000_000_000
        case 10: return 10_000_000_000
        case 11: return 100_000_000_000
        case 12: return 1_000_000_000_000
        case 13: return 10_000_000_000_000
        case 14: return 100_000_000_000_000
        case 15: return 1_000_000_000_000_000
        case 16: return 10_000_000_000_000_000
        case 17: return 100_000_000_000_000_000
        case 18: return 1_000_000_000_000_000_000
        case 19: return 10_000_000_000_000_000_000
        default: return 0
        }
    }

    /// `writeInt(v)`.
    @inline(__always)
    static func int(_ v: Int) -> Int { int(Int64(v)) }

    /// `writeInt(v)`.
    @inline(__always)
    static func int(_ v: Int64) -> Int { (v < 0 ? 1 : 0) + digits(v.magnitude) }

    /// `writeGrouped(v)`: the digits and a comma per full group of three after the first.
    @inline(__always)
    static func grouped(_ v: UInt64) -> Int {
        let d = digits(v)
        return d + (d - 1) / 3
    }

    /// `writeGrouped(signed: v)`.
    @inline(__always)
    static func grouped(signed v: Int64) -> Int { (v < 0 ? 1 : 0) + grouped(v.magnitude) }

    /// `writeSeconds(nanoseconds:decimals: 6)`.
    @inline(__always)
    static func seconds(nanoseconds: Int64) -> Int {
        let scaled = (nanoseconds.magnitude + 500) / 1_000   // cannot overflow: magnitude <= 2^63
        return (nanoseconds < 0 && scaled != 0 ? 1 : 0) + digits(scaled / 1_000_000) + 7
    }

    /// `writeTcpdumpFlags(flags)`: one column per letter of the flag table, or `none`.
    static func tcpdumpFlags(_ flags: TCPFlags) -> Int {
        let letters = flags.lettered.rawValue.nonzeroBitCount   // one letter per lettered flag
        return letters == 0 ? TCPFlags.tcpdumpNone.utf8CodeUnitCount : letters
    }
}
