#if canImport(Glibc)
import Glibc
#endif

/// SIGPIPE is observed, not fatal: the handler counts it, and a write that raised it says so.
enum SigPipe {
    nonisolated(unsafe) static var count: Int32 = 0
    static func install() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in SigPipe.count &+= 1 }
        sigemptyset(&action.sa_mask)
        sigaction(SIGPIPE, &action, nil)
    }
}
