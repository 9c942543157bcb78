import Testing
import TeardownModel
@testable import TeardownRender

/// Golden files, one per fixture and format:
///   Goldens/graceful.timeline.txt           graceful.timeline.color.txt           graceful.jsonl
///   Goldens/linger-abort.timeline.txt       linger-abort.timeline.color.txt       linger-abort.jsonl
///   Goldens/refused.timeline.txt            refused.timeline.color.txt            refused.jsonl
///   Goldens/ipv6-half-close.timeline.txt    ipv6-half-close.timeline.color.txt    ipv6-half-close.jsonl
///   Goldens/midstream.timeline.txt          midstream.timeline.color.txt          midstream.jsonl
///   Goldens/summary.txt                     (all five: header, lines, tally)
///   Goldens/perturbed.timeline.txt          perturbed.timeline.color.txt          (GoldenTables, TimelinePropertyTests)
///   Goldens/wording.txt                     (every ending and closer sentence, each RST judgement)
struct GoldenTests {
    static let names = Fixtures.all.map(\.name)
    static func record(_ name: String) -> ConnectionRecord { Fixtures.all.first { $0.name == name }!.record }

    @Test(arguments: names)
    func timeline(_ name: String) {
        let text = TimelineRenderer.render(Self.record(name), options: RenderOptions(color: false, source: "\(name).pcap"))
        Golden.check(text, "\(name).timeline.txt")
    }

    @Test(arguments: names)
    func timelineInColour(_ name: String) {
        let text = TimelineRenderer.render(Self.record(name), options: RenderOptions(color: true, source: "\(name).pcap"))
        Golden.check(text, "\(name).timeline.color.txt")
    }

    @Test(arguments: names)
    func jsonLines(_ name: String) {
        let line = JSONLinesRenderer.render(Self.record(name), source: "\(name).pcap", includeEvents: true)
        Golden.check(line + "\n", "\(name).jsonl")
    }

    @Test func summary() {
        var text = SummaryRenderer.header() + "\n"
        var tally = TeardownTally()
        for (name, record) in Fixtures.all {
            text += SummaryRenderer.line(record, source: name == "midstream" ? "busy.pcap" : nil) + "\n"
            tally.add(record)
        }
        tally.add(Fixtures.graceful)
        text += "\n" + tally.render(color: false)
        Golden.check(text, "summary.txt")
    }
}
