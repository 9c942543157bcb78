#if canImport(Glibc)
import Glibc
#endif

/// The running kernel's version (uname(2)) is at least `major.minor`: what the kernel lane's
/// tests expect depends on it (tcp_send_reset's reason came in 6.10, the active-close reasons
/// in 6.12).
public func kernelAtLeast(_ major: Int, _ minor: Int) -> Bool {
    var u = utsname()
    uname(&u)
    let release = withUnsafeBytes(of: u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    let parts = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
    guard parts.count == 2 else { return false }
    return (parts[0], parts[1]) >= (major, minor)
}
