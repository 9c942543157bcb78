import TeardownWire
#if canImport(Glibc)
import Glibc
#endif

/// sockaddr conversions.
enum SocketAddress {
    static func endpoint(_ s: sockaddr_storage) -> Endpoint? {
        var s = s
        switch Int32(s.ss_family) {
        case AF_INET:
            return withUnsafeBytes(of: &s) { p in
                let sin = p.load(as: sockaddr_in.self)
                return Endpoint(address: IPAddress(ipv4: UInt32(bigEndian: sin.sin_addr.s_addr)), port: UInt16(bigEndian: sin.sin_port))
            }
        case AF_INET6:
            return withUnsafeBytes(of: &s) { p in
                let sin6 = p.load(as: sockaddr_in6.self)
                var hi: UInt64 = 0, lo: UInt64 = 0
                withUnsafeBytes(of: sin6.sin6_addr) { b in
                    for i in 0..<8 { hi = hi << 8 | UInt64(b[i]) }
                    for i in 8..<16 { lo = lo << 8 | UInt64(b[i]) }
                }
                return Endpoint(address: IPAddress(ipv6High: hi, low: lo), port: UInt16(bigEndian: sin6.sin6_port))
            }
        default:
            return nil
        }
    }

    static func withSockaddr<R>(_ ep: Endpoint, _ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        if ep.address.isIPv6 {
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = ep.port.bigEndian
            withUnsafeMutableBytes(of: &sin6.sin6_addr) { b in
                for i in 0..<8 { b[i] = UInt8(truncatingIfNeeded: ep.address.high >> (56 - 8 * UInt64(i))) }
                for i in 0..<8 { b[8 + i] = UInt8(truncatingIfNeeded: ep.address.low >> (56 - 8 * UInt64(i))) }
            }
            return withUnsafePointer(to: &sin6) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        }
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = ep.port.bigEndian
        sin.sin_addr.s_addr = UInt32(truncatingIfNeeded: ep.address.low).bigEndian
        return withUnsafePointer(to: &sin) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    }
}
