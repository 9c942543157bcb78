import TeardownWire

/// A minimal streaming JSON writer (RFC 8259) that writes UTF-8 bytes through a `ByteCursor`.
///
/// Built for one object per connection over millions of connections: keys are static
/// strings, numbers are written digit by digit, and nothing allocates. Commas are placed
/// automatically: a value or container start writes one when the previous thing at this
/// level was a value.
struct JSONWriter {
    /// Where the bytes go; the caller takes the cursor back from here when done.
    var out: ByteCursor
    /// True when the last thing written was a complete value, so the next one needs a comma.
    private var needsComma: Bool
    /// The whole seconds `seconds(nanoseconds:)` wrote last, and their digits with the point
    /// after them (`1714564800.`, at most 21 bytes): the times of one connection's rows nearly
    /// always share them, and are then copied rather than worked out again.
    private var lastWholeSeconds: UInt64 = .max
    private var lastWholeText: (UInt64, UInt64, UInt64) = (0, 0, 0)
    private var lastWholeCount = 0

    /// A writer at `cursor`. `afterValue` continues a document whose last write was a value
    /// (a line whose first fields were rendered once, ahead of time).
    init(_ cursor: ByteCursor, afterValue: Bool = false) {
        out = cursor
        needsComma = afterValue
    }

    /// What `body` writes, as a String (the bytes are valid UTF-8 by construction: every input
    /// was a Swift String, which is always valid UTF-8, and escapes are ASCII).
    static func text(_ body: (inout JSONWriter) -> Void) -> String {
        ByteCursor.string { cursor in
            var w = JSONWriter(cursor)
            body(&w)
            cursor = w.out
        }
    }

    private mutating func separate() {
        if needsComma { out.write(UInt8(ascii: ",")) }
    }

    mutating func beginObject() { separate(); out.write(UInt8(ascii: "{")); needsComma = false }
    mutating func endObject() { out.write(UInt8(ascii: "}")); needsComma = true }
    mutating func beginArray() { separate(); out.write(UInt8(ascii: "[")); needsComma = false }
    mutating func endArray() { out.write(UInt8(ascii: "]")); needsComma = true }

    /// An object key. Keys are ASCII literals chosen by this module, so they need no escaping.
    /// The separator, quotes, key and colon go in one bounds check; in line, so that the
    /// key's length is a constant and its copy a pair of stores.
    @inline(__always)
    mutating func key(_ k: StaticString) {
        quoted(k, colon: true)
        needsComma = false
    }

    /// A string value that is a literal of this module (a state's name, an event's type, a
    /// side): ASCII with nothing to escape, written as `key` writes a key, with no String made
    /// and no byte looked at.
    @inline(__always)
    mutating func name(_ text: StaticString) {
        quoted(text, colon: false)
        needsComma = true
    }

    /// A string value this module spells itself (an enum's raw value: a note's or a
    /// diagnosis's code): ASCII with nothing to escape, so copied without looking for one.
    mutating func name(utf8 text: String) {
        separate()
        out.write(UInt8(ascii: "\""))
        out.write(utf8: text)
        out.write(UInt8(ascii: "\""))
        needsComma = true
    }

    mutating func name(utf8 text: String?) {
        if let text { name(utf8: text) } else { null() }
    }

    /// `,"text"` (the comma when a value came before), then `:` for a key, in one bounds check.
    @inline(__always)
    private mutating func quoted(_ text: StaticString, colon: Bool) {
        guard text.hasPointerRepresentation else {   // a one-scalar literal: rare, take the long way
            separate()
            out.write(UInt8(ascii: "\""))
            out.write(text)
            out.write(UInt8(ascii: "\""))
            if colon { out.write(UInt8(ascii: ":")) }
            return
        }
        let n = text.utf8CodeUnitCount
        let comma = needsComma ? 1 : 0
        guard let p = out.claim(comma + n + (colon ? 3 : 2)) else { return }
        p[0] = UInt8(ascii: ",")   // overwritten by the quote when there is no comma
        p[comma] = UInt8(ascii: "\"")
        ByteCursor.copy(n, from: text.utf8Start, to: UnsafeMutableRawPointer(p + comma + 1))
        p[comma + n + 1] = UInt8(ascii: "\"")
        if colon { p[comma + n + 2] = UInt8(ascii: ":") }
    }

    mutating func null() { separate(); out.write("null"); needsComma = true }
    mutating func bool(_ b: Bool) {
        separate()
        if b { out.write("true") } else { out.write("false") }   // each a constant length
        needsComma = true
    }

    /// In line: a packet row has six, and the call cost more than the bookkeeping.
    @inline(__always)
    mutating func int<T: BinaryInteger>(_ v: T) {
        separate()
        if v < 0 { out.write(UInt8(ascii: "-")) }
        out.writeDecimal(UInt64(v.magnitude))
        needsComma = true
    }

    mutating func int<T: BinaryInteger>(_ v: T?) {
        if let v { int(v) } else { null() }
    }

