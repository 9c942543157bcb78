import ArgumentParser
import Foundation
import TeardownCapture
import TeardownDriver
import TeardownPipeline

struct Trace: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a program (or attach to one) and show its connections with the socket calls that ended them.",
        discussion: """
        Runs the program under strace(1), which records its socket calls (socket, connect, \
        accept, setsockopt, shutdown, close, the read and write families with byte counts) \
        across fork, threads and exec, static binaries included; captures its packets with \
        libpcap; and prints each of its connections as `run` prints an experiment's: the calls \
        on the side that made them, the application's bytes (written, sent, acknowledged, read, \
        lost) and, as root, the kernel's account (the reason for each RST it sent, its states).
        Needs the privilege to capture (sudo) and strace (Debian: apt-get install strace).
        The program's exit status becomes teardown's (128 + the signal that killed it). Ctrl-C \
        reaches the program, as it would without teardown; teardown prints when it has ended \
        (a third Ctrl-C kills it). -w FILE.pcap saves the packets with FILE.events.jsonl (the \
        calls) and FILE.kernel.jsonl (the kernel's events) beside it: `teardown replay \
        FILE.pcap` prints the same. docs/trace.md says what it costs and what it cannot see.

        Examples:
          sudo teardown trace -- curl -s http://127.0.0.1:8000/
          sudo teardown trace -w client.pcap -- python3 client.py
          sudo teardown trace --pid 4242          # until it exits, or Ctrl-C
        """
    )

    @Option(name: .long, help: ArgumentHelp("Attach to this running process (its threads, and what it forks from then on) instead of starting one.", valueName: "pid"))
    var pid: Int32?

    @Option(name: .shortAndLong, help: "The interface to capture on: any (every interface, loopback included) by default.")
    var interface: String = "any"

    @Option(name: .customShort("w"), help: ArgumentHelp("Save the program's packets to this pcap file, its calls and the kernel's events beside it.", valueName: "file"))
    var writeFile: String?

    @Option(name: .long, help: ArgumentHelp(
        "Once the program has ended, also write its packets to this pcapng file with teardown's comments on them.",
        valueName: "out.pcapng"))
    var annotate: String?

    @Option(name: .long, help: "Snapshot length: bytes kept per packet.")
    var snaplen: Int32 = 262_144

    @Option(name: .long, help: "Kernel capture buffer size in MiB.")
    var bufferSize: Int32 = 64

    @OptionGroup var output: OutputOptions

    @OptionGroup var bounds: BoundsOptions

    @Argument(parsing: .postTerminator, help: ArgumentHelp("The program and its arguments, after --.", valueName: "command"))
    var command: [String] = []

    func validate() throws {
        if pid == nil && command.isEmpty {
            throw ValidationError("Name a program after -- (teardown trace -- curl http://example.com/) or a process with --pid.")
        }
        if pid != nil && !command.isEmpty { throw ValidationError("--pid and a program are alternatives; choose one.") }
        if snaplen < 64 { throw ValidationError("--snaplen must be at least 64 bytes to hold the headers.") }
        if bufferSize < 1 || bufferSize > 2047 { throw ValidationError("--buffer-size is in MiB, from 1 to 2047.") }
        if output.zeekJSON != nil {
            throw ValidationError("--format \(output.format.rawValue) is for replay: save with -w, then `teardown replay FILE --format \(output.format.rawValue)`.")
        }
    }

    func run() throws {
        OutputWriter.ignoreSIGPIPE()
        var dir: String?
        let pcap: String
        if let writeFile {
            pcap = writeFile
        } else {
            var template = Array((NSTemporaryDirectory() + "/teardown-trace-out.XXXXXX").utf8CString)
            guard let d = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }).map({ String(cString: $0) }) else {
                Diagnostics.error("trace: cannot make a temporary directory: \(String(cString: strerror(errno)))")
                throw ExitCode(73)
            }
            dir = d
            pcap = d + "/trace.pcap"
        }
        defer { if let dir { try? FileManager.default.removeItem(atPath: dir) } }
        // A path that cannot be written is said before the program runs.
        if let annotate {
            guard let check = ReplayPipeline.openAnnotation(annotate, input: pcap) else { throw ExitCode(1) }
            try? check.close()
        }
        let request = Tracer.Request(command: pid == nil ? command : nil, pid: pid, interface: interface,
                                     snapshotLength: snaplen, bufferSize: bufferSize << 20)
        let outcome: Tracer.Outcome
        do {
            outcome = try Tracer.run(request, pcapPath: pcap)
        } catch let f as Tracer.Failure {
            Diagnostics.error("trace: \(f.description)")
            throw ExitCode(f.status)
        }
        let who = pid.map { "process \($0)" } ?? command.joined(separator: " ")
        Diagnostics.info("teardown: traced \(who): \(outcome.calls) socket calls, \(outcome.packets) packets on "
            + "\(outcome.connections) connection\(outcome.connections == 1 ? "" : "s")"
            + (writeFile.map { "; saved \($0) with its calls and kernel events beside it" } ?? ""))
        let label = writeFile ?? "trace of \(who)"
        if !ReplayPipeline.replay([pcap], filter: nil, bounds: bounds.bounds, options: output.printOptions, label: label,
                                  annotate: annotate) {
            throw ExitCode(outcome.status == 0 ? 1 : outcome.status)
        }
        if outcome.status != 0 { throw ExitCode(outcome.status) }
    }
}
