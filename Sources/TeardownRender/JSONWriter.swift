import TeardownWire

/// A minimal streaming JSON writer (RFC 8259) that appends UTF-8 bytes to one buffer.
///
/// Built for one object per connection over millions of connections: keys are static
/// strings, numbers are written digit by digit into the buffer, and nothing allocates per
/// field once the buffer has grown. Commas are placed automatically: a value or container
/// start writes one when the previous thing at this level was a value.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []
    /// True when the last thing written was a complete value, so the next one needs a comma.
    private var needsComma = false

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    /// A writer that appends to `buffer`'s bytes, taking them over (no copy) until `finish`.
    init(appendingTo buffer: inout [UInt8]) { swap(&bytes, &buffer) }

    /// Hands the bytes back to the buffer given to `init(appendingTo:)`.
    mutating func finish(into buffer: inout [UInt8]) { swap(&bytes, &buffer) }

    /// The document as a String (the bytes are valid UTF-8 by construction: every input
    /// was a Swift String, which is always valid UTF-8, and escapes are ASCII).
    var string: String { String(decoding: bytes, as: UTF8.self) }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    mutating func beginObject() { separate(); bytes.append(UInt8(ascii: "{")); needsComma = false }
    mutating func endObject() { bytes.append(UInt8(ascii: "}")); needsComma = true }
    mutating func beginArray() { separate(); bytes.append(UInt8(ascii: "[")); needsComma = false }
    mutating func endArray() { bytes.append(UInt8(ascii: "]")); needsComma = true }

    /// An object key. Keys are ASCII literals chosen by this module, so they need no escaping.
    mutating func key(_ k: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        k.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    mutating func null() { separate(); appendASCII("null"); needsComma = true }
    mutating func bool(_ b: Bool) { separate(); appendASCII(b ? "true" : "false"); needsComma = true }

    mutating func int<T: BinaryInteger>(_ v: T) {
        separate()
        if v < 0 { bytes.append(UInt8(ascii: "-")) }
        digits(UInt64(v.magnitude))
        needsComma = true
    }

    mutating func int<T: BinaryInteger>(_ v: T?) {
        if let v { int(v) } else { null() }
    }

    /// Seconds with a 9-digit fraction, written exactly from nanoseconds: `1714564800.123456789`.
    mutating func seconds(nanoseconds ns: Int64) {
        separate()
        if ns < 0 { bytes.append(UInt8(ascii: "-")) }
        let m = ns.magnitude
        digits(m / 1_000_000_000)
        bytes.append(UInt8(ascii: "."))
        digits(m % 1_000_000_000, width: 9)
        needsComma = true
    }

    /// An IP address as a JSON string (its text is digits, hex letters, `.` and `:`: nothing
    /// to escape), written without a String in between.
    mutating func address(_ a: IPAddress) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        a.appendText(to: &bytes)
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    /// A JSON string: `"` and `\` escaped, control characters U+0000–U+001F as `\u00XX`,
    /// everything else (valid UTF-8) passed through byte for byte (RFC 8259 §7).
    mutating func string(_ s: String) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { utf8 in
            var clean = true
            for b in utf8 where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { clean = false; break }
            if clean {
                bytes.append(contentsOf: utf8)
                return
            }
            for b in utf8 {
                switch b {
                case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\\")); bytes.append(b)
                case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\")); bytes.append(b)
                case 0..<0x20:
                    appendASCII("\\u00")
                    bytes.append(JSONWriter.hex[Int(b >> 4)])
                    bytes.append(JSONWriter.hex[Int(b & 0xf)])
                default: bytes.append(b)
                }
            }
        }
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    mutating func string(_ s: String?) {
        if let s { string(s) } else { null() }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    private mutating func appendASCII(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Decimal digits of `v`, at least `width` of them (zero-padded), without a String.
    private mutating func digits(_ v: UInt64, width: Int = 1) {
        Format.appendDecimal(v, width: width, to: &bytes)
    }
}
