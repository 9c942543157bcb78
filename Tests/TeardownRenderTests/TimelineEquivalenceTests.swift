import Testing
import TeardownModel
import TeardownTestSupport
import TeardownWire
@testable import TeardownRender

/// The byte renderer against the String renderer it replaced (`ReferenceTimeline`, the old
/// code kept verbatim): the fixtures, then records perturbed at random (seeded, so a failure
/// is repeatable) into every corner the captures rarely reach: huge and negative numbers,
/// calls before the first packet, non-ASCII and terminal-unsafe text, mismatched ledgers.
struct TimelineEquivalenceTests {
    static let sources: [String?] = [nil, "capture.pcap", "a\u{1B}[2Jb\u{85}\u{7F}.pcap", "café ⇄ µ.pcapng", ""]

    static func reference(_ record: ConnectionRecord, _ options: RenderOptions) -> String {
        var old = ReferenceTimeline(record: record, options: options)
        old.render()
        return old.out
    }

    @Test(arguments: Fixtures.all.map(\.name))
    func fixtures_matchTheStringRenderer(_ name: String) {
        let record = GoldenTests.record(name)
        for source in Self.sources {
            for color in [false, true] {
                let options = RenderOptions(color: color, source: source)
                #expect(TimelineRenderer.render(record, options: options) == Self.reference(record, options),
                        "\(name), colour \(color), source \(String(describing: source))")
            }
        }
    }

    @Test(arguments: 0..<8)
    func perturbedRecords_matchTheStringRenderer(_ seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for round in 0..<60 {
            let record = Perturb.record(&random)
            let options = RenderOptions(color: random.bool(), source: random.pick(Self.sources))
            let new = TimelineRenderer.render(record, options: options)
            let old = Self.reference(record, options)
            #expect(new == old, "seed \(seed) round \(round)\n--- new\n\(new)\n--- old\n\(old)")
            if new != old { return }
        }
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
            expected += Self.reference(record, options)
        }
        #expect(String(decoding: bytes, as: UTF8.self) == expected)
    }
}

/// The widths the layout counts without formatting, against the width of the formatted text.
struct WidthTests {
    static let texts: [String] = [
        "", "a", "plain ascii text of some length, longer than eight", "\u{1B}[31mred\u{1B}[0m", "tab\there",
        "nul\u{0}byte", "del\u{7F}", "c1 \u{80}\u{85}\u{9B}\u{9F} end", "not c1: \u{A0}\u{A9}\u{C2}",
        "RFC 5961 §3.2", "µs ⇄ — … ━ ▶ ┤", "emoji 🧪 and e\u{301}", "12345678\u{1B}", "1234567\u{7F}x",
        "\u{1F}\u{20}\u{7E}\u{7F}\u{80}\u{9F}\u{A0}", String(repeating: "ab\u{1B}", count: 40), "日本語のテキスト",
    ]

    @Test func terminalSafeWriter_matchesTheStringVersion() {
        var random = SplitMix64(seed: 7)
        var texts = Self.texts
        for _ in 0..<2_000 { texts.append(random.text()) }
        for text in texts {
            var width = 0
            let written = ByteCursor.string { width = $0.writeTerminalSafe(text) }
            #expect(written == text.terminalSafe, "\(Array(text.unicodeScalars))")
            #expect(width == text.terminalSafe.displayWidth, "\(Array(text.unicodeScalars))")
        }
    }

    @Test func numberWidths_matchTheirText() {
        var random = SplitMix64(seed: 11)
        var values: [UInt64] = [0, 9, 10, 99, 100, 999, 1_000, 999_999, 1_000_000, .max, UInt64(Int64.max), UInt64(Int64.max) + 1]
        for _ in 0..<2_000 { values.append(random.next() >> (random.next() % 64)) }
        for v in values {
            #expect(Width.grouped(v) == Format.grouped(v).displayWidth, "\(v)")
            let s = Int64(bitPattern: v)
            #expect(Width.grouped(signed: s) == Format.grouped(s).displayWidth, "\(s)")
            #expect(Width.int(Int(s)) == String(s).utf8.count, "\(s)")
            #expect(Width.seconds(nanoseconds: s) == Format.seconds(nanoseconds: s, decimals: 6).utf8.count, "\(s)")
        }
        for s in [Int64.min, Int64.min + 1, -1, -499, -500, -999_999_499, -999_999_500] {
            #expect(Width.seconds(nanoseconds: s) == Format.seconds(nanoseconds: s, decimals: 6).utf8.count, "\(s)")
            #expect(Width.int(Int(s)) == String(s).utf8.count, "\(s)")
        }
    }

