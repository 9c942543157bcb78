import ArgumentParser
import TeardownCapture
import TeardownModel
import TeardownRender
import TeardownWire
#if canImport(Glibc)
import Glibc
#endif

struct Live: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Capture on an interface and show each TCP connection's ending as it happens.",
        discussion: """
        Needs the privilege to capture: run with sudo, or grant it once with
          sudo setcap cap_net_raw,cap_net_admin=eip "$(command -v teardown)"
        As root, teardown switches to an unprivileged user right after opening the device and \
        before reading a packet (-Z; under sudo, the invoking user by default).
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

    @Option(name: .long, help: "Snapshot length: bytes kept per packet.")
    var snaplen: Int32 = 262_144

    // 64 MiB: on a loaded 2-core machine (bench/live_load.sh, BENCHMARKS.md) 8 MiB dropped
    // packets from about 2,000 short connections a second and 32 MiB at the load's maximum
    // (about 7,000 a second); 64 MiB dropped none. tcpdump's -B is the same knob.
    @Option(name: .long, help: "Kernel capture buffer size in MiB (a burst the program cannot take at once waits here).")
    var bufferSize: Int32 = 64

    @Option(name: .customShort("Z"), help: ArgumentHelp("After opening the device, switch to this user (default: the sudo user).", valueName: "user"))
    var user: String?

    @Option(name: .long, help: "Seconds a finished connection waits for late packets before it is printed.")
    var linger: Double = 1.0

    @OptionGroup var output: OutputOptions

    @OptionGroup var bounds: BoundsOptions

    func validate() throws {
        if snaplen < 64 { throw ValidationError("--snaplen must be at least 64 bytes to hold the headers.") }
        if bufferSize < 1 { throw ValidationError("--buffer-size is in MiB and must be at least 1.") }
        // NaN and values past Int64 nanoseconds (about 292 years) would trap in the conversion.
        if !(linger >= 0 && linger <= 86_400) { throw ValidationError("--linger must be between 0 and 86400 seconds.") }
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        var options = LiveOptions()
        options.snapshotLength = snaplen
        options.bufferSize = bufferSize << 20
        let source: PacketSource
        do {
            source = try PacketSource.openLive(interface: interface, options: options,
                                               filter: filter.isEmpty ? nil : filter.joined(separator: " "),
                                               warn: { Diagnostics.warning($0) })
        } catch let e as CaptureError {
            Diagnostics.error("\(e)")
            throw ExitCode(e.kind == .permission ? 77 : 1)   // 77: EX_NOPERM (sysexits.h)
        }
        if let target = user ?? Privileges.defaultUser {
            do { try Privileges.drop(to: target) } catch {
                Diagnostics.error("\(error)")
                throw ExitCode(1)
            }
        }
        var writer: PcapWriter?
        if let path = writeFile {
            do { writer = try PcapWriter(path: path, source: source) } catch {
                Diagnostics.error("\(error)")
                throw ExitCode(1)
            }
        }
        StopSignals.install(for: source)
        let linkType = source.linkType
        guard linkType.isSupported else {
            Diagnostics.error("\(interface): link type \(linkType) (\(linkType.rawValue)) is not supported")
            throw ExitCode(1)
        }
        Diagnostics.info("teardown: capturing on \(interface), link type \(linkType)\(getuid() == 0 ? "" : ", running as uid \(getuid())"); Ctrl-C to stop")

        let out = OutputWriter()
        let printer = RecordPrinter(options: output, writer: out, labelFiles: false)
        if output.summary { out.line(SummaryRenderer.header()) }   // column titles, once
        var tracker = ConnectionTracker(configuration: bounds.configuration(recordEvents: output.needsEvents,
                                                                            recordNotes: !output.summary,
                                                                            lingerNanoseconds: Int64(linger * 1e9)))
        let emit: (ConnectionRecord) -> Void = { record in
            printer.print(record, source: interface)
            out.flush()
        }
        let nano = source.nanosecondPrecision
        do {
            try source.read(idle: {
                tracker.expire(before: PacketClock.now().nanoseconds, emit: emit)
            }) { packet in
                writer?.write(packet, nanosecondPrecision: nano)
                writer?.flush()
                if let seg = PacketDecoder.segment(packet.bytes, linkType: linkType, originalLength: packet.originalLength) {
                    tracker.process(seg, time: packet.time, packetNumber: packet.number, emit: emit)
                }
                return true
            }
        } catch {
            Diagnostics.error("\(error)")
        }
        writer?.close()
        let open = tracker.unfinishedConnections
        tracker.finish(emit: emit)
        printer.finish()
        out.flush()
        BoundsOptions.report(tracker, label: interface)
        if let st = source.statistics() {
            Diagnostics.info("teardown: \(source.packetCount) packets captured, \(st.received) received by filter, "
                + "\(st.dropped) dropped by kernel\(st.droppedByInterface > 0 ? ", \(st.droppedByInterface) dropped by interface" : "")"
                + (open > 0 ? "; \(open) connection\(open == 1 ? " was" : "s were") still open" : ""))
        }
    }
}
