import TeardownModel

/// `teardown run`'s report of one experiment: where it ran, the verdict on each claim with its
/// evidence, then the timeline of every connection it made; or all of it as one JSON object.
public enum ExperimentReport {
    /// The verdicts (and, with `timelines`, each connection's timeline) as text. Each verdict
    /// cites its works in words (`Bibliography.cite`); with `sources`, a line after the
    /// verdicts names the page that lists them (a run of several experiments says it once,
    /// in its `tally`).
    public static func text(_ r: ExperimentOutcome, color: Bool, timelines: Bool, sources: Bool = false, width: Int? = nil) -> String {
        var s = Style.bold.paint("━━ experiment \(r.name) ━━", when: color) + " \(r.summary)\n"
        let seconds = ByteCursor.string { $0.writeSeconds(nanoseconds: r.wallNanoseconds, decimals: 2) }
        s += "   where      \(r.isolated ? "a private network namespace (own loopback)" : "the host's loopback") · \(r.packetCount) packets · \(r.calls.count) socket calls · \(seconds) s\n"
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
            s += "   " + style.paint("\(mark) \(word)" + String(repeating: " ", count: max(0, 14 - word.count)), when: color)
                + "\(c.claim.text)  [\(Bibliography.cite(c.claim.source))]\n"
            s += "                    evidence: \(c.evidence)\n"
        }
        if sources && !r.claims.isEmpty { s += "   sources    \(sourcesNote)\n" }
        if timelines {
            for rec in r.records {
                s += "\n" + TimelineRenderer.render(rec, options: RenderOptions(color: color, source: r.name, width: width))
            }
        }
        return s
    }

    /// One JSON object (one line, no newline): the experiment, its claims with verdict and
    /// evidence, problems, every recorded call (as in NAME.events.jsonl) and every connection
    /// (as `--format json` writes it, events included, `file` the experiment's name).
    public static func json(_ r: ExperimentOutcome) -> String {
        let connection = JSONLinesRenderer.FileRenderer(source: r.name, includeEvents: true)
        return ByteCursor.string(initialCapacity: 4096) { cursor in
            var w = JSONWriter(cursor)
            w.beginObject()
            w.key("schema_version"); w.int(1)
            w.key("experiment"); w.stringEscapingSlashes(r.name)
            w.key("summary"); w.stringEscapingSlashes(r.summary)
            w.key("isolated"); w.bool(r.isolated)
            w.key("claims"); w.beginArray()
            for c in r.claims {
                w.beginObject()
                w.key("id"); w.stringEscapingSlashes(c.claim.id)
                w.key("text"); w.stringEscapingSlashes(c.claim.text)
                w.key("source"); w.stringEscapingSlashes(c.claim.source)
                w.key("cites"); w.stringEscapingSlashes(Bibliography.cite(c.claim.source))
                w.key("verdict"); w.stringEscapingSlashes(c.verdict.rawValue)
                w.key("evidence"); w.stringEscapingSlashes(c.evidence)
                w.endObject()
            }
            w.endArray()
            w.key("problems"); w.beginArray()
            for p in r.problems { w.stringEscapingSlashes(p) }
            w.endArray()
            w.key("calls"); w.beginArray()
            for c in r.calls { JSONLinesRenderer.write(c, to: &w) }
            w.endArray()
            w.key("connections"); w.beginArray()
            for rec in r.records { w.value { connection.write(rec, to: &$0) } }
            w.endArray()
            w.endObject()
            cursor = w.out
        }
    }

    /// What the brackets after each claim are, and where they are listed.
    static let sourcesNote = "the works in brackets are listed in \(Bibliography.page)"

    /// How a run of several experiments fared, after their reports: the claims of all of
    /// them by verdict, then a row per experiment (`failed` names those that could not run
    /// at all), and where the works cited are listed.
    public static func tally(_ outcomes: [ExperimentOutcome], failed: [String] = [], color: Bool) -> String {
        func count(_ results: [ClaimResult], _ v: Verdict) -> Int { results.filter { $0.verdict == v }.count }
        func words(_ results: [ClaimResult]) -> String {
            let parts = [(count(results, .holds), "hold", "holds"), (count(results, .doesNotHold), "do not hold", "does not hold"),
                         (count(results, .inconclusive), "inconclusive", "inconclusive")]
            return parts.map { n, many, one in "\(n) \(n == 1 ? one : many)" }.joined(separator: ", ")
        }
        let all = outcomes.flatMap(\.claims)
        let experiments = outcomes.count + failed.count
        var s = Style.bold.paint("━━ tally ━━", when: color)
            + " \(experiments) experiment\(experiments == 1 ? "" : "s") · \(all.count) claim\(all.count == 1 ? "" : "s"): \(words(all))\n"
        let width = (outcomes.map(\.name) + failed).map(\.count).max() ?? 0
        for r in outcomes {
            var row = "   " + r.name + String(repeating: " ", count: width - r.name.count + 2) + words(r.claims)
            if !r.problems.isEmpty { row += " · " + Style.red.paint("\(r.problems.count) problem\(r.problems.count == 1 ? "" : "s")", when: color) }
            s += row + "\n"
        }
        for name in failed {
            s += "   " + name + String(repeating: " ", count: width - name.count + 2) + Style.red.paint("could not run", when: color) + "\n"
        }
        s += "   sources    \(sourcesNote)\n"
        return s
    }
}
