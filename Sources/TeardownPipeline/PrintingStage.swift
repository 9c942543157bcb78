import TeardownCapture
import TeardownModel

/// Makes and prints records on a thread of its own, in the order given: building a record from
/// a finished connection and formatting it (a summary line, a JSON object, a timeline) are
/// taken off the thread that tracks connections.
/// Records travel through a `BatchPipe` in batches of `batchSize`.
final class PrintingStage {
    static let batchSize = 256
    private let printer: RecordPrinter
    private let source: String
    private let tunnels: TunnelRegistry?
    private let pipe = BatchPipe<FinishedConnection>(depth: 4)
    private var batch = ContiguousArray<FinishedConnection>()
    private var thread: WorkerThread?

    /// Starts the printing thread for `printer`; records are labelled with `source`. Without
    /// `threaded`, records are made and printed on the caller's thread as they come.
    init(printer: RecordPrinter, source: String, tunnels: TunnelRegistry? = nil, threaded: Bool = true) {
        self.printer = printer
        self.source = source
        self.tunnels = tunnels
        guard threaded else { return }
        batch.reserveCapacity(PrintingStage.batchSize)
        thread = WorkerThread { [pipe, tunnels] in
            var finished = ContiguousArray<FinishedConnection>()
            var records = ContiguousArray<ConnectionRecord>()
            records.reserveCapacity(PrintingStage.batchSize)
            var more = true
            while more {
                more = pipe.receive(into: &finished)
                records.removeAll(keepingCapacity: true)
                // By index: iterating the array would copy each kilobyte-sized connection out.
                for i in finished.indices {
                    let record = finished[i].record()
                    records.append(tunnels?.named(record) ?? record)
                }
                printer.print(records, source: source)
            }
        }
    }

    /// Queues a finished connection; its record is made and printed on the printing thread.
    func print(_ finished: consuming FinishedConnection) {
        guard thread != nil else {   // no thread: print here
            let record = finished.record()
            return printer.print(tunnels?.named(record) ?? record, source: source)
        }
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
