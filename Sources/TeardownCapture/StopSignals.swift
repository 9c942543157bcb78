import CPcap
#if canImport(Glibc)
import Glibc
#endif

/// The handle a signal stops. Only `clock_gettime`, `pcap_breakloop` and plain stores happen in
/// the handler, all safe there (pcap_breakloop(3PCAP) is documented as callable from a signal
/// handler; clock_gettime is in signal-safety(7)'s list).
private var stopHandle: OpaquePointer?
private var stopSignals: sig_atomic_t = 0
/// When the first stop signal arrived (CLOCK_MONOTONIC, nanoseconds); 0 before it.
private var firstStopAt: Int64 = 0

/// SIGINT/SIGTERM handling for a capture loop: the first signal makes the loop return cleanly
/// (so `-w` output is flushed and a final report printed); a second SIGINT exits at once.
///
/// A SIGINT less than 250 ms after the first is the same stop, not a second one: GNU
/// `timeout -s INT` sends its signal to the command and then to its whole process group, so the
/// command receives it twice within microseconds, and a person's second Ctrl-C comes far later.
public enum StopSignals {
    /// How many stop signals arrived.
    public static var received: Int { Int(stopSignals) }

    /// Whether a stop signal arrived for the capture on `handle`.
    static func requested(_ handle: OpaquePointer) -> Bool { stopSignals > 0 && stopHandle == handle }

    public static func install(for source: PacketSource) {
        stopHandle = source.handle
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { sig in
            var ts = timespec()
            clock_gettime(CLOCK_MONOTONIC, &ts)
            let now = Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
            if stopSignals > 0 && sig == SIGINT && now - firstStopAt < 250_000_000 { return }
            if stopSignals == 0 { firstStopAt = now }
            stopSignals += 1
            if stopSignals > 1 && sig == SIGINT { KernelTrace.emergencyCleanup(); _exit(130) }
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
