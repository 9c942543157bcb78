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
        var text = ""
        withText { text = String(decoding: $0, as: UTF8.self) }
        return text
    }

    /// Calls `body` with `description` as UTF-8, formatted on the stack (no String, no heap):
    /// printed once per connection of captures with hundreds of thousands of them.
    public func withText(_ body: (UnsafeRawBufferPointer) -> Void) {
        // `[`, the address, `]:` and at most 5 digits: 47 bytes at most.
        withUnsafeTemporaryAllocation(byteCount: 64, alignment: 8) { t in
            var n = 0
            if address.isIPv6 { t[n] = UInt8(ascii: "["); n += 1 }
            n += address.writeText(into: UnsafeMutableRawBufferPointer(rebasing: t[n...]))
            if address.isIPv6 { t[n] = UInt8(ascii: "]"); n += 1 }
            t[n] = UInt8(ascii: ":"); n += 1
            var digits = 1, rest = port
            while rest >= 10 { rest /= 10; digits += 1 }
            var i = n + digits, p = port
            repeat { i -= 1; t[i] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: p % 10); p /= 10 } while p > 0
            n += digits
            body(UnsafeRawBufferPointer(rebasing: t[..<n]))
        }
    }
}
