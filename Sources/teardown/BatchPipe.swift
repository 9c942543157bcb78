import Dispatch
import TeardownModel
import CTeardownSys
#if canImport(Glibc)
import Glibc
#endif

/// A one-way, in-order channel of batches between two threads: a ring of `depth` slots guarded
/// by two semaphores. The sender owns a slot between `empty.wait()` and `filled.signal()`, the
/// receiver between `filled.wait()` and `empty.signal()`, so the semaphores order every access
/// and the slots need no lock of their own.
///
/// Batches are swapped in and out of the slots, never copied: the arrays circulate between the
/// two threads with their capacity, so a pipe in steady state allocates nothing. A handoff costs
/// a semaphore pair per batch, not per element.
final class BatchPipe<Element>: @unchecked Sendable {
    private final class Slot {
        var items = ContiguousArray<Element>()
        var isLast = false
    }

    private let slots: [Slot]
    private let filled = DispatchSemaphore(value: 0)
    private let empty: DispatchSemaphore
    private let clearsBatches: Bool
    private var sendIndex = 0      // touched by the sender only
    private var receiveIndex = 0   // touched by the receiver only

    /// A pipe of `depth` slots. With `clearsBatches` (the default) arrays travel back to the
    /// sender emptied (by the receiver, so the elements are released on its thread); without,
    /// they travel back as the receiver left them, for a sender that overwrites the elements
    /// of a full array in place rather than appending.
    init(depth: Int = 8, clearsBatches: Bool = true) {
        slots = (0..<max(1, depth)).map { _ in Slot() }
        empty = DispatchSemaphore(value: slots.count)
        self.clearsBatches = clearsBatches
    }

    /// Hands `batch` over (waiting while every slot is full) and leaves an array, with
    /// capacity, in its place: emptied, unless the pipe does not clear batches. `last` marks
    /// the end of the stream.
    func send(_ batch: inout ContiguousArray<Element>, last: Bool = false) {
        empty.wait()
        let slot = slots[sendIndex]
        sendIndex = (sendIndex + 1) % slots.count
        swap(&batch, &slot.items)
        slot.isLast = last
        filled.signal()
        if clearsBatches { batch.removeAll(keepingCapacity: true) }
    }

    /// Takes the next batch into `batch` (waiting for one), giving back the array `batch` held.
    /// Returns false for the last batch of the stream.
    func receive(into batch: inout ContiguousArray<Element>) -> Bool {
        if clearsBatches { batch.removeAll(keepingCapacity: true) }
        filled.wait()
        let slot = slots[receiveIndex]
        receiveIndex = (receiveIndex + 1) % slots.count
        swap(&batch, &slot.items)
        let more = !slot.isLast
        empty.signal()
        return more
    }
}

/// A joinable thread running `body` (pthreads, not Dispatch: the pipeline's stages block on each
/// other, and a stage must never wait for a pool thread that is not free to run it).
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
struct WorkerThread {
    private let thread: pthread_t

    /// Starts `body` on a new thread; nil when no thread could be made (a resource limit).
    init?(_ body: @escaping () -> Void) {
        final class Box { let body: () -> Void; init(_ b: @escaping () -> Void) { body = b } }
        let box = Unmanaged.passRetained(Box(body))
        var t = pthread_t()
        let rc = pthread_create(&t, nil, { arg in
            _ = ctd_thread_batch()   // best effort: where the policy is refused, the thread runs as it is
            Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue().body()
            return nil
        }, box.toOpaque())
        guard rc == 0 else {
            box.release()
            return nil
        }
        thread = t
    }

    /// Waits for the thread to end.
    func join() { pthread_join(thread, nil) }
}

/// Makes and prints records on a thread of its own, in the order given: building a record from
/// a finished connection and formatting it (a summary line, a JSON object, a timeline) are
/// taken off the thread that tracks connections.
/// Records travel through a `BatchPipe` in batches of `batchSize`.
final class PrintingStage {
    static let batchSize = 256
    private let printer: RecordPrinter
    private let source: String
    private let pipe = BatchPipe<FinishedConnection>(depth: 4)
    private var batch = ContiguousArray<FinishedConnection>()
    private var thread: WorkerThread?

    /// Starts the printing thread for `printer`; records are labelled with `source`.
    init(printer: RecordPrinter, source: String) {
        self.printer = printer
        self.source = source
        batch.reserveCapacity(PrintingStage.batchSize)
        thread = WorkerThread { [pipe] in
            var finished = ContiguousArray<FinishedConnection>()
            var records = ContiguousArray<ConnectionRecord>()
            records.reserveCapacity(PrintingStage.batchSize)
            var more = true
            while more {
                more = pipe.receive(into: &finished)
                records.removeAll(keepingCapacity: true)
                // By index: iterating the array would copy each kilobyte-sized connection out.
                for i in finished.indices { records.append(finished[i].record()) }
                printer.print(records, source: source)
            }
        }
    }

    /// Queues a finished connection; its record is made and printed on the printing thread.
    func print(_ finished: consuming FinishedConnection) {
        guard thread != nil else { return printer.print(finished.record(), source: source) }   // no thread: print here
        batch.append(consume finished)   // moved in, not copied: it is a kilobyte
        if batch.count == PrintingStage.batchSize { pipe.send(&batch) }
    }

    /// Prints what is still queued and waits for the thread: the printer is the caller's again.
    func finish() {
        guard let t = thread else { return }
        pipe.send(&batch, last: true)
        t.join()
        thread = nil
    }
}
