import Dispatch
import TeardownCapture
import TeardownModel
import TeardownRender
import TeardownWire
#if canImport(Glibc)
import Glibc
#endif

/// `teardown replay`: capture files (or standard input) read, tracked and printed, in order.
public enum ReplayPipeline {
    /// Replays `files` in order to standard output, reading packets that match `filter` (a BPF
    /// expression) only. Problems go to stderr; returns false when a file could not be read.
    /// `label` names a single file in the output instead of its path (`trace` without -w prints
    /// its temporary recording under the program's name).
    /// Unless `quiet`, a replay that lasts more than about a second shows how far it has come
    /// on stderr when that is a terminal (`ProgressLine`). With `annotate`, the one file is also
    /// written there as pcapng with teardown's comments on its packets
    /// (`annotate(_:into:filter:read:)`).
    public static func replay(_ files: [String], filter: String?, bounds: TrackerBounds, options: PrintOptions,
                              label: String? = nil, quiet: Bool = false, annotate: String? = nil) -> Bool {
        OutputWriter.ignoreSIGPIPE()
        guard let out = OutputWriter.open(options.output) else { return false }
        let printer = RecordPrinter(options: options, writer: out, labelFiles: files.count > 1)
        if let annotate {
            return self.annotate(files[0], into: annotate, filter: filter) { comments in
                printer.comments = comments
                printer.begin()
                let result = run(path: files[0], filter: filter, bounds: bounds, printer: printer, label: label)
                if result.usable && result.matchedNothing { TrackingStage.reportNoMatch(filter: filter, files: files) }
                printer.finish()
                out.flush()
                printer.reportNothingSelected()
                return result
            }
        }
        printer.begin()
        let progress = ProgressLine.start(files: files, quiet: quiet)
        let failed: Bool
        if let label, files.count == 1 {
            failed = !run(path: files[0], filter: filter, bounds: bounds, printer: printer, label: label, progress: progress).usable
        } else {
            failed = runAll(files, filter: filter, bounds: bounds, printer: printer, progress: progress)
        }
        progress?.stop()
        printer.finish()
        out.flush()
        printer.reportNothingSelected()
        if printer.pickMissing {
            Diagnostics.error("no connection \(pickDescription(options)) in \(files.count == 1 ? files[0] : "these files")")
            return false
        }
        return !failed
    }

    /// Writes `file` to `output` as pcapng with teardown's comments on its packets, printing
    /// nothing else: for `live -w` and `trace -w` once the capture has ended. Its sidecars
    /// (calls, kernel events) are read as replay reads them. Returns false when it could not.
    public static func annotate(_ file: String, into output: AnnotatedCopy, bounds: TrackerBounds) -> Bool {
        annotate(file, into: output, filter: nil) { comments in
            let printer = RecordPrinter(bufferingFor: PrintOptions(format: .json(events: true), color: false), labelFiles: false)
            printer.comments = comments
            printer.silent = true
            let wasQuiet = Diagnostics.quiet
            Diagnostics.quiet = true   // what this reading meets was said when the file was written
            defer { Diagnostics.quiet = wasQuiet }
            return run(path: file, filter: nil, bounds: bounds, printer: printer)
        }
    }

    /// The two readings of `--annotate`: `read` reads `file` once, giving every record's
    /// comments to the store it is handed (a record's comments are known only once the
    /// connection has ended, so they wait, compactly, for the end of the input); then the file
    /// is read again and copied to `output` with them. `output` is created first, so that a
    /// path that cannot be written is said before any work.
    static func annotate(_ file: String, into output: String, filter: String?,
                         read: (PacketCommentStore) -> FileResult) -> Bool {
        guard let copy = openAnnotation(output, input: file) else { return false }
        return annotate(file, into: copy, filter: filter, read: read)
    }

    /// The file `--annotate` writes, created now (so that a path that cannot be written is said
    /// before a capture starts); nil, having said why, when it cannot be.
    public static func openAnnotation(_ path: String, input: String) -> AnnotatedCopy? {
        do {
            return try AnnotatedCopy(path: path, input: input)
        } catch {
            Diagnostics.error("\(error)")
            return nil
        }
    }

