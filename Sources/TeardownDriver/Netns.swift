import CTeardownSys
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Private network namespaces for experiments (unshare(2) with CLONE_NEWNET).
///
/// A namespace belongs to the calling thread; threads created afterwards inherit it. So the
/// driver enters a namespace on the thread that runs an experiment, before it starts the
/// experiment's capture and peer threads.
public enum Netns {
    public enum Failure: Error, CustomStringConvertible {
        case unshare(Int32), loopback(Int32), sysctl(String, Int32)
        public var description: String {
            switch self {
            case .unshare(let e): return "cannot create a network namespace (unshare CLONE_NEWNET): \(String(cString: strerror(e)))"
            case .loopback(let e): return "cannot bring up lo in the new namespace: \(String(cString: strerror(e)))"
            case .sysctl(let n, let e): return "cannot set \(n): \(String(cString: strerror(e)))"
            }
        }
    }

    public static var canCreate: Bool { geteuid() == 0 }

    /// Runs `body` on this thread inside a new namespace, then returns the thread to the
    /// namespace it was in (so a pooled thread, e.g. in tests, is not left behind in it).
    public static func withNew<T>(_ body: () throws -> T) throws -> T {
        let saved = open("/proc/thread-self/ns/net", O_RDONLY)
        guard saved >= 0 else { throw Failure.unshare(errno) }
        defer {
            _ = ctd_setns_net(saved)
            close(saved)
        }
        try enterNew()
        return try body()
    }

    /// Moves the calling thread into a new, empty network namespace with `lo` up.
    public static func enterNew() throws {
        if ctd_unshare_net() != 0 { throw Failure.unshare(errno) }
        try bringLoopbackUp()
    }

    /// SIOCGIFFLAGS / SIOCSIFFLAGS on `lo` (netdevice(7)).
    static func bringLoopbackUp() throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw Failure.loopback(errno) }
        defer { close(fd) }
        var req = ifreq()
        withUnsafeMutableBytes(of: &req.ifr_ifrn.ifrn_name) { p in
            for (i, b) in "lo".utf8.enumerated() { p[i] = b }
        }
        if ioctl(fd, UInt(SIOCGIFFLAGS), &req) != 0 { throw Failure.loopback(errno) }
        req.ifr_ifru.ifru_flags |= Int16(IFF_UP | IFF_RUNNING)
        if ioctl(fd, UInt(SIOCSIFFLAGS), &req) != 0 { throw Failure.loopback(errno) }
    }

    /// Writes a sysctl of the current namespace, e.g. `net.ipv4.tcp_fin_timeout` = "2".
    public static func setSysctl(_ name: String, _ value: String) throws {
        let path = "/proc/sys/" + name.replacingOccurrences(of: ".", with: "/")
        let fd = open(path, O_WRONLY)
        guard fd >= 0 else { throw Failure.sysctl(name, errno) }
        defer { close(fd) }
        let bytes = Array(value.utf8)
        if write(fd, bytes, bytes.count) != bytes.count { throw Failure.sysctl(name, errno) }
    }

    public static func readSysctl(_ name: String) -> String? {
        let path = "/proc/sys/" + name.replacingOccurrences(of: ".", with: "/")
        return (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
