import TeardownModel

/// `teardown run`'s report of one experiment: where it ran, the verdict on each claim with its
/// evidence, then the timeline of every connection it made; or all of it as one JSON object.
public enum ExperimentReport {
    /// The verdicts (and, with `timelines`, each connection's timeline) as text.
    public static func text(_ r: ExperimentOutcome, color: Bool, timelines: Bool) -> String {
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
}