    static func annotate(_ file: String, into copy: AnnotatedCopy, filter: String?,
                         read: (PacketCommentStore) -> FileResult) -> Bool {
        let output = copy.path
        let comments = PacketCommentStore()
        let first = read(comments)
        guard first.usable || first.counts.packets > 0 else {
            try? copy.close()
            unlink(output)
            return false
        }
        var written = 0
        do {
            written = try copy.copy(file, filter: filter) { comments.comment(for: $0) }
            try copy.close()
        } catch let e as CaptureError where e.kind == .read && first.readFailed {
            // The first reading met it too, and said so; what came before it is written.
            written = e.packetNumber.map { $0 - 1 } ?? written
        } catch {
            Diagnostics.error("\(error)")
            return false
        }
        if let failure = comments.failure {
            Diagnostics.error("\(output): the comments could not be kept: \(failure)")
            return false
        }
        if written != first.counts.packets {
            Diagnostics.warning("\(output): \(Format.thousands(written)) packets written, but the first reading of \(file) "
                + "had \(Format.thousands(first.counts.packets)): did it change in between?")
        }
        Diagnostics.info("teardown: wrote \(output): \(Format.thousands(written)) packet\(written == 1 ? "" : "s"), "
            + "\(Format.thousands(comments.count)) with comments")
        return first.usable
    }

    static func pickDescription(_ options: PrintOptions) -> String {
        guard case .svg(let pick) = options.format else { return "" }
        if case .index = pick { return pick.description }
        return "on " + pick.description
    }

    /// What the message refusing a link type says teardown reads instead.
    static let linkTypesRead = "teardown reads Ethernet, Linux cooked (SLL, SLL2), BSD loopback (NULL, LOOP) and raw IP captures"

    /// What happened to one input.
    struct FileResult {
        var usable = true
        var counts = PacketCounts()
        var fragments = FragmentCounts()
        var connections = 0
        /// Read cleanly, and the filter kept no packet (`TrackingStage.filteredToNothing`).
        var matchedNothing = false
        /// Reading stopped at a problem (a file cut short, a corrupt block).
        var readFailed = false
    }

