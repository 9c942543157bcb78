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
        var text: UInt64 = 0   // ":" and at most 5 digits, appended in one call
        withUnsafeMutableBytes(of: &text) { t in
            var n = t.count, p = port
            repeat { n -= 1; t[n] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: p % 10); p /= 10 } while p > 0
            n -= 1
            t[n] = UInt8(ascii: ":")
            out.append(contentsOf: UnsafeBufferPointer(rebasing: t.bindMemory(to: UInt8.self)[n...]))
        }
    }
}
