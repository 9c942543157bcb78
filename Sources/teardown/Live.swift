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

    @OptionGroup var output: OutputOptions

    @OptionGroup var bounds: BoundsOptions

    func validate() throws {
        if snaplen < 64 { throw ValidationError("--snaplen must be at least 64 bytes to hold the headers.") }
        if !(1...2047).contains(bufferSize) { throw ValidationError("--buffer-size is in MiB and must be between 1 and 2047.") }
        // NaN and values past Int64 nanoseconds (about 292 years) would trap in the conversion.
        if !(linger >= 0 && linger <= 86_400) { throw ValidationError("--linger must be between 0 and 86400 seconds.") }
        if let count, count < 1 { throw ValidationError("-c must be at least 1 packet.") }
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
        request.durationNanoseconds = duration.map { Int64($0 * 1e9) }
        let status = LivePipeline.capture(request)
        if status != 0 { throw ExitCode(status) }
    }
}
