import ArgumentParser
import TeardownCapture
import TeardownDriver
import TeardownModel
import TeardownRender
import TeardownWire
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay pcap/pcapng captures and show how each TCP connection ended.",
        discussion: """
        Files are read in order; each connection is labelled with its file. `-` reads standard \
        input. Arguments after the files that are not files are taken as a BPF filter \
        (pcap-filter(7)), as tcpdump takes them; `--` ends the file list explicitly.

        Examples:
          teardown replay captures/linger-zero-unsent.pcap
          teardown replay a.pcap b.pcapng 'tcp port 8080' --format json
          tcpdump -w - -i lo | teardown replay - --summary
        """
    )

    @Argument(help: ArgumentHelp("Capture files, then an optional BPF filter expression.", valueName: "file|filter"))
    var arguments: [String] = []

    @OptionGroup var output: OutputOptions

    @OptionGroup var bounds: BoundsOptions

    func validate() throws {
        if arguments.isEmpty { throw ValidationError("Name at least one capture file (or - for standard input).") }
    }

    /// Splits the positional arguments into files and a filter: leading arguments that name
    /// existing paths (or `-`) are files; the rest, joined with spaces, is the filter.
    static func split(_ args: [String]) -> (files: [String], filter: String?) {
        var files: [String] = []
        var rest = args[...]
        if let sep = args.firstIndex(of: "--") {
            files = Array(args[..<sep])
            rest = args[(sep + 1)...]
            return (files, rest.isEmpty ? nil : rest.joined(separator: " "))
        }
        while let a = rest.first {
            var st = stat()
            let looksLikeFile = a.hasSuffix(".pcap") || a.hasSuffix(".pcapng") || a.hasSuffix(".cap")
            if a == "-" || stat(a, &st) == 0 || files.isEmpty || looksLikeFile {
                files.append(a)
                rest = rest.dropFirst()
            } else {
                break
            }
        }
        return (files, rest.isEmpty ? nil : rest.joined(separator: " "))
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        let (files, filter) = Replay.split(arguments)
        let out = OutputWriter()
        let printer = RecordPrinter(options: output, writer: out, labelFiles: files.count > 1)
        if output.summary { out.line(SummaryRenderer.header()) }   // column titles, once
        let failed = ReplayPipeline.runAll(files, filter: filter, bounds: bounds, printer: printer)
        printer.finish()
        out.flush()
        if failed { throw ExitCode(1) }
    }
}

/// Prints records in the chosen format as they arrive, to the output writer or (for a file
/// replayed in parallel with an earlier one) into memory, printed when its turn comes.
final class RecordPrinter {
    let options: OutputOptions
    /// Standard output, or a writer that keeps the output in memory.
    let writer: OutputWriter
    let color: Bool
    let labelFiles: Bool
    var tally = TeardownTally()
    var printed = 0
    // `options` read once: each read of an ArgumentParser property goes through its property
    // wrapper (a generic metadata lookup), and `print` runs once per connection.
    private let summary: Bool
    private let json: Bool
    private let includeEvents: Bool
    /// The line renderers for the file being printed (its label rendered once, not per line).
    private var summaryFile: (source: String, renderer: SummaryRenderer.FileRenderer)?
    private var jsonFile: (source: String, renderer: JSONLinesRenderer.FileRenderer)?
    private var timelineFile: (source: String, renderer: TimelineRenderer.FileRenderer)?

    convenience init(options: OutputOptions, writer: OutputWriter, labelFiles: Bool) {
        self.init(options: options, writer: writer, color: options.useColor, labelFiles: labelFiles)
    }

    /// A printer that keeps its output in memory, for `append(_:)`.
    convenience init(bufferingFor options: OutputOptions, color: Bool, labelFiles: Bool) {
        self.init(options: options, writer: OutputWriter(keepingInMemory: ()), color: color, labelFiles: labelFiles)
    }

    private init(options: OutputOptions, writer: OutputWriter, color: Bool, labelFiles: Bool) {
        self.options = options
        self.writer = writer
        self.color = color
        self.labelFiles = labelFiles
        summary = options.summary
        json = options.format == .json
        includeEvents = !options.noEvents
    }

