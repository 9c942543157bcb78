import Foundation
import Testing
import TeardownKernel
import TeardownModel
import TeardownTestSupport
import TeardownWire
@testable import TeardownRender

/// The timeline on records perturbed at random (seeded, so a failure is repeatable) into the
/// corners the captures rarely reach: goldens pin their bytes, and invariants that hold for
/// any record are checked on many more.
struct TimelinePropertyTests {
    @Test func perturbedRecords_matchTheirGolden() {
        Golden.check(GoldenTables.perturbedTimelines(color: false) { TimelineRenderer.render($0, options: $1) },
                     "perturbed.timeline.txt")
        Golden.check(GoldenTables.perturbedTimelines(color: true) { TimelineRenderer.render($0, options: $1) },
                     "perturbed.timeline.color.txt")
    }

    /// Every sentence of the header's `ended` and `closed by` fields, and each RST judgement.
    @Test func wording_matchesItsGolden() {
        let ending: (ConnectionRecord) -> [String] = { r in
            text { Wording.writeEnding(r, to: &$0) { $0.write(0x0a) } }
                .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        }
        Golden.check(GoldenTables.wording(ending: ending, closer: { r in text { Wording.writeCloser(r, to: &$0) } },
                                          explanation: { $0.explanationText.description }), "wording.txt")
    }

    /// Kernel rows (on either side, any state, long reason names) keep the layout too: each on
    /// its side's lifeline, the ladder widened to hold the longest.
    @Test(arguments: 0..<4)
    func kernelRows_keepTheLayout(_ seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let names = ["TCP_ABORT_ON_CLOSE", nil, "A_REASON_NAME_FROM_A_KERNEL_NEWER_THAN_ANY_TEARDOWN_KNOWS_OF_YET", "NO_SOCKET"]
        for round in 0..<40 {
            var record = Perturb.record(&random)
            var events: [TimelineEvent] = []
            for e in record.events {
                events.append(e)
                guard random.below(3) == 0 else { continue }
                let kind: KernelEvent.Kind
                switch random.below(4) {
                case 0: kind = .stateChange(from: KernelTCPState(rawValue: Int32(random.below(14))),
                                            to: KernelTCPState(rawValue: Int32(random.below(14))), protocol: 6)
                case 1: kind = .sendReset(state: nil, reason: random.bool() ? nil : RSTReason(rawValue: 11, name: random.pick(names)))
                case 2: kind = .receiveReset
                default: kind = .errorReport(errno: Int32(random.below(120)), protocol: nil)
                }
                let k = KernelEvent(time: e.time, pid: 1, kind: kind, socket: 1, source: nil, destination: nil)
                events.append(.kernel(KernelRow(side: random.bool() ? .orig : .resp, event: k)))
            }
            record.events = events
            let plain = TimelineRenderer.render(record, options: RenderOptions(color: false, source: nil))
            let problems = Self.layoutProblems(record, plain)
            #expect(problems.isEmpty, "seed \(seed) round \(round): \(problems)\n\(plain)")
            if !problems.isEmpty { return }
        }
    }

    /// For any record: one row per event (a packet row followed by one line per packet note),
    /// each packet drawn as one arrow from its sender's lifeline to its receiver's, both
    /// lifelines in the same columns on every packet row, its label between them, the number
    /// and time right-aligned in their columns, and the title's rule as wide as the rows.
    @Test(arguments: 0..<8)
    func perturbedRecords_keepTheLayout(_ seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for round in 0..<60 {
            let record = Perturb.record(&random)
            let source = random.pick(GoldenTables.sources)
            let plain = TimelineRenderer.render(record, options: RenderOptions(color: false, source: source))
            let problems = Self.layoutProblems(record, plain)
            #expect(problems.isEmpty, "seed \(seed) round \(round): \(problems)\n\(plain)")
            // Colour only adds escapes, and without it there is not one escape byte, whatever
            // the text in the record.
            #expect(!plain.utf8.contains(0x1B), "seed \(seed) round \(round)")
            let coloured = TimelineRenderer.render(record, options: RenderOptions(color: true, source: source))
            #expect(TimelineTests.stripANSI(coloured) == plain, "seed \(seed) round \(round)")
            if !problems.isEmpty { return }
        }
    }

