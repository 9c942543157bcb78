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
        for (i, e) in chosen.enumerated() {
            let result: ExperimentResult
            do {
                result = try Runner.run(e)
            } catch {
                Diagnostics.error("\(e.name): \(error)")
                failures += 1
                continue
            }
            if let dir = save {
                do {
                    let (p, ev) = try Runner.save(result, to: dir)
                    Diagnostics.info("teardown: saved \(p) and \(ev)")
                } catch { Diagnostics.error("\(e.name): cannot save: \(error)") }
            }
            if format == .json {
                out.line(ExperimentReport.json(result))
            } else {
                if i > 0 { out.line("") }
                out.write(ExperimentReport.text(result, color: useColor, timelines: !verdictsOnly))
            }
            out.flush()
            if !result.problems.isEmpty { failures += 1 }
        }
        out.flush()
        if failures > 0 { throw ExitCode(1) }
    }
}

/// Renders an experiment's verdicts (and its correlated timelines).
enum ExperimentReport {
    static func text(_ r: ExperimentResult, color: Bool, timelines: Bool) -> String {
        var s = Style.bold.paint("━━ experiment \(r.name) ━━", when: color) + " \(r.summary)\n"
        s += "   where      \(r.isolated ? "a private network namespace (own loopback)" : "the host's loopback") · \(r.packets.count) packets · \(r.calls.count) socket calls · \(String(format: "%.2f", Double(r.wallNanoseconds) / 1e9)) s\n"
        for p in r.problems { s += "   " + Style.red.paint("problem", when: color) + "    \(p)\n" }
        s += "\n"
        for c in r.claims {
            let (mark, word, style): (String, String, Style) = {
                switch c.verdict {
                case .holds: return ("✔", "holds", .green)
                case .doesNotHold: return ("✘", "does not hold", .red)
                case .inconclusive: return ("?", "inconclusive", .yellow)
                }
            }()
            s += "   " + style.paint("\(mark) \(word.padding(toLength: 14, withPad: " ", startingAt: 0))", when: color)
                + "\(c.claim.text)  [\(c.claim.source)]\n"
            s += "                    evidence: \(c.evidence)\n"
        }
        if timelines {
            for rec in r.records {
                s += "\n" + TimelineRenderer.render(rec, options: RenderOptions(color: color, source: r.name))
            }
        }
        return s
    }

    static func json(_ r: ExperimentResult) -> String {
        func str(_ s: String) -> String {
            let data = (try? JSONSerialization.data(withJSONObject: [s], options: [])) ?? Data("[\"\"]".utf8)
            return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
        }
        var s = "{\"schema_version\":1,\"experiment\":\(str(r.name)),\"summary\":\(str(r.summary)),\"isolated\":\(r.isolated),"
        s += "\"claims\":[" + r.claims.map { c in
            "{\"id\":\(str(c.claim.id)),\"text\":\(str(c.claim.text)),\"source\":\(str(c.claim.source)),\"verdict\":\(str(c.verdict.rawValue)),\"evidence\":\(str(c.evidence))}"
        }.joined(separator: ",") + "],"
        s += "\"problems\":[" + r.problems.map(str).joined(separator: ",") + "],"
        s += "\"calls\":[" + r.calls.map(JSONLinesRenderer.render).joined(separator: ",") + "],"
        s += "\"connections\":[" + r.records.map { JSONLinesRenderer.render($0, source: r.name, includeEvents: true) }.joined(separator: ",") + "]}"
        return s
    }
}