    /// Seconds with a 9-digit fraction, written exactly from nanoseconds: `1714564800.123456789`.
    mutating func seconds(nanoseconds ns: Int64) {
        separate()
        if ns < 0 { out.write(UInt8(ascii: "-")) }
        let m = ns.magnitude
        let whole = m / 1_000_000_000
        if whole == lastWholeSeconds {
            let n = lastWholeCount
            withUnsafeBytes(of: lastWholeText) { out.write(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
        } else {
            let mark = out.count
            out.writeDecimal(whole)
            out.write(UInt8(ascii: "."))
            let written = out.written(since: mark)
            if !out.overflowed, written.count <= MemoryLayout.size(ofValue: lastWholeText) {
                withUnsafeMutableBytes(of: &lastWholeText) { $0.copyMemory(from: UnsafeRawBufferPointer(written)) }
                lastWholeCount = written.count
                lastWholeSeconds = whole
            }
        }
        out.writeDigits(m % 1_000_000_000, exactly: 9)
        needsComma = true
    }

    /// An IP address as a JSON string (its text is digits, hex letters, `.` and `:`: nothing
    /// to escape), written without a String in between.
    mutating func address(_ a: IPAddress) {
        separate()
        out.write(UInt8(ascii: "\""))
        a.withText { out.write($0) }
        out.write(UInt8(ascii: "\""))
        needsComma = true
    }

    /// TCP flags as tcpdump prints them (`"S."`, `"FP."`, `"none"`): letters from the flag
    /// table, nothing to escape.
    mutating func flags(_ f: TCPFlags) {
        separate()
        out.write(UInt8(ascii: "\""))
        out.writeTcpdumpFlags(f)
        out.write(UInt8(ascii: "\""))
        needsComma = true
    }

    /// A JSON string: `"` and `\` escaped, control characters U+0000–U+001F as `\u00XX`,
    /// everything else (valid UTF-8) passed through byte for byte (RFC 8259 §7).
    mutating func string(_ s: String) {
        separate()
        out.write(UInt8(ascii: "\""))
        s.withUTF8Bytes { escaped($0) }
        out.write(UInt8(ascii: "\""))
        needsComma = true
    }

    /// A JSON string whose bytes `body` writes as they are: for words this module writes
    /// itself, which hold no quote, backslash or control character (a note's words).
    mutating func verbatimString(_ body: (inout ByteCursor) -> Void) {
        separate()
        out.write(UInt8(ascii: "\""))
        body(&out)
        out.write(UInt8(ascii: "\""))
        needsComma = true
    }

    mutating func string(_ s: String?) {
        if let s { string(s) } else { null() }
    }

    /// A JSON string escaped as Foundation's JSONSerialization escapes it, which wrote `run
    /// --format json` first: also `/` (as `\/`), and `\b \t \n \f \r` in their short forms.
    /// Kept so that output stays as it was; new output uses `string(_:)`.
    mutating func stringEscapingSlashes(_ s: String) {
        separate()
        out.write(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.write(UInt8(ascii: "\\"), b)
            case 0x08: out.write(UInt8(ascii: "\\"), UInt8(ascii: "b"))
            case 0x09: out.write(UInt8(ascii: "\\"), UInt8(ascii: "t"))
            case 0x0a: out.write(UInt8(ascii: "\\"), UInt8(ascii: "n"))
            case 0x0c: out.write(UInt8(ascii: "\\"), UInt8(ascii: "f"))
            case 0x0d: out.write(UInt8(ascii: "\\"), UInt8(ascii: "r"))
            case 0..<0x20:
                out.write("\\u00")
                out.write(JSONWriter.hexDigit(b >> 4), JSONWriter.hexDigit(b & 0xf))
            default: out.write(b)
            }
        }
        out.write(UInt8(ascii: "\""))
        needsComma = true
    }

    /// A complete value that `body` writes with another writer (a connection's object).
    mutating func value(_ body: (inout ByteCursor) -> Void) {
        separate()
        body(&out)
        needsComma = true
    }

    /// The body of a JSON string: most text needs no escape and goes in one copy.
    private mutating func escaped(_ utf8: UnsafeRawBufferPointer) {
        guard JSONWriter.needsEscape(utf8) else {
            out.write(utf8)
            return
        }
        for b in utf8 {
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out.write(UInt8(ascii: "\\"), b)
            case 0..<0x20:
                out.write("\\u00")
                out.write(JSONWriter.hexDigit(b >> 4), JSONWriter.hexDigit(b & 0xf))
            default:
                out.write(b)
            }
        }
    }

    /// Whether any byte needs an escape: below 0x20, `"` or `\`. Eight bytes at a time, with
    /// the word tricks of S. E. Anderson's "Bit Twiddling Hacks" ("Determine if a word has a
    /// byte less than n", "… has a zero byte", applied to the word XOR the byte sought): each
    /// is exact about whether *some* byte matches, which is all this asks.
    static func needsEscape(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let n = bytes.count
        @inline(__always) func matches(_ w: UInt64) -> Bool {
            let ones: UInt64 = 0x0101_0101_0101_0101
            let control = (w &- ones &* 0x20) & ~w
            let q = w ^ (ones &* 0x22), bs = w ^ (ones &* 0x5C)
            let quote = (q &- ones) & ~q
            let backslash = (bs &- ones) & ~bs
            return (control | quote | backslash) & 0x8080_8080_8080_8080 != 0
        }
        if n >= 8 {
            var i = 0
            while n - i > 8 {
                if matches(base.loadUnaligned(fromByteOffset: i, as: UInt64.self)) { return true }
                i &+= 8
            }
            return matches(base.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self))   // may overlap
        }
        if n >= 4 {   // two 4-byte loads, which may overlap, as one word
            let low = UInt64(base.loadUnaligned(as: UInt32.self))
            let high = UInt64(base.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self))
            return matches(low | high << 32)
        }
        var i = 0
        while i < n {
            let b = base.load(fromByteOffset: i, as: UInt8.self)
            if b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { return true }
            i &+= 1
        }
        return false
    }

    /// Lower-case hex digit of `nibble` (0...15).
    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + (nibble & 0xf) - 10
    }
}
