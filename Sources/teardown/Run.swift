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

    @Option(name: .long, help: "Output format: timeline (verdicts, then the correlated timelines) or json (one object per experiment).")
    var format: OutputOptions.Format = .timeline

    @Flag(name: .long, help: "Only the verdicts, no timelines.")
    var verdictsOnly = false

    @Option(name: .long, help: "Colour: auto, always, never.")
    var color: OutputOptions.ColorChoice = .auto

    @Flag(name: .long, help: "Same as --color never.")
    var noColor = false

    func validate() throws {
        if names.isEmpty { throw ValidationError("Name an experiment (`teardown scenarios` lists them) or `all`.") }
        if format != .timeline && format != .json {
            throw ValidationError("run prints --format timeline or json; replay its saved capture for --format \(format.rawValue).")
        }
        for n in names where n != "all" && Experiments.named(n) == nil {
            throw ValidationError("No experiment named '\(n)'. `teardown scenarios` lists them.")
        }
    }

    func run() throws {
        OutputWriter.ignoreSIGPIPE()
        if !Privileges.isRoot {
            Diagnostics.error("run needs root: it creates a network namespace per experiment and captures its loopback. Try: sudo teardown run \(names.joined(separator: " "))")
            throw ExitCode(77)
        }
        let chosen = names.contains("all") ? Experiments.all : names.compactMap(Experiments.named)
        let out = OutputWriter()
        var opts = OutputOptions()
        opts.color = color
        opts.noColor = noColor
        let useColor = opts.useColor
        var failures = 0
        var kernelLinesShown = Set<String>()
        for (i, e) in chosen.enumerated() {
            let result: ExperimentResult
            do {
                result = try Runner.run(e)
            } catch {
                Diagnostics.error("\(e.name): \(error)")
                failures += 1
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
                } catch { Diagnostics.error("\(e.name): cannot save: \(error)") }
            }
            if format == .json {
                out.line(ExperimentReport.json(result.outcome))
            } else {
                if i > 0 { out.line("") }
                out.write(ExperimentReport.text(result.outcome, color: useColor, timelines: !verdictsOnly))
            }
            out.flush()
            if !result.problems.isEmpty { failures += 1 }
        }
        out.flush()
        if failures > 0 { throw ExitCode(1) }
    }
}