    @Test func labelAndFoldWidths_matchTheirText() {
        var random = SplitMix64(seed: 13)
        for _ in 0..<2_000 {
            let p = Perturb.packet(&random, number: 1)
            #expect(Timeline.labelWidth(p) == ReferenceTimeline.label(p).displayWidth, "\(p)")
            #expect(Timeline.label(p) == ReferenceTimeline.label(p))
            #expect(TCPFlags(rawValue: p.flags.rawValue).tcpdumpString.utf8.count == Width.tcpdumpFlags(p.flags))
            let f = Perturb.fold(&random)
            #expect(Timeline.foldTextWidth(f) == ReferenceTimeline.foldText(f).displayWidth, "\(f)")
            #expect(Timeline.foldText(f) == ReferenceTimeline.foldText(f))
            #expect(Timeline.rangeWidth(f) == ReferenceTimeline.range(f).displayWidth, "\(f)")
        }
    }

    @Test func wording_matchesTheStringVersion() {
        var random = SplitMix64(seed: 17)
        for _ in 0..<500 {
            let r = Perturb.record(&random)
            #expect(Wording.ending(r) == ReferenceWording.ending(r))
            #expect(Wording.closer(r) == ReferenceWording.closer(r))
        }
        for v in [RSTValidity.exact, .inWindow, .outOfWindow, .unknown] {
            #expect(v.explanationText.description == ReferenceWording.explanation(v))
        }
        for ns: Int64 in [0, 1, 999, 1_000, 1_499, 1_500, 999_499, 999_500, 999_999_499, 999_999_500, 1_000_000_000,
                          -1, -1_000, -999_999_500, -1_000_000_000, .min, .max] {
            #expect(Format.duration(nanoseconds: ns) == ReferenceWording.duration(nanoseconds: ns), "\(ns)")
        }
        for _ in 0..<2_000 {
            let t = Timestamp(nanoseconds: Int64(bitPattern: random.next()))
            #expect(Format.utc(t) == ReferenceWording.utc(t), "\(t.nanoseconds)")
        }
    }
}

/// The shared seeded generator (TeardownTestSupport), with the draws these tests make.
extension SplitMix64 {
    init(seed: UInt64) { self.init(state: seed) }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    mutating func bool() -> Bool { next() & 1 == 0 }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// A number of any size, most often small.
    mutating func size(_ limit: UInt64 = .max) -> UInt64 {
        switch below(4) {
        case 0: return next() % 10
        case 1: return next() % 100_000
        case 2: return next() % 10_000_000_000
        default: return next() % limit
        }
    }

    mutating func text() -> String {
        let pieces: [String] = ["a", "seq", " ", "·", "—", "µ", "⇄", "…", "§", "🧪", "\u{1B}", "\u{0}", "\n", "\t",
                                "\u{7F}", "\u{80}", "\u{85}", "\u{9F}", "\u{A0}", "é", "e\u{301}", "日本", "RST", "12345678"]
        var s = ""
        for _ in 0..<below(24) { s += pick(pieces) }
        return s
    }
}

/// Records and events with every field chosen at random, within what the model can emit
/// without trapping in either renderer (sums of counts that overflow an Int trap in both).
enum Perturb {
    static let states = TCPState.allCases

    static func time(_ random: inout SplitMix64) -> Timestamp {
        switch random.below(5) {
        case 0: return Timestamp(nanoseconds: Fixtures.epoch - Int64(random.size(1 << 40)))
        case 1: return Timestamp(nanoseconds: Int64(bitPattern: random.next()))
        default: return Timestamp(nanoseconds: Fixtures.epoch + Int64(random.size(1 << 45)))
        }
    }

    static func packet(_ random: inout SplitMix64, number: Int) -> PacketEvent {
        let number = random.below(10) == 0 ? Int(truncatingIfNeeded: Int64(bitPattern: random.next()) >> 1) : number
        var transitions: [StateTransition] = []
        for _ in 0..<random.below(3) {
            transitions.append(StateTransition(side: random.bool() ? .orig : .resp, from: random.pick(states), to: random.pick(states)))
        }
        var notes: [String] = []
        for _ in 0..<random.below(3) { notes.append(random.below(4) == 0 ? String(repeating: "long note ", count: 9) : random.text()) }
        let len = random.below(8) == 0 ? -Int(random.size(1 << 30)) : Int(random.size(1 << 40))
        return PacketEvent(
            time: time(&random), number: number, from: random.bool() ? .orig : .resp,
            flags: TCPFlags(rawValue: UInt16(truncatingIfNeeded: random.next()) & 0x1FF),
            relativeSequence: UInt32(truncatingIfNeeded: random.size()),
            relativeAcknowledgment: opt(random.bool(), UInt32(truncatingIfNeeded: random.size())),
            payloadLength: len, window: random.bool() ? 0 : 512,
            origState: random.pick(states), respState: random.pick(states), transitions: transitions,
            notes: notes, isRetransmission: random.bool(), isTruncated: random.bool(),
            rstValidity: opt(random.bool(), random.pick([RSTValidity.exact, .inWindow, .outOfWindow, .unknown])))
    }

