import Testing
import TeardownModel
import TeardownWire
@testable import TeardownRender

struct TimelineTests {
    static let names = Fixtures.all.map(\.name)

    @Test(arguments: names)
    func noEscapeBytesWithoutColour(_ name: String) {
        let record = GoldenTests.record(name)
        let plain = TimelineRenderer.render(record, options: RenderOptions(color: false, source: "a\u{1B}[2Jb.pcap"))
        #expect(!plain.utf8.contains(0x1B))
        #expect(!SummaryRenderer.line(record, source: "a\u{1B}b").utf8.contains(0x1B))
        let coloured = TimelineRenderer.render(record, options: RenderOptions(color: true))
        #expect(coloured.utf8.contains(0x1B))
        // Colour only adds escapes: stripping them gives the plain text back.
        #expect(Self.stripANSI(coloured) == TimelineRenderer.render(record, options: RenderOptions(color: false)))
    }

    @Test func tally_hasNoEscapesWithoutColour() {
        var tally = TeardownTally()
        for (_, r) in Fixtures.all { tally.add(r) }
        #expect(!tally.render(color: false).utf8.contains(0x1B))
        #expect(tally.render(color: true).utf8.contains(0x1B))
        #expect(Self.stripANSI(tally.render(color: true)) == tally.render(color: false))
    }

    /// Every packet row's right lifeline (`▶│` or `┤`) sits in the same column, whatever the
    /// numbers in the labels.
    @Test(arguments: names)
    func packetRows_align(_ name: String) {
        let text = TimelineRenderer.render(GoldenTests.record(name), options: RenderOptions())
        var columns = Set<Int>()
        var rows = 0
        for line in text.split(separator: "\n") where line.contains("▶│") || line.contains("┤") {
            let scalars = Array(line.unicodeScalars)
            guard let i = scalars.lastIndex(where: { $0 == "│" || $0 == "┤" }) else { continue }
            columns.insert(i)
            rows += 1
        }
        #expect(rows >= 2)
        #expect(columns.count == 1, "right lifeline at columns \(columns.sorted())")
    }

    /// IPv6 addresses only change the header: the ladder is laid out identically.
    @Test func ipv6Addresses_doNotMoveTheLadder() {
        var v6 = Fixtures.graceful
        v6.orig.endpoint = Endpoint(address: IPAddress("2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff")!, port: 65535)
        v6.resp.endpoint = Endpoint(address: IPAddress("fe80::1")!, port: 8080)
        let a = TimelineRenderer.render(Fixtures.graceful, options: RenderOptions()).split(separator: "\n").dropFirst()
        let b = TimelineRenderer.render(v6, options: RenderOptions()).split(separator: "\n").dropFirst()
        #expect(Array(a) == Array(b))
    }

    @Test func ledgerThatDoesNotAddUp_isReportedLoudly() {
        var r = Fixtures.lingerAbort
        r.orig.bytes.unread = 45_000          // never sent + unacked + unread = 149,000 ≠ lost 150,000
        r.resp.bytes.readByPeer = 7           // read more than written (0)
        let text = TimelineRenderer.render(r, options: RenderOptions())
        #expect(text.contains("!! ledger does not add up (client → server): "
                              + "never sent 100,000 + unacked 4,000 + unread 45,000 ≠ lost 150,000\n"))
        #expect(text.contains("!! ledger does not add up (server → client): the peer read 7 bytes but only 0 were written; "
                              + "the peer read 7 bytes but only 0 were put on the wire\n"))
        let good = TimelineRenderer.render(Fixtures.lingerAbort, options: RenderOptions())
        #expect(!good.contains("does not add up"))
    }

    @Test func applicationRows_onlyWhenPresent() {
        let graceful = TimelineRenderer.render(Fixtures.graceful, options: RenderOptions())
        #expect(!graceful.contains("written by app"))
        #expect(!graceful.contains("in flight at RST"))
        let abort = TimelineRenderer.render(Fixtures.lingerAbort, options: RenderOptions())
        #expect(abort.contains("lost = written − read             150,000"))
    }

    @Test func labels_followTcpdump() {
        func p(_ flags: TCPFlags, ack: UInt32?, len: Int = 0, win: UInt16 = 1, rst: RSTValidity? = nil) -> PacketEvent {
            PacketEvent(time: Timestamp(nanoseconds: 0), number: 1, from: .orig, flags: flags, relativeSequence: 4_294_967_295,
                        relativeAcknowledgment: ack, payloadLength: len, window: win, origState: .closed,
                        respState: .closed, rstValidity: rst)
        }
        #expect(Timeline.label(p([.syn], ack: nil)) == "[S] seq 4,294,967,295 len 0")
        #expect(Timeline.label(p([.fin, .psh, .ack], ack: 1, len: 1_448)) == "[FP.] seq 4,294,967,295 ack 1 len 1,448")
        #expect(Timeline.label(p([.ack], ack: 1, win: 0)) == "[.] seq 4,294,967,295 ack 1 len 0 win 0")
        #expect(Timeline.label(p([.rst], ack: nil, win: 0, rst: .outOfWindow)) == "[R] seq 4,294,967,295 len 0 · out-of-window")
    }

    @Test func emptyTimeline_saysSo() {
        var r = Fixtures.refused
        r.events = []
        #expect(TimelineRenderer.render(r, options: RenderOptions()).contains("(no events recorded)"))
    }

    static func stripANSI(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        var inEscape = false
        for u in s.unicodeScalars {
            if inEscape { if u == "m" { inEscape = false }; continue }
            if u == "\u{1B}" { inEscape = true; continue }
            out.append(u)
        }
        return String(out)
    }
}

struct SummaryTests {
    /// Fixed-width columns: the duration column is columns 105..<115 on every line and the
    /// endpoints start at column 117 whatever their width (6+29+6+6+10+8+12+12+10 plus 2-space gaps).
    @Test func columnsAlign() {
        let lines = [SummaryRenderer.header()] + Fixtures.all.map { SummaryRenderer.line($0.record, source: nil) }
        let durations = lines.map { String(String.UnicodeScalarView(Array($0.unicodeScalars)[105..<115])) }
        #expect(durations == ["  duration", "  0.001370", "  0.004230", "  0.000012", "  0.812530", "  5.300050"])
        let endpoints = lines.map { String(String.UnicodeScalarView(Array($0.unicodeScalars)[115...])) }
        #expect(endpoints.first == "  client ⇄ server")
        #expect(endpoints.dropFirst().allSatisfy { $0.hasPrefix("  ") && !$0.hasPrefix("   ") && $0.contains(" ⇄ ") })
    }

    @Test func tally_countsByTeardownName() {
        var tally = TeardownTally()
        for (_, r) in Fixtures.all { tally.add(r) }
        tally.add(Fixtures.graceful)
        #expect(tally.total == 6)
        #expect(tally.count(Ending(kind: .graceful, midstream: false)) == 2)
        #expect(tally.count(Ending(kind: .resetAfterClose, midstream: true)) == 1)
        #expect(tally.count(Ending(kind: .resetAfterClose, midstream: false)) == 0)
        let text = tally.render(color: false)
        #expect(text.hasPrefix("6 connections by teardown:\n  graceful "))
        #expect(TeardownTally().render(color: false) == "0 connections\n")
    }
}
