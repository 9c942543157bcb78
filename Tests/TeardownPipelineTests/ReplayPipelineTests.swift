import Testing
import TeardownCapture
import TeardownModel
import TeardownWire
@testable import TeardownPipeline
#if canImport(Glibc)
import Glibc
#endif

/// Replay through the pipeline, printed into memory: the batched path (reading, tracking and
/// printing on three threads) against the single-packet path (everything on one thread, as
/// live and run feed it), several files against one at a time, standard input against the file.
@Suite struct ReplayPipelineTests {
    static let modes: [PrintOptions] = [
        PrintOptions(format: .timeline, color: false),
        PrintOptions(format: .json(events: true), color: false),
        PrintOptions(format: .summary, color: true),
    ]

    /// What replaying `paths` one after the other prints, and each file's result.
    static func replay(_ paths: [String], _ options: PrintOptions, batched: Bool = true,
                       labelFiles: Bool = false) -> (output: [UInt8], results: [ReplayPipeline.FileResult]) {
        let printer = RecordPrinter(bufferingFor: options, labelFiles: labelFiles)
        printer.begin()
        let results = paths.map {
            ReplayPipeline.run(path: $0, filter: nil, bounds: TrackerBounds(), printer: printer, batched: batched)
        }
        printer.finish()
        return (Array(printer.writer.kept), results)
    }

    /// Every capture, in every format, prints the same bytes and counts the same packets
    /// through both paths (recordings with a sidecar included: their calls are lined up).
    @Test(arguments: PipelineTests.captures + ReplayPipelineTests.recordings)
    func batchedPath_printsWhatTheSinglePacketPathPrints(_ path: String) {
        for options in Self.modes {
            let batched = Self.replay([path], options)
            let single = Self.replay([path], options, batched: false)
            #expect(!batched.output.isEmpty || path.hasSuffix("/non-tcp.pcap"), "\(path)")
            #expect(batched.output == single.output, "\(path) \(options.format)")
            #expect(batched.results[0].counts == single.results[0].counts, "\(path)")
            #expect(batched.results[0].connections == single.results[0].connections, "\(path)")
        }
    }

    /// Several files read in parallel (the later ones buffered on other threads) print what
    /// replaying them one after the other prints, in the order given.
    @Test func severalFiles_printInTheOrderGiven() {
        let files = Array(PipelineTests.captures.prefix(6).reversed()) + [PipelineTests.captures[0]]
        for options in Self.modes {
            let printer = RecordPrinter(bufferingFor: options, labelFiles: true)
            printer.begin()
            #expect(!ReplayPipeline.runAll(files, filter: nil, bounds: TrackerBounds(), printer: printer))
            printer.finish()
            let sequential = Self.replay(files, options, labelFiles: true)
            #expect(Array(printer.writer.kept) == sequential.output, "\(options.format)")
        }
    }

    /// A file that cannot be read fails the replay, and the files around it are still printed.
    @Test func unreadableFile_failsTheReplay_andTheOthersArePrinted() {
        let good = PipelineTests.captures[0]
        let options = PrintOptions(format: .json(events: false), color: false)
        let printer = RecordPrinter(bufferingFor: options, labelFiles: true)
        #expect(ReplayPipeline.runAll([good, "/nonexistent.pcap", good], filter: nil, bounds: TrackerBounds(), printer: printer))
        #expect(Array(printer.writer.kept) == Self.replay([good, good], options, labelFiles: true).output)
    }

    /// A file cut inside a record: the packets before the cut are counted and their
    /// connections printed, on both paths, and the file still counts as read.
    @Test(arguments: [true, false])
    func readError_keepsWhatWasReadBeforeIt(batched: Bool) throws {
        let path = PipelineTests.root + "/captures/malformed/record-cut.pcap"
        var before = 0
        let plain = try PacketSource.openFile(path)
        #expect(throws: CaptureError.self) { try plain.read { _ in before += 1; return true } }
        let (output, results) = Self.replay([path], PrintOptions(format: .json(events: true), color: false), batched: batched)
        #expect(before > 0)
        #expect(results[0].usable)
        #expect(results[0].counts.packets == before)
        #expect(results[0].connections > 0)
        #expect(!output.isEmpty)
    }

    /// `-` reads standard input: the same output as the file itself (the summary does not
    /// name the input).
    @Test func standardInput_isReadLikeAFile() throws {
        let path = PipelineTests.root + "/captures/real/many-connections.pcap"
        let options = PrintOptions(format: .summary, color: false)
        let saved = dup(STDIN_FILENO)
        let fd = open(path, O_RDONLY)
        try #require(saved >= 0 && fd >= 0)
        dup2(fd, STDIN_FILENO)
        close(fd)
        clearerr(stdin)
        let piped = Self.replay(["-"], options)
        dup2(saved, STDIN_FILENO)
        close(saved)
        clearerr(stdin)
        let direct = Self.replay([path], options)
        #expect(piped.results[0].usable)
        #expect(piped.results[0].counts == direct.results[0].counts)
        #expect(piped.output == direct.output)
    }

    /// The recordings of the bundled experiments (each with its NAME.events.jsonl).
    static let recordings: [String] = ["client-close", "linger-zero", "shutdown-write"].map {
        PipelineTests.root + "/captures/experiments/\($0).pcap"
    }
}

/// `run`'s way in: packets held in memory, one at a time.
@Suite struct RecordingPipelineTests {
    /// The records of a recording equal those the replay of its file makes, calls attached.
    @Test(arguments: ReplayPipelineTests.recordings)
    func recording_givesTheRecordsOfItsReplay(_ path: String) throws {
        let source = try PacketSource.openFile(path)
        var packets: [(Timestamp, [UInt8], Int)] = []
        _ = try source.read { p in packets.append((p.time, Array(p.bytes), p.originalLength)); return true }
        let calls = try CallLogFile.read(try #require(CallLogFile.sidecar(for: path)))
        let records = RecordingPipeline.records(calls: calls) { feed in
            for (i, p) in packets.enumerated() {
                p.1.withUnsafeBytes { feed(CapturedPacket(time: p.0, bytes: $0, originalLength: p.2, number: i + 1, linkType: source.linkType)) }
            }
        }
        var expected: [ConnectionRecord] = []
        var tracker = ConnectionTracker(configuration: .init(recordEvents: true, recordNotes: true))
        _ = try PacketSource.openFile(path).read { p in
            if let seg = PacketDecoder.segment(p.bytes, linkType: source.linkType, originalLength: p.originalLength) {
                tracker.process(seg, time: p.time, packetNumber: p.number) { expected.append($0) }
            }
            return true
        }
        tracker.finish { expected.append($0) }
        expected.sort { $0.index < $1.index }
        #expect(!records.isEmpty)
        #expect(records == CallCorrelation.attach(calls, to: expected))
    }
}
