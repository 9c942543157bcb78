import TeardownModel
import TeardownTestSupport
import TeardownWire
@testable import TeardownRender

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
        var notes: [Note] = []
        for _ in 0..<random.below(3) { notes.append(random.below(4) == 0 ? .rstInWindow : note(random.text())) }
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

    /// The note a random text stands for: the generator's draws stay those of the text, so
    /// the perturbed records are the ones they were, and the text picks the note (numbers
    /// included) among the samples of every code.
    static func note(_ text: String) -> Note {
        let samples = NoteWordingTests.samples
        return samples[text.unicodeScalars.reduce(0) { $0 &+ Int($1.value) } % samples.count].note
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
                events.append(.note(NoteEvent(time: time(&random), side: opt(random.bool(), random.bool() ? Side.orig : .resp), note: note(random.text()))))
            }
        }
        var notes: [Note] = []
        for _ in 0..<random.below(4) { notes.append(note(random.text())) }
        let rst = opt(random.bool(), RSTInfo(from: random.bool() ? .orig : .resp, shape: random.bool() ? .withACK : .bare,
                                       validity: random.pick([RSTValidity.exact, .inWindow, .outOfWindow, .unknown]),
                                       packetNumber: random.below(100_000), time: time(&random),
                                       acknowledged: opt(random.bool(), random.bool() ? 0 : random.size())))
        let index = random.below(10) == 0 ? Int(truncatingIfNeeded: Int64(bitPattern: random.next()) >> 2) : random.below(1_000_000)
        return ConnectionRecord(
            index: index, orig: side(&random), resp: side(&random),
            teardown: Ending(kind: random.pick(TeardownKind.allCases), midstream: random.bool()),
            closedBy: opt(random.bool(), random.pick([ClosedBy.orig, .resp, .both])), halfClose: random.bool(), rst: rst,
            connState: random.pick(ZeekConnState.allCases), history: random.bool() ? "" : (random.bool() ? "ShADadFf" : random.text()),
            start: time(&random), end: time(&random), midstream: random.bool(),
            firstPacketNumber: random.below(1_000), lastPacketNumber: random.below(10_000_000),
            events: events, notes: notes)
    }
}

/// `value` when `keep`, else nil.
func opt<T>(_ keep: Bool, _ value: T) -> T? { keep ? value : nil }
