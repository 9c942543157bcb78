import CPcap
#if canImport(Glibc)
import Glibc
#endif

/// The handle a signal stops. Only `pcap_breakloop` and plain stores happen in the handler, both
/// safe there (pcap_breakloop(3PCAP) is documented as callable from a signal handler).
private var stopHandle: OpaquePointer?
private var stopSignals: sig_atomic_t = 0

/// SIGINT/SIGTERM handling for a capture loop: the first signal makes the loop return cleanly
/// (so `-w` output is flushed and a final report printed); a second SIGINT exits at once.
public enum StopSignals {
    /// How many stop signals arrived.
    public static var received: Int { Int(stopSignals) }

    /// Whether a stop signal arrived for the capture on `handle`.
    static func requested(_ handle: OpaquePointer) -> Bool { stopSignals > 0 && stopHandle == handle }

    public static func install(for source: PacketSource) {
        stopHandle = source.handle
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { sig in
            stopSignals += 1
            if stopSignals > 1 && sig == SIGINT { _exit(130) }
            if let h = stopHandle { pcap_breakloop(h) }
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0   // no SA_RESTART: a blocking read returns so the loop sees the stop
        sigaction(SIGINT, &action, nil)
        sigaction(SIGTERM, &action, nil)
        unblock()
    }

    /// Unblocks SIGINT and SIGTERM for this thread: a signal mask is inherited across exec, and a
    /// parent that started us from a thread with them blocked (thread pools do that) would
    /// otherwise leave Ctrl-C and SIGTERM without effect.
    public static func unblock() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }
}

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

    /// The user tcpdump would switch to by default: the invoking user under sudo.
    public static var defaultUser: String? {
        guard geteuid() == 0, let u = getenv("SUDO_USER") else { return nil }
        let name = String(cString: u)
        return name.isEmpty || name == "root" ? nil : name
    }
}
