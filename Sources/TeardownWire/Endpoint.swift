/// One end of a TCP connection: address and port.
public struct Endpoint: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var port: UInt16
    @inlinable public init(address: IPAddress, port: UInt16) { self.address = address; self.port = port }
    public static func < (a: Endpoint, b: Endpoint) -> Bool { (a.address, a.port) < (b.address, b.port) }
    /// `10.0.0.1:80` or `[::1]:80`.
    public var description: String {
        // Assembled as bytes (one String at the end): printed once per connection of captures
        // with hundreds of thousands of them, where concatenating Strings showed in profiles.
        var b: [UInt8] = []
        b.reserveCapacity(48)
        if address.isIPv6 { b.append(UInt8(ascii: "[")) }
        b.append(contentsOf: address.description.utf8)
        if address.isIPv6 { b.append(UInt8(ascii: "]")) }
        b.append(UInt8(ascii: ":"))
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0)
        var n = 0, p = port
        withUnsafeMutableBytes(of: &digits) { d in
            repeat { d[n] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: p % 10); p /= 10; n += 1 } while p > 0
            while n > 0 { n -= 1; b.append(d[n]) }
        }
        return String(decoding: b, as: UTF8.self)
    }
}