    private func write(_ s: String) { writer.write(s) }

    private func line(_ s: String) { writer.line(s) }

    /// A line whose bytes `body` writes straight into the output (no String in between).
    private func line(_ body: (inout ByteCursor) -> Void) {
        writer.render {
            body(&$0)
            $0.write(0x0a)
        }
    }

    func print(_ record: ConnectionRecord, source: String) {
        print(CollectionOfOne(record), source: source)
    }

    /// Prints `records`, in order. A batch at a time: the file's renderer is looked up once,
    /// and each record is read where it lies rather than copied out.
    func print<Records: RandomAccessCollection>(_ records: Records, source: String) where Records.Element == ConnectionRecord {
        if summary {
            let renderer = summaryRenderer(for: source)
            var tally = TeardownTally()
            swap(&tally, &self.tally)   // counted in a local: no access check per record
            for i in records.indices {
                tally.add(records[i])
                line { renderer.write(records[i], to: &$0) }
            }
            swap(&tally, &self.tally)
            printed += records.count
        } else if json {
            let renderer = jsonRenderer(for: source)
            for i in records.indices { line { renderer.write(records[i], to: &$0) } }
            printed += records.count
        } else {
            let renderer = timelineRenderer(for: source)
            for i in records.indices {
                printed += 1
                let separated = printed > 1   // a blank line between timelines
                writer.render { c in
                    if separated { c.write(0x0a) }
                    renderer.write(records[i], to: &c)
                }
            }
        }
    }

    private func summaryRenderer(for source: String) -> SummaryRenderer.FileRenderer {
        if let file = summaryFile, file.source == source { return file.renderer }
        let renderer = SummaryRenderer.FileRenderer(source: labelFiles ? source : nil)
        summaryFile = (source, renderer)
        return renderer
    }

    private func timelineRenderer(for source: String) -> TimelineRenderer.FileRenderer {
        if let file = timelineFile, file.source == source { return file.renderer }
        let renderer = TimelineRenderer.FileRenderer(options: RenderOptions(color: color, source: source))
        timelineFile = (source, renderer)
        return renderer
    }

    private func jsonRenderer(for source: String) -> JSONLinesRenderer.FileRenderer {
        if let file = jsonFile, file.source == source { return file.renderer }
        let renderer = JSONLinesRenderer.FileRenderer(source: source, includeEvents: includeEvents)
        jsonFile = (source, renderer)
        return renderer
    }

    /// Prints what a buffering printer held back, as if its records had been printed here.
    func append(_ other: RecordPrinter) {
        guard other.printed > 0 else { return }
        if printed > 0 && !summary && !json { line("") }
        // In slices, so a writer to a file flushes as it goes.
        let kept = other.writer.kept
        var offset = 0
        while offset < kept.count {
            let end = min(kept.count, offset + (1 << 16))
            writer.append(UnsafeRawBufferPointer(rebasing: kept[offset..<end]))
            offset = end
        }
        printed += other.printed
        tally.merge(other.tally)
    }

    func finish() {
        if summary {
            line("")
            write(tally.render(color: color))
        }
    }
}

/// What happened to one input.
struct FileResult {
    var usable = true
    var packets = 0
    var tcp = 0
    var notTCP = 0
    var fragments = 0
    var invalid = 0
    var connections = 0
}

enum ReplayPipeline {
    /// Per-packet problems shown before they are only counted.
    static let shownProblems = 5

