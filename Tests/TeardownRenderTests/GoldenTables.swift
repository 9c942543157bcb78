import TeardownModel
import TeardownTestSupport
import TeardownWire
@testable import TeardownRender

/// Texts for goldens that pin what no fixture reaches: records perturbed at random (seeded)
/// into every corner (huge and negative numbers, calls before the first packet, hostile and
/// non-ASCII text, ledgers that do not add up), and every sentence the header can say.
enum GoldenTables {
    static let sources: [String?] = [nil, "capture.pcap", "a\u{1B}[2Jb\u{85}\u{7F}.pcap", "café ⇄ µ.pcapng", ""]

    /// `count` perturbed records, each with one of `sources`, rendered by `render`.
    static func perturbedTimelines(color: Bool, count: Int = 24,
                                   render: (ConnectionRecord, RenderOptions) -> String) -> String {
        var random = SplitMix64(seed: 2026)
        var out = ""
        for i in 0..<count {
            let record = Perturb.record(&random)
            let source = random.below(sources.count)
            out += "=== perturbed record \(i), source \(source)\n"
            out += render(record, RenderOptions(color: color, source: sources[source]))
        }
        return out
    }

    /// Every combination the header's `ended` and `closed by` sentences depend on: the
    /// teardown kind, who closed, half-close, mid-stream and who sent the RST.
    static func records() -> [ConnectionRecord] {
        var out: [ConnectionRecord] = []
        for kind in TeardownKind.allCases {
            for closedBy in [nil, ClosedBy.orig, .resp, .both] {
                for halfClose in [false, true] {
                    for midstream in [false, true] {
                        for rstFrom in [nil, Side.orig, .resp] {
                            var r = Fixtures.graceful
                            r.teardown = Ending(kind: kind, midstream: midstream)
                            r.closedBy = closedBy
                            r.halfClose = halfClose
                            r.rst = rstFrom.map { RSTInfo(from: $0, shape: .bare, validity: .exact, packetNumber: 1,
                                                          time: r.start, acknowledged: nil) }
                            out.append(r)
                        }
                    }
                }
            }
        }
        return out
    }

    /// One line per combination of `records()`: its key, its ending's sentences (` / `
    /// between them) and its closer; then each RST validity's explanation.
    static func wording(ending: (ConnectionRecord) -> [String], closer: (ConnectionRecord) -> String,
                        explanation: (RSTValidity) -> String) -> String {
        var out = ""
        for r in records() {
            out += "\(r.teardown.name) closed_by=\(r.closedBy?.rawValue ?? "nil") half_close=\(r.halfClose)"
            out += " rst=\(r.rst?.from.rawValue ?? "nil"): " + ending(r).joined(separator: " / ")
            out += " | closed by: " + closer(r) + "\n"
        }
        for v in [RSTValidity.exact, .inWindow, .outOfWindow, .unknown] {
            out += "rst \(v.rawValue): " + explanation(v) + "\n"
        }
        return out
    }
}
