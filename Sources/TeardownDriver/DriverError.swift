#if canImport(Glibc)
import Glibc
#endif

/// A failed call or a setup that could not be made, in words a user can act on.
public enum DriverError: Error, CustomStringConvertible {
    case call(String, Int32)
    case setup(String)
    public var description: String {
        switch self {
        case .call(let what, let e): return "\(what) failed: \(errnoName(e)) (\(String(cString: strerror(e))))"
        case .setup(let s): return s
        }
    }
}

/// The symbolic name of an errno value the experiments meet, as strace prints it.
func errnoName(_ e: Int32) -> String {
    switch e {
    case EPIPE: return "EPIPE"
    case ECONNRESET: return "ECONNRESET"
    case ECONNREFUSED: return "ECONNREFUSED"
    case EAGAIN: return "EAGAIN"
    case EINTR: return "EINTR"
    case ENOTCONN: return "ENOTCONN"
    case EBADF: return "EBADF"
    case ETIMEDOUT: return "ETIMEDOUT"
    case EINPROGRESS: return "EINPROGRESS"
    case EINVAL: return "EINVAL"
    case EADDRINUSE: return "EADDRINUSE"
    default: return "errno \(e)"
    }
}
