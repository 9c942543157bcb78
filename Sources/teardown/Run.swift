import ArgumentParser
import Foundation
import TeardownDriver
import TeardownCapture
import TeardownModel
import TeardownPipeline
import TeardownRender

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run bundled experiments: real close()/shutdown()/SO_LINGER calls, captured, correlated and judged.",
        discussion: """
        Each experiment runs in a private network namespace (its own loopback and sysctls), \
        captures its packets with libpcap, lines every socket call up with the packets it caused, \
        accounts for every byte, and says which claims from the literature hold on this kernel. \
        Needs root (namespaces and capture): sudo teardown run linger-zero. `teardown scenarios` \
        lists the names; `all` runs every one.
        """
    )

    @Argument(help: "Experiment names, or `all`.")
    var names: [String]

    @Option(name: .long, help: ArgumentHelp("Write NAME.pcap and NAME.events.jsonl into this directory.", valueName: "dir"))
    var save: String?

    @Option(name: .long, help: "Output format: timeline (verdicts, then the correlated timelines), json (one object per experiment) or html (one page of every experiment's connections, their ladders drawn).")
    var format: OutputOptions.Format = .timeline

    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("Write the output to this file instead of standard output.", valueName: "file"))
    var output: String?

    @Flag(name: .long, help: "Only the verdicts, no timelines.")
    var verdictsOnly = false

    @Option(name: .long, help: "Colour: auto, always, never.")
    var color: OutputOptions.ColorChoice = .auto

    @Flag(name: .long, help: "Same as --color never.")
    var noColor = false

    @Option(name: .long, help: ArgumentHelp(
        "Lay timelines out for N columns (default: the terminal's width, or COLUMNS; the wide layout in a pipe or file).",
        valueName: "n"))
    var width: Int?

    func validate() throws {
        if let width, width < OutputOptions.minimumWidth {
            throw ValidationError("--width must be at least \(OutputOptions.minimumWidth) columns, not \(width).")
        }
        if names.isEmpty { throw ValidationError("Name an experiment (`teardown scenarios` lists them) or `all`.") }
        if format != .timeline && format != .json && format != .html {
            throw ValidationError("run prints --format timeline, json or html; replay its saved capture for --format \(format.rawValue).")
        }
        if verdictsOnly && format == .html { throw ValidationError("--verdicts-only applies to --format timeline.") }
        for n in names where n != "all" && Experiments.named(n) == nil {
            throw ValidationError("No experiment named '\(n)'. `teardown scenarios` lists them.")
        }
    }

    func run() throws {
        OutputWriter.ignoreSIGPIPE()
        // A directory --save cannot use is said before anything runs (and before asking for root).
        if let dir = save, let problem = Run.problem(withSaveDirectory: dir) {
            Diagnostics.error(problem)
            throw ExitCode(1)
        }
        if !Privileges.isRoot {
            Diagnostics.error("run needs root: it creates a network namespace per experiment and captures its loopback. Try: sudo teardown run \(names.joined(separator: " "))")
            throw ExitCode(77)
        }
        if let dir = save, let problem = Run.make(saveDirectory: dir) {
            Diagnostics.error(problem)
            throw ExitCode(1)
        }
        let chosen = names.contains("all") ? Experiments.all : names.compactMap(Experiments.named)
        guard let out = OutputWriter.open(output) else { throw ExitCode(1) }
        // --format html: one page of every experiment's connections, each labelled with its experiment.
        let page = format == .html ? RecordPrinter(options: PrintOptions(format: .html, color: false), writer: out, labelFiles: true) : nil
        page?.begin()
        var opts = OutputOptions()
        opts.color = color
        opts.noColor = noColor
        let useColor = opts.useColor
        var failures = 0
        var outcomes: [ExperimentOutcome] = []
        var couldNotRun: [String] = []
        var kernelLinesShown = Set<String>()
        for (i, e) in chosen.enumerated() {
            let result: ExperimentResult
            do {
                result = try Runner.run(e)
            } catch {
                Diagnostics.error("\(e.name): \(error)")
                failures += 1
                couldNotRun.append(e.name)
                continue
            }
            // The kernel lane's problems once each (not root, no tracefs, an unknown format ...).
            for line in result.kernelLines where kernelLinesShown.insert(line).inserted {
                Diagnostics.warning(line)
            }
            if let dir = save {
                do {
                    let (p, ev) = try Runner.save(result, to: dir)
                    Diagnostics.info("teardown: saved \(p) and \(ev)" + (result.kernel != nil ? " and the kernel's events beside them" : ""))
                } catch {
                    Diagnostics.error("\(e.name): cannot save: \(Run.describe(error))")
                    failures += 1
                }
            }
            if let page {
                page.print(result.outcome.records, source: e.name)
            } else if format == .json {
                out.line(ExperimentReport.json(result.outcome))
            } else {
                if i > 0 { out.line("") }
                out.write(ExperimentReport.text(result.outcome, color: useColor, timelines: !verdictsOnly, sources: chosen.count == 1,
                                                    width: PrintOptions.terminalWidth(forced: width)))
            }
            out.flush()
            outcomes.append(result.outcome)
            if !result.problems.isEmpty { failures += 1 }
        }
        // Several experiments end with how they fared, together (JSON stays one object each).
        page?.finish()
        if chosen.count > 1 && format == .timeline {
            out.line("")
            out.write(ExperimentReport.tally(outcomes, failed: couldNotRun, color: useColor))
        }
        out.flush()
        if failures > 0 { throw ExitCode(1) }
    }

    /// Why `--save DIR` cannot be used, as `mkdir` would see it: a file of that name, or a
    /// parent that does not exist or is not a directory; nil when it is a directory or can be
    /// made.
    static func problem(withSaveDirectory dir: String) -> String? {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory) {
            return isDirectory.boolValue ? nil : "--save \(dir): exists and is not a directory"
        }
        let parent = (dir as NSString).deletingLastPathComponent
        guard !parent.isEmpty else { return nil }
        if !FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory) {
            return "--save \(dir): \(parent) does not exist (make it first, or name an existing directory)"
        }
        return isDirectory.boolValue ? nil : "--save \(dir): \(parent) is not a directory"
    }

    /// Makes `--save`'s directory when it does not exist yet (its parent does: checked by
    /// `problem(withSaveDirectory:)`), and says so; the one line owed when that fails.
    static func make(saveDirectory dir: String) -> String? {
        if FileManager.default.fileExists(atPath: dir) { return nil }
        if mkdir(dir, 0o755) != 0 {
            return "--save \(dir): cannot create the directory: \(String(cString: strerror(errno)))"
        }
        Diagnostics.info("teardown: created \(dir)")
        return nil
    }

    /// An error as one line: Foundation's file errors by their path and the system's words
    /// for their errno, not as `Error Domain=NSCocoaErrorDomain Code=...`.
    static func describe(_ error: Error) -> String {
        let ns = error as NSError
        guard ns.domain == NSCocoaErrorDomain else { return "\(error)" }
        let path = ns.userInfo[NSFilePathErrorKey] as? String
        var reason = ns.localizedDescription
        if let u = ns.userInfo[NSUnderlyingErrorKey] as? NSError, u.domain == NSPOSIXErrorDomain {
            reason = String(cString: strerror(Int32(u.code)))
        }
        return path.map { "\($0): \(reason)" } ?? reason
    }
}
