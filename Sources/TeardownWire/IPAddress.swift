/// An IPv4 or IPv6 address held inline (no heap), comparable and hashable.
///
/// IPv4 lives in the low 32 bits of `low` with `high == 0`; `isIPv6` tells the two apart so
/// `::a.b.c.d` and `a.b.c.d` are different keys.
public struct IPAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64
    public var isIPv6: Bool

    @inlinable public init(ipv4 value: UInt32) { high = 0; low = UInt64(value); isIPv6 = false }
    @inlinable public init(ipv6High: UInt64, low: UInt64) { high = ipv6High; self.low = low; isIPv6 = true }

    /// Parses dotted-quad IPv4 or RFC 4291 text IPv6 (with `::` and embedded IPv4). Nil when invalid.
    public init?(_ text: String) {
        if text.contains(":") {
            guard let (h, l) = IPAddress.parseIPv6(Substring(text)) else { return nil }
            self.init(ipv6High: h, low: l)
        } else {
            guard let v = IPAddress.parseIPv4(Substring(text)) else { return nil }
            self.init(ipv4: v)
        }
    }

    // Comparison is inlinable: the connection table orders and compares endpoints on every packet.
    @inlinable public static func < (a: IPAddress, b: IPAddress) -> Bool {
        if a.isIPv6 != b.isIPv6 { return !a.isIPv6 }
        return a.high != b.high ? a.high < b.high : a.low < b.low
    }

    @inlinable public static func == (a: IPAddress, b: IPAddress) -> Bool {
        a.low == b.low && a.high == b.high && a.isIPv6 == b.isIPv6
    }

    /// Dotted quad, or RFC 5952 canonical IPv6 text (longest zero run as `::`, lower-case hex).
    public var description: String {
        var text = ""
        withText { text = String(decoding: $0, as: UTF8.self) }
        return text
    }

    /// Calls `body` with `description` as UTF-8, formatted on the stack (no String, no heap):
    /// renderers call this for every connection of captures with hundreds of thousands of them.
    public func withText(_ body: (UnsafeRawBufferPointer) -> Void) {
        withUnsafeTemporaryAllocation(byteCount: 48, alignment: 8) { t in
            let n = writeText(into: t)
            body(UnsafeRawBufferPointer(rebasing: t[..<n]))
        }
    }

    /// The longest text `writeText(into:)` writes: eight groups of four hex digits and seven colons.
    static var maxTextLength: Int { 39 }

    /// Writes `description` at the start of `t`, which has room for `maxTextLength` bytes;
    /// returns how many bytes it wrote.
    func writeText(into t: UnsafeMutableRawBufferPointer) -> Int {
        guard t.count >= IPAddress.maxTextLength else { return 0 }
        if !isIPv6 {
            return IPAddress.writeDottedQuad(UInt32(truncatingIfNeeded: low), into: t, at: 0)
        }
        // IPv4-mapped (::ffff:a.b.c.d) keeps the dotted quad (RFC 5952 §5).
        if high == 0 && low >> 32 == 0xffff {
            var n = 0
            for byte in "::ffff:".utf8 { t[n] = byte; n += 1 }
            return IPAddress.writeDottedQuad(UInt32(truncatingIfNeeded: low), into: t, at: n)
        }
        @inline(__always) func group(_ i: Int) -> UInt16 {
            UInt16(truncatingIfNeeded: (i < 4 ? high : low) >> (48 - 16 * UInt64(i & 3)))
        }
        // Longest run of two or more zero groups (first one on ties), per RFC 5952 §4.2.
        var bestStart = -1, bestLen = 0, i = 0
        while i < 8 {
            if group(i) == 0 {
                var j = i
                while j < 8 && group(j) == 0 { j += 1 }
                if j - i > bestLen && j - i >= 2 { bestStart = i; bestLen = j - i }
                i = j
            } else { i += 1 }
        }
        var n = 0, k = 0
        while k < 8 {
            if k == bestStart {
                t[n] = UInt8(ascii: ":"); t[n + 1] = UInt8(ascii: ":"); n += 2
                k += bestLen
                continue
            }
            if k > 0 && t[n - 1] != UInt8(ascii: ":") { t[n] = UInt8(ascii: ":"); n += 1 }
            let g = group(k)
            var shift: UInt16 = 12
            while shift > 0 && g >> shift == 0 { shift -= 4 }   // no leading zeros (§4.1)
            while true {
                let nibble = UInt8(truncatingIfNeeded: g >> shift & 0xF)
                t[n] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
                n += 1
                if shift == 0 { break }
                shift -= 4
            }
            k += 1
        }
        return n
    }

    /// Writes `a.b.c.d` (at most 15 bytes) into `t` from `n`; returns where it ended.
    private static func writeDottedQuad(_ v: UInt32, into t: UnsafeMutableRawBufferPointer, at n: Int) -> Int {
        var n = n
        for shift in stride(from: 24, through: 0, by: -8) {
            let octet = UInt8(truncatingIfNeeded: v >> UInt32(shift))
            if shift != 24 { t[n] = UInt8(ascii: "."); n += 1 }
            if octet >= 100 { t[n] = UInt8(ascii: "0") + octet / 100; n += 1 }
            if octet >= 10 { t[n] = UInt8(ascii: "0") + octet / 10 % 10; n += 1 }
            t[n] = UInt8(ascii: "0") + octet % 10; n += 1
        }
        return n
    }

    static func parseIPv4(_ s: Substring) -> UInt32? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var v: UInt32 = 0
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy({ $0.isASCII && $0.isNumber }), let b = UInt8(p) else { return nil }
            v = v << 8 | UInt32(b)
        }
        return v
    }

    static func parseIPv6(_ s: Substring) -> (UInt64, UInt64)? {
        var head: [UInt16] = [], tail: [UInt16] = []
        // Split on "::" by hand: this module does not import Foundation.
        var halves: [String] = []
        var current = ""
        var prev: Character? = nil
        for ch in s {
            if ch == ":" && prev == ":" {
                current.removeLast()
                halves.append(current); current = ""; prev = nil
                continue
            }
            current.append(ch); prev = ch
        }
        halves.append(current)
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String, allowV4: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var out: [UInt16] = []
            let items = part.split(separator: ":", omittingEmptySubsequences: false)
            for (n, item) in items.enumerated() {
                if allowV4 && n == items.count - 1 && item.contains(".") {
                    guard let v4 = parseIPv4(item) else { return nil }
                    out.append(UInt16(v4 >> 16)); out.append(UInt16(v4 & 0xffff))
                } else {
                    guard !item.isEmpty, item.count <= 4, item.allSatisfy({ $0.isHexDigit }), let g = UInt16(item, radix: 16) else { return nil }
                    out.append(g)
                }
            }
            return out
        }
        if halves.count == 2 {
            guard let h = groups(halves[0], allowV4: false), let t = groups(halves[1], allowV4: true),
                  h.count + t.count <= 7 else { return nil }
            head = h; tail = t
        } else {
            guard let h = groups(halves[0], allowV4: true), h.count == 8 else { return nil }
            head = h
        }
        let all = head + [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
        var hi: UInt64 = 0, lo: UInt64 = 0
        for i in 0..<4 { hi = hi << 16 | UInt64(all[i]) }
        for i in 4..<8 { lo = lo << 16 | UInt64(all[i]) }
        return (hi, lo)
    }
}
