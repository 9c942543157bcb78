#if canImport(Glibc)
import Glibc
#endif

/// A joinable thread running `body` (pthreads, not Dispatch: the pipeline's stages block on each
/// other, and a stage must never wait for a pool thread that is not free to run it). Here, beside
/// the reading of capture files, because a compressed file is decompressed on one too
/// (`ReadAheadInput`); the pipeline's stages use it as well.
///
/// The thread is a helper of the one that starts it (replay's reading and printing stages
/// serve the tracking thread, the pipeline's slowest stage), so it runs under Linux's
/// SCHED_BATCH policy: the same share of the processor, but its wake-ups do not preempt a
/// running thread. On two cores the three stages share two processors; under the normal
/// policy a helper woken for the next batch often preempted the tracking thread (which then
/// waited 0.1-0.3 s in the run queue over the large bench capture), and the whole pipeline
/// waited with it. Interleaved runs of both policies on that capture (BENCHMARKS.md): median
/// wall time 1.15 → 1.04 s (--summary) and 1.73 → 1.54 s (JSON) in one set of 12 rounds each,
/// the same direction in the two sets before it.
public struct WorkerThread {
    private let thread: pthread_t

    /// Starts `body` on a new thread; nil when no thread could be made (a resource limit).
    public init?(_ body: @escaping () -> Void) {
        final class Box { let body: () -> Void; init(_ b: @escaping () -> Void) { body = b } }
        let box = Unmanaged.passRetained(Box(body))
        var t = pthread_t()
        let rc = pthread_create(&t, nil, { arg in
            // Best effort: where the policy is refused, the thread runs as it is.
            var parameters = sched_param(sched_priority: 0)
            _ = sched_setscheduler(0, WorkerThread.schedBatchPolicy, &parameters)
            Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue().body()
            return nil
        }, box.toOpaque())
        guard rc == 0 else {
            box.release()
            return nil
        }
        thread = t
    }

    /// SCHED_BATCH, a value of the kernel's ABI (include/uapi/linux/sched.h); Glibc's Swift module
    /// does not export the macro.
    private static let schedBatchPolicy: Int32 = 3

    /// Waits for the thread to end.
    public func join() { pthread_join(thread, nil) }
}