    static func layoutProblems(_ r: ConnectionRecord, _ rendered: String) -> [String] {
        let t = Timeline(record: r, color: false)
        let lines = rendered.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0.unicodeScalars) }
        var problems: [String] = []
        func string(_ s: ArraySlice<Unicode.Scalar>) -> String { String(String.UnicodeScalarView(s)) }
        let titleWidth = max(t.totalWidth, 1 + Columns.of { t.writeTitle(&$0) } + 3)   // a rule of 3 at least
        if lines[0].count != titleWidth { problems.append("title is \(lines[0].count) columns, not \(titleWidth)") }
        guard !r.events.isEmpty else { return problems }
        guard let head = lines.firstIndex(where: { string($0[...]).contains("* = state changed by this packet") }) else {
            return problems + ["no column header"]
        }
        var i = head + 1
        let left = t.blankWidth + 1, right = t.blankWidth + 1 + t.inner + 1
        for event in r.events {
            guard i < lines.count else { return problems + ["ran out of lines at event \(event)"] }
            let line = lines[i]
            i += 1
            switch event {
            case .packet(let p):
                let fromClient = p.from == .orig
                guard line.count > right else { problems.append("packet \(p.number): short row"); continue }
                let ends = (line[left], line[right])
                if fromClient ? ends != ("├", "│") : ends != ("│", "┤") {
                    problems.append("packet \(p.number): lifelines \(ends)")
                }
                let heads = line.filter { $0 == "▶" || $0 == "◀" }
                if heads != [fromClient ? "▶" : "◀"] { problems.append("packet \(p.number): arrowheads \(heads)") }
                if fromClient ? line[right - 1] != "▶" : line[left + 1] != "◀" {
                    problems.append("packet \(p.number): the arrowhead is not at the receiver's lifeline")
                }
                if !string(line[left...right]).contains(" " + Timeline.label(p) + " ") {
                    problems.append("packet \(p.number): label missing")
                }
                let number = text { $0.writeInt(p.number) }
                if string(line[0..<(1 + t.numberWidth)]) != " " + String(repeating: " ", count: t.numberWidth - number.count) + number {
                    problems.append("packet \(p.number): number column")
                }
                let time = text { $0.writeSeconds(nanoseconds: Format.difference(p.time, r.start), decimals: 6) }
                let timeColumn = string(line[(3 + t.numberWidth)..<(3 + t.numberWidth + t.timeWidth)])
                if timeColumn != String(repeating: " ", count: t.timeWidth - time.count) + time {
                    problems.append("packet \(p.number): time column \(timeColumn)")
                }
                for note in p.notes {
                    guard i < lines.count, string(lines[i][...]).contains("↳ ") else {
                        problems.append("packet \(p.number): note \(note) missing")
                        break
                    }
                    i += 1
                }
            case .fold(let f):
                if line.count <= left || line[left] != "┊" { problems.append("fold \(f.firstNumber): no dotted lifeline") }
                let range = text { Timeline.writeRange(f, &$0) }
                if !string(line[...]).hasPrefix(" " + String(repeating: " ", count: max(0, t.numberWidth - range.unicodeScalars.count)) + range) {
                    problems.append("fold \(f.firstNumber): range column")
                }
            case .call(let c):
                let end: Unicode.Scalar = c.side == .orig ? "├" : "┤"
                if !line.contains(end) { problems.append("call \(c.call): not on the \(c.side) lifeline") }
            case .note:
                if !string(line[...]).contains("— ") { problems.append("note row missing") }
            case .kernel(let k):
                let end: Unicode.Scalar = k.side == .orig ? "├" : "┤"
                if !line.contains(end) || !string(line[...]).contains("kernel: ") {
                    problems.append("kernel row: not on the \(k.side) lifeline")
                }
                if line.count != right + 1 { problems.append("kernel row: \(line.count) columns, not \(right + 1)") }
            }
        }
        if i < lines.count, !lines[i].isEmpty { problems.append("more rows than events: \(string(lines[i][...]))") }
        let mismatches = lines.filter { string($0[...]).contains("!! ledger does not add up") }.count
        let expected = Side.allCases.filter { !r.side($0).bytes.problems.isEmpty }.count
        if mismatches != expected { problems.append("\(mismatches) ledger warnings, \(expected) directions do not add up") }
        return problems
    }

    /// The printer writes a file's timelines through one `FileRenderer`, straight into the
    /// output buffer: the same bytes as a String per record.
    @Test func fileRenderer_writesWhatRenderReturns() {
        var random = SplitMix64(seed: 99)
        let options = RenderOptions(color: true, source: "x.pcap")
        let file = TimelineRenderer.FileRenderer(options: options)
        var bytes: [UInt8] = []
        var expected = ""
        for _ in 0..<20 {
            let record = Perturb.record(&random)
            ByteCursor.append(to: &bytes, initialCapacity: 64) { file.write(record, to: &$0) }
            expected += TimelineRenderer.render(record, options: options)
        }
        #expect(String(decoding: bytes, as: UTF8.self) == expected)
    }

    /// The summary's tally paints each teardown in the colour the timeline's header paints it.
    @Test(arguments: TeardownKind.allCases)
    func tallyColours_matchTheHeader(_ kind: TeardownKind) {
        var r = Fixtures.graceful
        r.teardown = Ending(kind: kind, midstream: false)
        let header = TimelineRenderer.render(r, options: RenderOptions(color: true))
        var tally = TeardownTally()
        tally.add(r)
        let summary = tally.render(color: true)
        // The SGR parameters just before the name: `1;32` in the header (bold), `32` in the tally.
        func colour(before name: String, in text: String) -> String? {
            guard let range = text.range(of: "m" + name) else { return nil }
            let opening = text[..<range.lowerBound]
            guard let escape = opening.range(of: "\u{1B}[", options: .backwards) else { return nil }
            return String(opening[escape.upperBound...]).split(separator: ";").last.map(String.init)
        }
        let headerColour = colour(before: kind.rawValue + "\u{1B}[0m —", in: header)
        let tallyColour = colour(before: kind.rawValue + " ", in: summary)
        #expect(headerColour != nil && headerColour == tallyColour, "\(kind): header \(String(describing: headerColour)), tally \(String(describing: tallyColour))")
    }
}

