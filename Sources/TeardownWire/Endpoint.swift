/// One end of a TCP connection: address and port.
public struct Endpoint: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var port: UInt16
    @inlinable public init(address: IPAddress, port: UInt16) { self.address = address; self.port = port }
    @inlinable public static func < (a: Endpoint, b: Endpoint) -> Bool {
        a.address == b.address ? a.port < b.port : a.address < b.address
    }
    @inlinable public static func == (a: Endpoint, b: Endpoint) -> Bool { a.port == b.port && a.address == b.address }
    /// `10.0.0.1:80` or `[::1]:80`.
    public var description: String {
        var b: [UInt8] = []
        b.reserveCapacity(48)
        appendText(to: &b)
        return String(decoding: b, as: UTF8.self)
    }

    /// Appends `description` as UTF-8 to `out`, with no String in between (printed once per
    /// connection of captures with hundreds of thousands of them).
    public func appendText(to out: inout [UInt8]) {
        if address.isIPv6 { out.append(UInt8(ascii: "[")) }
        address.appendText(to: &out)
        if address.isIPv6 { out.append(UInt8(ascii: "]")) }
        out.append(UInt8(ascii: ":"))
        var divisor: UInt16 = 10_000
        while divisor > 1 && port < divisor { divisor /= 10 }
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: port / divisor % 10))
            divisor /= 10
        }
    }
}