    /// Replays `files` in order; returns true if any could not be read.
    ///
    /// Several files are decoded in parallel, each with its own connection tracker (a
    /// connection never spans files): the first streams to the output as it is read, the
    /// others are rendered into buffers on worker threads (as many as there are processors)
    /// and printed, in the files' order, once the files before them are done. A buffered
    /// file's output is held in memory until its turn.
    static func runAll(_ files: [String], filter: String?, bounds: TrackerBounds, printer: RecordPrinter,
                       progress: ProgressLine? = nil) -> Bool {
        guard files.count > 1 else {
            let result = run(path: files[0], filter: filter, bounds: bounds, printer: printer, progress: progress)
            if result.usable && result.matchedNothing { TrackingStage.reportNoMatch(filter: filter, files: files) }
            return !result.usable
        }
        final class Slot {
            let printer: RecordPrinter
            var usable = true
            var matchedNothing = true
            let done = DispatchSemaphore(value: 0)
            init(_ p: RecordPrinter) { printer = p }
        }
        let slots = files.dropFirst().map {
            _ in Slot(RecordPrinter(bufferingFor: printer.options, labelFiles: printer.labelFiles))
        }
        // Workers take the next file in order from a shared counter.
        final class Counter: @unchecked Sendable {
            private var value = 0
            private let queue = DispatchQueue(label: "teardown.replay.next-file")
            func next() -> Int { queue.sync { defer { value += 1 }; return value } }
        }
        let counter = Counter()
        let processors = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        let workers = min(slots.count, processors)
        DispatchQueue.global().async {
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                while true {
                    let i = counter.next()
                    guard i < slots.count else { return }
                    let result = run(path: files[i + 1], filter: filter, bounds: bounds, printer: slots[i].printer, progress: progress)
                    slots[i].usable = result.usable
                    slots[i].matchedNothing = result.matchedNothing
                    slots[i].done.signal()
                }
            }
        }
        let first = run(path: files[0], filter: filter, bounds: bounds, printer: printer, progress: progress)
        var failed = !first.usable
        var matchedNothing = first.matchedNothing
        for slot in slots {
            slot.done.wait()
            printer.append(slot.printer)
            if !slot.usable { failed = true }
            matchedNothing = matchedNothing && slot.matchedNothing
        }
        if !failed && matchedNothing { TrackingStage.reportNoMatch(filter: filter, files: files) }
        return failed
    }

    /// Decodes one file and prints its connections as they end. Errors go to stderr; everything
    /// decoded before a problem is still reported.
    ///
    /// `batched` (the default) reads and decodes on a second thread and prints on a third
    /// (`DecodingReader`, `PrintingStage`); without it, everything happens on the calling
    /// thread a packet at a time, as live capture does. Both print the same.
    static func run(path: String, filter: String?, bounds: TrackerBounds, printer: RecordPrinter,
                    batched: Bool = true, label: String? = nil, progress: ProgressLine? = nil) -> FileResult {
        var result = FileResult()
        let source: PacketSource
        do {
            source = try PacketSource.openFile(path, filter: filter)
        } catch {
            Diagnostics.error("\(error)")
            result.usable = false
            return result
        }
        let linkType = source.linkType
        // A pcapng file's interfaces each have their own link type: packets of a link type
        // teardown does not read are counted and reported at the end instead.
        guard linkType.isSupported || source.linkTypeMayChange else {
            Diagnostics.error("\(path == "-" ? "<stdin>" : path): link type \(linkType) (\(linkType.rawValue)) is not supported; "
                + linkTypesRead)
            result.usable = false
            return result
        }
        if let progress, let fd = source.fileDescriptor { progress.reading(fd) }
        defer { if let progress, let fd = source.fileDescriptor { progress.finished(fd) } }
        let label = label ?? (path == "-" ? "<stdin>" : path)
        // Comments need every row and note, whatever is printed.
        let configuration = printer.comments == nil ? bounds.configuration(for: printer.options)
            : bounds.configuration(recordEvents: true, recordNotes: true)
        var stage = TrackingStage(configuration: configuration, label: label)
        // A recording made by `teardown run --save` has its socket calls beside it: hold the
        // records back so the calls can be lined up with them (recordings are small).
        var calls: [RecordedCall]?
        if let sidecar = CallLogFile.sidecar(for: path) {
            do { calls = try CallLogFile.read(sidecar) } catch {
                Diagnostics.warning("\(error); showing packets only")
            }
        }
        // Its kernel events (the kernel lane) likewise.
        var lane: KernelLane?
        if let sidecar = KernelEventFile.sidecar(for: path) {
            do {
                let contents = try KernelEventFile.read(sidecar)
                if let e = contents.error {
                    Diagnostics.warning("\(e); the \(contents.events.count) kernel events before it are shown")
                }
                lane = contents.lane
            } catch {
                Diagnostics.warning("\(error); showing packets without the kernel's events")
            }
        }
        var held: [ConnectionRecord] = []
        let tunnels = stage.tunnels
        let printing = PrintingStage(printer: printer, source: label, tunnels: tunnels, threaded: batched)
        // Records are made from finished connections on the printing thread (`FinishedConnection`).
        var connections = 0
        let emit: (consuming FinishedConnection) -> Void = { (finished: consuming FinishedConnection) in
            connections += 1
            progress?.connectionReported()
            if calls != nil || lane != nil { held.append(tunnels.named(finished.record())) } else { printing.print(consume finished) }
        }
        defer {
            if calls != nil || lane != nil {
                held.sort { $0.index < $1.index }
                for r in RecordingPipeline.correlate(held, calls: calls, kernel: lane) { printer.print(r, source: label) }
            }
        }
        var readError: Error?
        var reassembled: FragmentReassembler?
        do {
            if batched {
                let reader = DecodingReader(source: source, hasher: stage.tracker.flowHasher, tunnels: stage.tunnels)
                defer { reassembled = reader.reassembler }
                try reader.run { stage.feed($0, emit: emit) }
            } else {
                try source.read { stage.feed($0, emit: emit); return true }
            }
        } catch {
            readError = error
        }
        stage.finish(reassembled: reassembled, emit: emit)
        printing.finish()
        result.counts = stage.counts
        result.readFailed = readError != nil
        result.fragments = stage.reassembler.counts
        result.connections = connections
        if !TrackingStage.reportEnd(readError, counts: result.counts, label: label, filter: filter) {
            result.usable = false
            return result
        }
        result.matchedNothing = readError == nil && TrackingStage.filteredToNothing(source, counts: result.counts)
        if TrackingStage.reportInterfaces(source, counts: result.counts, label: label) {
            result.usable = false
            return result
        }
        stage.reportCounts()
        TrackerBounds.report(stage.tracker, label: label)
        return result
    }
}
