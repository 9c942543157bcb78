import ArgumentParser
import TeardownCapture
import TeardownPipeline

struct Live: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Capture on an interface and show each TCP connection's ending as it happens.",
        discussion: """
        Needs the privilege to capture: run with sudo, or grant it once with
          sudo setcap cap_net_raw,cap_net_admin=eip "$(command -v teardown)"
        As root, teardown switches to an unprivileged user right after opening the device and \
        before reading a packet (-Z; under sudo, the invoking user by default).
        As root, the kernel's own account of each connection (its sockets' states, the reason \
        for each RST this host sends) is recorded and shown with it; with -w FILE.pcap it is \
        saved as FILE.kernel.jsonl, which `teardown replay FILE.pcap` reads.
        Ctrl-C or SIGTERM stops cleanly: -w output is flushed, connections still open are \
        reported, and packet counts are printed. A second Ctrl-C exits at once.

        Examples:
          sudo teardown live -i lo 'tcp port 8080'
          sudo teardown live -i eth0 -w session.pcap --format json
        """
    )

    @Option(name: .shortAndLong, help: "The interface to capture on (e.g. lo, eth0).")
    var interface: String

    @Argument(help: ArgumentHelp("An optional BPF filter expression (pcap-filter(7)).", valueName: "filter"))
    var filter: [String] = []

    @Option(name: .customShort("w"), help: ArgumentHelp("Also write every captured packet to this pcap file, flushed as it goes.", valueName: "file"))
    var writeFile: String?

    @Option(name: .long, help: ArgumentHelp(
        "Once the capture ends, write the -w file again to this pcapng file with teardown's comments on its packets.",
        valueName: "out.pcapng"))
    var annotate: String?

    @Option(name: .long, parsing: .unconditional, help: "Snapshot length: bytes kept per packet.")
    var snaplen: Int32 = 262_144

    // 64 MiB: on a loaded 2-core machine (bench/live_load.sh, BENCHMARKS.md) 8 MiB dropped
    // packets from about 2,000 short connections a second and 32 MiB at the load's maximum
    // (about 7,000 a second); 64 MiB dropped none. tcpdump's -B is the same knob.
    @Option(name: .long, parsing: .unconditional, help: "Kernel capture buffer size in MiB (a burst the program cannot take at once waits here).")
    var bufferSize: Int32 = 64

    @Option(name: .customShort("Z"), help: ArgumentHelp("After opening the device, switch to this user (default: the sudo user).", valueName: "user"))
    var user: String?

    @Option(name: .long, parsing: .unconditional, help: "Seconds a finished connection waits for late packets before it is printed.")
    var linger: Double = 1.0

    @Option(name: .customShort("c"), parsing: .unconditional, help: ArgumentHelp(
        "Stop after this many packets (those the filter keeps), as tcpdump's -c.", valueName: "count"))
    var count: Int?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp(
        "Stop after this many seconds of capture.", valueName: "seconds"))
    var duration: Double?

    @Option(name: .customShort("C"), parsing: .unconditional, help: ArgumentHelp(
        "With -w: before writing a packet, a file larger than this many MB (1,000,000 bytes) is closed and the next opened: FILE, FILE1, FILE2 … (tcpdump's -C).",
        valueName: "MB"))
    var fileSize: Int?

    @Option(name: .customShort("G"), parsing: .unconditional, help: ArgumentHelp(
        "With -w: a new file every this many seconds, FILE expanded by strftime(3) (tcpdump's -G).",
        valueName: "seconds"))
    var rotateSeconds: Int?

    @Option(name: .customShort("W"), parsing: .unconditional, help: ArgumentHelp(
        "With -C: at most this many files, FILE0 … FILEn-1, the oldest overwritten; with -G alone: stop after this many files (tcpdump's -W).",
        valueName: "count"))
    var fileCount: Int?

    @OptionGroup var output: OutputOptions

    @OptionGroup var bounds: BoundsOptions

    func validate() throws {
        if snaplen < 64 { throw ValidationError("--snaplen must be at least 64 bytes to hold the headers.") }
        if !(1...2047).contains(bufferSize) { throw ValidationError("--buffer-size is in MiB and must be between 1 and 2047.") }
        // NaN and values past Int64 nanoseconds (about 292 years) would trap in the conversion.
        if !(linger >= 0 && linger <= 86_400) { throw ValidationError("--linger must be between 0 and 86400 seconds.") }
        if annotate != nil && writeFile == nil { throw ValidationError("--annotate writes the -w file again: give -w FILE.pcap too.") }
        if let count, count < 1 { throw ValidationError("-c must be at least 1 packet.") }
        if let fileSize, !(1...1_000_000).contains(fileSize) { throw ValidationError("-C must be from 1 to 1000000 MB.") }
        if let rotateSeconds, rotateSeconds < 1 { throw ValidationError("-G must be at least 1 second.") }
        if let fileCount, !(1...1_000_000).contains(fileCount) { throw ValidationError("-W must be from 1 to 1000000 files.") }
        if (fileSize != nil || rotateSeconds != nil || fileCount != nil) && writeFile == nil {
            throw ValidationError("-C, -G and -W rotate the -w file; name one with -w.")
        }
        if fileCount != nil && fileSize == nil && rotateSeconds == nil { throw ValidationError("-W applies with -C or -G.") }
        if annotate != nil && (fileSize != nil || rotateSeconds != nil) {
            throw ValidationError("--annotate reads the one -w file again; with -C or -G there are several: annotate each with `teardown replay FILE --annotate OUT.pcapng`.")
        }
        // NaN and values past Int64 nanoseconds (about 292 years) would trap in the conversion.
        if let duration, !(duration > 0 && duration <= 1e9) { throw ValidationError("--duration must be a positive number of seconds.") }
        if output.zeekJSON != nil || output.format == .svg {
            throw ValidationError("--format \(output.format.rawValue) is for replay: save with -w, then `teardown replay FILE --format \(output.format.rawValue)`.")
        }
    }

    func run() throws {
        var capture = LiveOptions()
        capture.snapshotLength = snaplen
        capture.bufferSize = bufferSize << 20
        var request = LivePipeline.Request(
            interface: interface, filter: filter.isEmpty ? nil : filter.joined(separator: " "), writeFile: writeFile,
            capture: capture, user: user, lingerNanoseconds: Int64(linger * 1e9),
            bounds: bounds.bounds, options: output.printOptions)
        request.packetLimit = count
        request.annotate = annotate
        request.durationNanoseconds = duration.map { Int64($0 * 1e9) }
        request.rotation = FileRotation(bytes: fileSize.map { Int64($0) * 1_000_000 }, seconds: rotateSeconds.map(Int64.init),
                                        files: fileCount)
        let status = LivePipeline.capture(request)
        if status != 0 { throw ExitCode(status) }
    }
}
