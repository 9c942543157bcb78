import ArgumentParser
import TeardownCapture
import TeardownDriver
import TeardownModel
import TeardownRender
import TeardownWire
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
        var failed = false
        for path in files {
            let result = ReplayPipeline.run(path: path, filter: filter, bounds: bounds, printer: printer)
            if !result.usable { failed = true }
        }
        printer.finish()
        out.flush()
        if failed { throw ExitCode(1) }
    }
}

/// Prints records in the chosen format as they arrive.
final class RecordPrinter {
    let options: OutputOptions
    let writer: OutputWriter
    let color: Bool
    let labelFiles: Bool
    var tally = TeardownTally()
    var printed = 0

    init(options: OutputOptions, writer: OutputWriter, labelFiles: Bool) {
        self.options = options
        self.writer = writer
        self.color = options.useColor
        self.labelFiles = labelFiles
    }

    func print(_ record: ConnectionRecord, source: String) {
        printed += 1
        let label: String? = labelFiles ? source : nil
        if options.summary {
            tally.add(record)
            writer.line(SummaryRenderer.line(record, source: label))
        } else if options.format == .json {
            writer.line(JSONLinesRenderer.render(record, source: source, includeEvents: !options.noEvents))
        } else {
            if printed > 1 { writer.line("") }
            writer.write(TimelineRenderer.render(record, options: RenderOptions(color: color, source: source)))
        }
    }

    func finish() {
        if options.summary {
            writer.line("")
            writer.write(tally.render(color: color))
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
        let emit: (ConnectionRecord) -> Void = { record in
            result.connections += 1
            if calls != nil { held.append(record) } else { printer.print(record, source: label) }
        }
        defer {
            if let calls {
                held.sort { $0.index < $1.index }
                for r in CallCorrelation.attach(calls, to: held) { printer.print(r, source: label) }
            }
        }
        do {
            try source.read { packet in
                result.packets += 1
                switch PacketDecoder.decode(packet.bytes, linkType: linkType, originalLength: packet.originalLength) {
                case .tcp(let seg):
                    result.tcp += 1
                    tracker.process(seg, time: packet.time, packetNumber: packet.number, emit: emit)
                case .notTCP:
                    result.notTCP += 1
                case .fragment:
                    result.fragments += 1
                case .unsupportedLinkType:
                    result.invalid += 1
                case .invalid(let e):
                    result.invalid += 1
                    if result.invalid <= shownProblems {
                        Diagnostics.warning("\(label): packet \(packet.number): \(e)")
                    }
                }
                return true
            }
        } catch {
            tracker.finish(emit: emit)
            Diagnostics.warning("\(error); the \(result.packets) packets before it are reported")
            reportCounts(label, result)
            BoundsOptions.report(tracker, label: label)
            return result
        }
        tracker.finish(emit: emit)
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
