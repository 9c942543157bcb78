import TeardownWire

/// Columns of formatted values, counted without formatting them: the timeline's layout is
/// fixed from every row's width before the first row is written. Each one equals
/// `displayWidth` of the text the matching writer produces (checked in `WidthTests`).
enum Width {
    /// Decimal digits of `v`.
    static func digits(_ v: UInt64) -> Int {
        var n = 1, rest = v
        while rest >= 10 { rest /= 10; n += 1 }
        return n
    }

    /// `String(v)`.
    static func int(_ v: Int) -> Int { int(Int64(v)) }

    /// `String(v)`.
    static func int(_ v: Int64) -> Int { (v < 0 ? 1 : 0) + digits(v.magnitude) }

    /// `Format.grouped(v)`: the digits and a comma per full group of three after the first.
    static func grouped(_ v: UInt64) -> Int {
        let d = digits(v)
        return d + (d - 1) / 3
    }

    /// `Format.grouped(v)` for a signed value.
    static func grouped(signed v: Int64) -> Int { (v < 0 ? 1 : 0) + grouped(v.magnitude) }

    /// `Format.seconds(nanoseconds:decimals: 6)`.
    static func seconds(nanoseconds: Int64) -> Int {
        let scaled = (nanoseconds.magnitude + 500) / 1_000   // cannot overflow: magnitude <= 2^63
        return (nanoseconds < 0 && scaled != 0 ? 1 : 0) + digits(scaled / 1_000_000) + 7
    }

    /// `TCPFlags.tcpdumpString`: one letter per flag it prints, or `none`.
    static func tcpdumpFlags(_ flags: TCPFlags) -> Int {
        let n = (flags.rawValue & 0xFF).nonzeroBitCount   // F S R P . U E W; not AE
        return n == 0 ? 4 : n
    }
}