    static func fold(_ random: inout SplitMix64) -> FoldEvent {
        let first = Int(random.size(1 << 50))
        return FoldEvent(firstTime: time(&random), lastTime: time(&random), firstNumber: first,
                         lastNumber: random.below(8) == 0 ? -Int(random.size(1 << 40)) : first + Int(random.size(1 << 40)),
                         origSegments: Int(random.size(1 << 50)), respSegments: Int(random.size(1 << 50)),
                         origBytes: random.size(1 << 62), respBytes: random.size(1 << 62))
    }

    static func ledger(_ random: inout SplitMix64) -> DirectionLedger {
        var l = DirectionLedger()
        l.sent = random.size(); l.retransmitted = random.size(); l.acked = random.size()
        l.inFlightAtRST = opt(random.bool(), random.size()); l.sentAfterRST = opt(random.bool(), random.size())
        if random.bool() {
            let written = random.size(1 << 40), read = random.bool() ? random.size(written &+ 1) : random.size(1 << 40)
            l.written = written; l.readByPeer = opt(random.bool(), read)
            l.lost = random.bool() ? written &- read : opt(random.bool(), random.size(1 << 40))
            l.neverSent = opt(random.bool(), random.size(1 << 40)); l.unacked = opt(random.bool(), random.size(1 << 40))
            l.unread = opt(random.bool(), random.below(10) == 0 ? UInt64.max : random.size(1 << 40))
        }
        return l
    }

    static func side(_ random: inout SplitMix64) -> SideSummary {
        let addresses = ["127.0.0.1", "10.200.30.4", "::1", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff", "fe80::1"]
        var s = SideSummary(endpoint: Endpoint(address: IPAddress(random.pick(addresses))!, port: UInt16(truncatingIfNeeded: random.next())),
                            state: random.pick(states), initialSequence: SequenceNumber(0))
        s.packets = Int(random.size(1 << 40)); s.payloadBytes = random.size()
        s.bytes = ledger(&random)
        return s
    }

    static func record(_ random: inout SplitMix64) -> ConnectionRecord {
        var events: [TimelineEvent] = []
        var number = random.below(1_000_000)
        for _ in 0..<random.below(random.below(6) == 0 ? 60 : 14) {
            number += 1
            switch random.below(10) {
            case 0..<6: events.append(.packet(packet(&random, number: number)))
            case 6: events.append(.fold(fold(&random)))
            case 7, 8:
                let durations: [Int64] = [850, 12_400, 1_234_000, 2_000_000_000, -3_000, .max, .min]
                events.append(.call(CallEvent(time: time(&random), side: random.bool() ? .orig : .resp, pid: 1, fd: 3,
                                              call: random.bool() ? "shutdown(SHUT_WR)" : random.text(),
                                              result: random.bool() ? Int64(random.below(3)) - 1 : Int64(bitPattern: random.next()),
                                              errno: opt(random.bool(), random.bool() ? "ECONNRESET" : random.text()),
                                              durationNanoseconds: opt(random.bool(), random.bool() ? random.pick(durations) : Int64(random.size(1 << 40))))))
            default:
                events.append(.note(NoteEvent(time: time(&random), side: opt(random.bool(), random.bool() ? Side.orig : .resp), text: random.text())))
            }
        }
        var notes: [String] = []
        for _ in 0..<random.below(4) { notes.append(random.text()) }
        let rst = opt(random.bool(), RSTInfo(from: random.bool() ? .orig : .resp, shape: random.bool() ? .withACK : .bare,
                                       validity: random.pick([RSTValidity.exact, .inWindow, .outOfWindow, .unknown]),
                                       packetNumber: random.below(100_000), time: time(&random),
                                       acknowledged: opt(random.bool(), random.bool() ? 0 : random.size())))
        let index = random.below(10) == 0 ? Int(truncatingIfNeeded: Int64(bitPattern: random.next()) >> 2) : random.below(1_000_000)
        return ConnectionRecord(
            index: index, orig: side(&random), resp: side(&random),
            teardown: Teardown(kind: random.pick(TeardownKind.allCases), midstream: random.bool()),
            closedBy: opt(random.bool(), random.pick([ClosedBy.orig, .resp, .both])), halfClose: random.bool(), rst: rst,
            connState: random.pick(ZeekConnState.allCases), history: random.bool() ? "" : (random.bool() ? "ShADadFf" : random.text()),
            start: time(&random), end: time(&random), midstream: random.bool(),
            firstPacketNumber: random.below(1_000), lastPacketNumber: random.below(10_000_000),
            events: events, notes: notes)
    }
}

/// `value` when `keep`, else nil.
func opt<T>(_ keep: Bool, _ value: T) -> T? { keep ? value : nil }
