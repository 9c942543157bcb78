/// The TCP control bits (RFC 9293 §3.1), plus AE (RFC 9768, the former NS bit).
public struct TCPFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let fin = TCPFlags(rawValue: 0x001)
    public static let syn = TCPFlags(rawValue: 0x002)
    public static let rst = TCPFlags(rawValue: 0x004)
    public static let psh = TCPFlags(rawValue: 0x008)
    public static let ack = TCPFlags(rawValue: 0x010)
    public static let urg = TCPFlags(rawValue: 0x020)
    public static let ece = TCPFlags(rawValue: 0x040)
    public static let cwr = TCPFlags(rawValue: 0x080)
    public static let ae  = TCPFlags(rawValue: 0x100)

    /// tcpdump's flag string without brackets: `S`, `S.`, `P.`, `F.`, `R.`, `R`, `.`, `FP.`, `S.E` ...
    /// In tcpdump's order (print-tcp.c `tcp_flag_values`): F S R P . U E W. AE is not printed, as in tcpdump.
    public var tcpdumpString: String {
        var s = ""
        if contains(.fin) { s += "F" }
        if contains(.syn) { s += "S" }
        if contains(.rst) { s += "R" }
        if contains(.psh) { s += "P" }
        if contains(.ack) { s += "." }
        if contains(.urg) { s += "U" }
        if contains(.ece) { s += "E" }
        if contains(.cwr) { s += "W" }
        return s.isEmpty ? "none" : s
    }
}