/// Widths counted without writing, against the columns of what the writers write.
struct WidthTests {
    static let texts: [String] = [
        "", "a", "plain ascii text of some length, longer than eight", "\u{1B}[31mred\u{1B}[0m", "tab\there",
        "nul\u{0}byte", "del\u{7F}", "c1 \u{80}\u{85}\u{9B}\u{9F} end", "not c1: \u{A0}\u{A9}\u{C2}",
        "RFC 5961 §3.2", "µs ⇄ — … ━ ▶ ┤", "emoji 🧪 and e\u{301}", "12345678\u{1B}", "1234567\u{7F}x",
        "\u{1F}\u{20}\u{7E}\u{7F}\u{80}\u{9F}\u{A0}", String(repeating: "ab\u{1B}", count: 40), "日本語のテキスト",
    ]

    /// Terminal-safe text: every C0 control, DEL and C1 control becomes U+FFFD, every other
    /// scalar is kept, and the width returned is the scalars written.
    @Test func terminalSafeWriter_replacesEveryControl() {
        var random = SplitMix64(seed: 7)
        var texts = Self.texts
        for _ in 0..<2_000 { texts.append(random.text()) }
        for text in texts {
            var width = 0
            let written = ByteCursor.string { width = $0.writeTerminalSafe(text) }
            let expected = text.unicodeScalars.map { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) ? "\u{FFFD}" : $0 }
            #expect(Array(written.unicodeScalars) == expected, "\(Array(text.unicodeScalars))")
            #expect(width == written.displayWidth, "\(Array(text.unicodeScalars))")
        }
    }

    /// The digit count from the bit length, against `String(v).count`: every value below
    /// 100,000, each power of ten and its neighbours (where a wrong guess or a wrong table
    /// entry shows), each power of two and its neighbours (where the bit length changes), the
    /// extremes.
    @Test func digits_countEveryDecimalDigit() {
        var values = Array(UInt64(0)..<100_000)
        var power: UInt64 = 1
        for _ in 0..<19 { power *= 10; values += [power - 1, power, power + 1] }
        for bit in 0..<64 { let p = UInt64(1) << bit; values += [p - 1, p, p &+ 1] }
        values += [UInt64.max, UInt64.max - 1, UInt64(Int64.max)]
        for v in values {
            #expect(Width.digits(v) == String(v).count, "\(v)")
        }
        #expect(Width.digits(0) == 1)
        #expect(Width.digits(9) == 1)
        #expect(Width.digits(10) == 2)
        #expect(Width.digits(99) == 2)
        #expect(Width.digits(100) == 3)
        #expect(Width.digits(9_999_999_999_999_999_999) == 19)
        #expect(Width.digits(10_000_000_000_000_000_000) == 20)
        #expect(Width.digits(UInt64.max) == 20)
        #expect(Width.int(Int.min) == 20)   // the minus sign and 19 digits
        #expect(Width.int(-1) == 2)
    }

    @Test func numberWidths_matchTheirText() {
        var random = SplitMix64(seed: 11)
        var values: [UInt64] = [0, 9, 10, 99, 100, 999, 1_000, 999_999, 1_000_000, .max, UInt64(Int64.max), UInt64(Int64.max) + 1]
        for _ in 0..<2_000 { values.append(random.next() >> (random.next() % 64)) }
        for v in values {
            #expect(Width.grouped(v) == text { $0.writeGrouped(v) }.displayWidth, "\(v)")
            let s = Int64(bitPattern: v)
            #expect(Width.grouped(signed: s) == text { $0.writeGrouped(signed: s) }.displayWidth, "\(s)")
            #expect(Width.int(Int(s)) == text { $0.writeInt(s) }.displayWidth, "\(s)")
            #expect(Width.seconds(nanoseconds: s) == text { $0.writeSeconds(nanoseconds: s, decimals: 6) }.displayWidth, "\(s)")
        }
        for s in [Int64.min, Int64.min + 1, -1, -499, -500, -999_999_499, -999_999_500] {
            #expect(Width.seconds(nanoseconds: s) == text { $0.writeSeconds(nanoseconds: s, decimals: 6) }.displayWidth, "\(s)")
            #expect(Width.int(Int(s)) == text { $0.writeInt(s) }.displayWidth, "\(s)")
        }
    }

    /// Every flag combination: the writer spells the table's letters, and its width counts them.
    @Test func flagWidths_matchTheirText() {
        for raw in UInt16(0)...0x1FF {
            let flags = TCPFlags(rawValue: raw)
            let written = text { $0.writeTcpdumpFlags(flags) }
            #expect(written == flags.tcpdumpString)
            #expect(Width.tcpdumpFlags(flags) == written.displayWidth, "\(raw)")
        }
    }

    /// The measured widths (`Columns`) against the columns of the text the same writer writes.
    @Test func labelFoldAndTitleWidths_matchTheirText() {
        var random = SplitMix64(seed: 13)
        for _ in 0..<2_000 {
            let p = Perturb.packet(&random, number: 1)
            #expect(Timeline.labelWidth(p) == Timeline.label(p).displayWidth, "\(p)")
            let f = Perturb.fold(&random)
            #expect(Timeline.foldTextWidth(f) == text { Timeline.writeFoldText(f, &$0) }.displayWidth, "\(f)")
            #expect(Timeline.rangeWidth(f) == text { Timeline.writeRange(f, &$0) }.displayWidth, "\(f)")
        }
        for _ in 0..<200 {
            let t = Timeline(record: Perturb.record(&random), color: false)
            var measured = 0
            let title = text { c in
                var m = MeasuredCursor(c)
                t.writeTitle(&m)
                measured = m.columns
                c = m.cursor
            }
            #expect(measured == title.displayWidth, "\(title)")
            #expect(Columns.of { t.writeTitle(&$0) } == measured)
        }
    }
}
