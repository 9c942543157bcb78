#if canImport(Glibc)
import Glibc
#endif

/// Drops root after the capture device is open, before any packet is parsed (as tcpdump -Z).
public enum Privileges {
    public enum DropError: Error, CustomStringConvertible {
        case noSuchUser(String)
        case failed(String, Int32)
        public var description: String {
            switch self {
            case .noSuchUser(let u): return "cannot drop privileges: no such user '\(u)'"
            case .failed(let what, let e): return "cannot drop privileges: \(what): \(String(cString: strerror(e)))"
            }
        }
    }

    /// Switches to `user` (groups, gid, then uid). Does nothing unless running as root.
    /// - Returns: the new uid, or nil when nothing was done.
    @discardableResult
    public static func drop(to user: String) throws -> uid_t? {
        guard geteuid() == 0 else { return nil }
        guard let pw = getpwnam(user) else { throw DropError.noSuchUser(user) }
        let uid = pw.pointee.pw_uid, gid = pw.pointee.pw_gid
        if initgroups(user, gid) != 0 { throw DropError.failed("initgroups", errno) }
        if setgid(gid) != 0 { throw DropError.failed("setgid", errno) }
        if setuid(uid) != 0 { throw DropError.failed("setuid", errno) }
        // Regaining root must now fail; if it does not, the drop did not happen.
        if uid != 0 && setuid(0) == 0 { throw DropError.failed("setuid(0) still succeeds", EPERM) }
        return getuid()
    }

    /// Whether the process runs as root (effective uid 0).
    public static var isRoot: Bool { geteuid() == 0 }

    /// The user tcpdump would switch to by default: the invoking user under sudo.
    public static var defaultUser: String? {
        guard geteuid() == 0, let u = getenv("SUDO_USER") else { return nil }
        let name = String(cString: u)
        return name.isEmpty || name == "root" ? nil : name
    }
}
