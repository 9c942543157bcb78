import ArgumentParser
import Foundation
import TeardownModel
import TeardownPipeline

struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay pcap/pcapng captures and show how each TCP connection ended.",
        discussion: """
        Files are read in order; each connection is labelled with its file. `-` reads standard \
        input. Arguments after the files that are not files are taken as a BPF filter \
        (pcap-filter(7)), as tcpdump takes them; `--` ends the file list explicitly.

        Examples:
          teardown replay captures/real/linger-zero-unsent.pcap
          teardown replay a.pcap b.pcapng 'tcp port 8080' --format json
          tcpdump -w - -i lo | teardown replay - --summary
          teardown replay capture.pcap --format zeek      # Zeek's conn.log (TCP)
          teardown replay capture.pcap --format html -o report.html
          teardown replay capture.pcap --format svg --connection 3 -o c3.svg
        """
    )

    @Argument(help: ArgumentHelp("Capture files, then an optional BPF filter expression.", valueName: "file|filter"))
    var arguments: [String] = []

    @OptionGroup var output: OutputOptions

    @OptionGroup var bounds: BoundsOptions

    @Option(name: .long, help: ArgumentHelp("Print only the connections with this diagnosis (docs/diagnoses.md).", valueName: "code"))
    var diagnosis: String?

    @Flag(name: .long, help: "No progress line on stderr (shown on a terminal when a replay takes more than about a second).")
    var quiet = false
    @Option(name: .long, help: ArgumentHelp(
        "Also write the capture to this pcapng file with teardown's comments on its packets (docs/annotate.md).",
        valueName: "out.pcapng"))
    var annotate: String?

    func validate() throws {
        if arguments.isEmpty { throw ValidationError("Name at least one capture file (or - for standard input).") }
        if annotate != nil {
            let files = Replay.split(arguments).files
            if files.count != 1 { throw ValidationError("--annotate writes one capture: name one file.") }
            if files[0] == "-" { throw ValidationError("--annotate reads its capture twice: name a file, not standard input.") }
            if output.zeekJSON != nil { throw ValidationError("--annotate applies to teardown's own formats, not --format \(output.format.rawValue).") }
        }
        if let code = diagnosis {
            guard Diagnosis.Code(rawValue: code) != nil else {
                throw ValidationError("no diagnosis '\(code)'; the codes are: \(Diagnosis.Code.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            if output.zeekJSON != nil { throw ValidationError("--diagnosis applies to teardown's own formats, not --format \(output.format.rawValue).") }
        }
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
            let looksLikeFile = a.hasSuffix(".pcap") || a.hasSuffix(".pcapng") || a.hasSuffix(".cap")
            if a == "-" || FileManager.default.fileExists(atPath: a) || files.isEmpty || looksLikeFile {
                files.append(a)
                rest = rest.dropFirst()
            } else {
                break
            }
        }
        return (files, rest.isEmpty ? nil : rest.joined(separator: " "))
    }

    func run() throws {
        let (files, filter) = Replay.split(arguments)
        if let json = output.zeekJSON {
            if !ZeekPipeline.replay(files, filter: filter, json: json, bounds: bounds.bounds, output: output.output) { throw ExitCode(1) }
            return
        }
        var options = output.printOptions
        options.diagnosis = diagnosis.flatMap(Diagnosis.Code.init(rawValue:))
        if !ReplayPipeline.replay(files, filter: filter, bounds: bounds.bounds, options: options, quiet: quiet, annotate: annotate) {
            throw ExitCode(1)
        }
    }
}