    /// Replays `files` in order; returns true if any could not be read.
    ///
    /// Several files are decoded in parallel, each with its own connection tracker (a
    /// connection never spans files): the first streams to the output as it is read, the
    /// others are rendered into buffers on worker threads (as many as there are processors)
    /// and printed, in the files' order, once the files before them are done. A buffered
    /// file's output is held in memory until its turn.
    static func runAll(_ files: [String], filter: String?, bounds: BoundsOptions, printer: RecordPrinter) -> Bool {
        guard files.count > 1 else {
            return files.contains { !run(path: $0, filter: filter, bounds: bounds, printer: printer).usable }
        }
        final class Slot {
            let printer: RecordPrinter
            var usable = true
            let done = DispatchSemaphore(value: 0)
            init(_ p: RecordPrinter) { printer = p }
        }
        let slots = files.dropFirst().map {
            _ in Slot(RecordPrinter(bufferingFor: printer.options, color: printer.color, labelFiles: printer.labelFiles))
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
                    slots[i].usable = run(path: files[i + 1], filter: filter, bounds: bounds, printer: slots[i].printer).usable
                    slots[i].done.signal()
                }
            }
        }
        var failed = !run(path: files[0], filter: filter, bounds: bounds, printer: printer).usable
        for slot in slots {
            slot.done.wait()
            printer.append(slot.printer)
            if !slot.usable { failed = true }
        }
        return failed
    }

    /// Decodes one file and prints its connections as they end. Errors go to stderr; everything
    /// decoded before a problem is still reported.
    static func run(path: String, filter: String?, bounds: BoundsOptions, printer: RecordPrinter) -> FileResult {
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
        guard linkType.isSupported else {
            Diagnostics.error("\(path == "-" ? "<stdin>" : path): link type \(linkType) (\(linkType.rawValue)) is not supported; "
                + "teardown reads Ethernet, Linux cooked (SLL, SLL2), BSD loopback (NULL, LOOP) and raw IP captures")
            result.usable = false
            return result
        }
        var tracker = ConnectionTracker(configuration: bounds.configuration(recordEvents: printer.options.needsEvents,
                                                                            recordNotes: !printer.options.summary))
        let label = path == "-" ? "<stdin>" : path
        // A recording made by `teardown run --save` has its socket calls beside it: hold the
        // records back so the calls can be lined up with them (recordings are small).
        var calls: [RecordedCall]?
        if let sidecar = CallLogFile.sidecar(for: path) {
            do { calls = try CallLogFile.read(sidecar) } catch {
                Diagnostics.warning("\(error); showing packets only")
            }
        }
        var held: [ConnectionRecord] = []
        let printing = PrintingStage(printer: printer, source: label)
        // Records are made from finished connections on the printing thread (`FinishedConnection`).
        let emit: (consuming FinishedConnection) -> Void = { (finished: consuming FinishedConnection) in
            result.connections += 1
            if calls != nil { held.append(finished.record()) } else { printing.print(consume finished) }
        }
        defer {
            if let calls {
                held.sort { $0.index < $1.index }
                for r in CallCorrelation.attach(calls, to: held) { printer.print(r, source: label) }
            }
        }
        // Per-packet counts live in locals, not in `result`: `emit` (an escaping closure) holds
        // `result`, and every access to a variable such a closure holds is checked at run time.
        var packets = 0, tcp = 0, notTCP = 0, fragments = 0, invalid = 0
        var readError: Error?
        do {
            try DecodingReader(source: source, hasher: tracker.flowHasher).run { batch in
                for i in batch.indices {   // indices, not elements: no copy of each packet
                    switch batch[i].status {
                    case .tcp:
                        tcp += 1
                    case .notTCP:
                        notTCP += 1
                    case .fragment:
                        fragments += 1
                    case .unsupportedLinkType:
                        invalid += 1
                    case .invalid(let e):
                        invalid += 1
                        if invalid <= shownProblems {
                            Diagnostics.warning("\(label): packet \(batch[i].number): \(e)")
                        }
                    }
                }
                packets += batch.count
                tracker.process(batch, emit: emit)
            }
        } catch {
            readError = error
        }
        result.packets = packets
        result.tcp = tcp
        result.notTCP = notTCP
        result.fragments = fragments
        result.invalid = invalid
        tracker.finishHandingOver(emit)
        printing.finish()
        if let readError {
            Diagnostics.warning("\(readError); the \(result.packets) packets before it are reported")
        }
        reportCounts(label, result)
        BoundsOptions.report(tracker, label: label)
        return result
    }

    static func reportCounts(_ label: String, _ r: FileResult) {
        if r.invalid > shownProblems {
            Diagnostics.warning("\(label): \(r.invalid) packets could not be decoded (the first \(shownProblems) are shown above)")
        }
        if r.packets > 0 && r.tcp == 0 {
            Diagnostics.warning("\(label): no TCP segments among \(r.packets) packets")
        }
    }
}
