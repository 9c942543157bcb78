import Foundation
import Testing
import TeardownWire
@testable import TeardownKernel

@Suite("TracePage: ring-buffer pages of trace_pipe_raw")
struct TracePageTests {
    static let decoder = KernelRecordDecoder(formats: KernelFixtures.names.filter { $0.hasPrefix("6.18") }.map(KernelFixtures.format))

    /// A page read from per_cpu/cpu1/trace_pipe_raw of an instance on this machine (6.18.44) while
    /// a server closed a connection with 600 bytes unread.
    static func fixturePage() throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: KernelFixtures.folder + "6.18-rst-unread.cpu1.raw")))
    }

    /// The page's records, decoded, with their times.
    static func events(_ page: [UInt8], header: TracePage.Header = .standard)
        -> (events: [Result<KernelEvent, KernelRecordError>], summary: TracePage.Summary) {
        var out: [Result<KernelEvent, KernelRecordError>] = []
        let summary = page.withUnsafeBytes { p in
            TracePage.records(in: p, header: header) { time, record in
                out.append(decoder.decode(record, time: Timestamp(nanoseconds: Int64(truncatingIfNeeded: time))))
            }
        }
        return (out, summary)
    }

    @Test("this machine's events/header_page: u64 timestamp, 8-byte commit, 4080 bytes of data from 16")
    func headerPage() throws {
        let text = try String(contentsOfFile: KernelFixtures.folder + "6.18-header_page", encoding: .utf8)
        #expect(TracePage.Header.parse(text) == .standard)
        #expect(TracePage.Header.standard.pageSize == 4096)
        // A 32-bit kernel: local_t is 4 bytes, the data follows at 12.
        let small = text.replacingOccurrences(of: "local_t commit;\toffset:8;\tsize:8;", with: "local_t commit;\toffset:8;\tsize:4;")
            .replacingOccurrences(of: "char data;\toffset:16;\tsize:4080;", with: "char data;\toffset:12;\tsize:4084;")
        #expect(TracePage.Header.parse(small) == TracePage.Header(commitOffset: 8, commitSize: 4, dataOffset: 12, dataSize: 4084))
        // Without commit, or with data overlapping it: not a header teardown reads.
        #expect(TracePage.Header.parse(text.replacingOccurrences(of: "commit", with: "kommit")) == nil)
        #expect(TracePage.Header.parse(text.replacingOccurrences(of: "data;\toffset:16", with: "data;\toffset:9")) == nil)
        for k in 0..<text.utf8.count {
            _ = TracePage.Header.parse(String(decoding: Array(text.utf8.prefix(k)), as: UTF8.self))
        }
    }

    @Test("a real page: 11 records, the story of close() with unread data, in time order")
    func fixture() throws {
        let (results, summary) = Self.events(try Self.fixturePage())
        #expect(summary == TracePage.Summary(records: 11, missedEvents: false, error: nil))
        let events = try results.map { try $0.get() }
        #expect(events.map(\.time.nanoseconds) == events.map(\.time.nanoseconds).sorted())
        #expect(events.first?.time.nanoseconds == 59_393_997_382_028)
        let kinds = events.map { e -> String in
            switch e.kind {
            case .stateChange(let from, let to, _): return "\(from.kernelName!)>\(to.kernelName!)"
            case .sendReset(let state, let reason): return "rst-sent \(state?.kernelName ?? "-") \(reason?.name ?? "-")"
            case .receiveReset: return "rst-received"
            case .errorReport(let errno, _): return "error \(errno)"
            }
        }
        #expect(kinds == ["TCP_CLOSE>TCP_LISTEN", "TCP_CLOSE>TCP_SYN_SENT", "TCP_SYN_SENT>TCP_ESTABLISHED",
                          "TCP_LISTEN>TCP_SYN_RECV", "TCP_SYN_RECV>TCP_ESTABLISHED", "TCP_ESTABLISHED>TCP_CLOSE",
                          "rst-received", "TCP_ESTABLISHED>TCP_CLOSE", "error 104",
                          "rst-sent TCP_CLOSE TCP_ABORT_ON_CLOSE", "TCP_LISTEN>TCP_CLOSE"])
        // connect()'s SYN-SENT is traced before the port is chosen: the socket address ties it
        // to the events that have the port.
        #expect(events[1].source?.port == 0 && events[1].socket == events[2].socket && events[2].source?.port == 41832)
    }

    /// A page of `events` (already encoded) behind a header with timestamp `time`.
    static func page(time: UInt64, _ body: [UInt32], commit: UInt64? = nil, size: Int = 4096) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: size)
        func put<T: FixedWidthInteger>(_ v: T, at o: Int) { withUnsafeBytes(of: v) { for (i, b) in $0.enumerated() { bytes[o + i] = b } } }
        put(time, at: 0)
        put(commit ?? UInt64(body.count * 4), at: 8)
        for (i, w) in body.enumerated() { put(w, at: 16 + 4 * i) }
        return bytes
    }

    /// An event header: `type_len` in the low 5 bits, the time delta above.
    static func head(_ typeLen: UInt32, delta: UInt32) -> UInt32 { typeLen | delta << 5 }

    @Test("time deltas, a time extend, padding, a long record and an absolute stamp")
    func crafted() {
        var body: [UInt32] = []
        body += [Self.head(2, delta: 5), 0xAAAA_AAAA, 0xBBBB_BBBB]   // 8 bytes at 1,005
        body += [Self.head(30, delta: 7), 2]                         // + (2 << 27) + 7
        body += [Self.head(1, delta: 1), 0xCCCC_CCCC]                // at 1,005 + 268,435,463 + 1
        body += [Self.head(29, delta: 10), 8, 0xDDDD_DDDD]           // padding of 8 (itself and one word); its delta counts
        body += [Self.head(0, delta: 2), 16, 1, 2, 3]                // long form: length 16 counts itself, 12 bytes
        body += [Self.head(31, delta: 3), 1]                         // absolute: (1 << 27) + 3
        body += [Self.head(1, delta: 4), 0xEEEE_EEEE]
        let p = Self.page(time: 1_000, body)
        var seen: [(UInt64, [UInt8])] = []
        let summary = p.withUnsafeBytes { TracePage.records(in: $0) { t, r in seen.append((t, Array(r))) } }
        let expected = TracePage.Summary(records: 4, missedEvents: false, error: nil)
        #expect(summary == expected)
        let afterExtend: UInt64 = 1_005 + (2 << 27) + 7 + 1
        let times: [UInt64] = [1_005, afterExtend, afterExtend + 10 + 2, (1 << 27) + 3 + 4]
        #expect(seen.map(\.0) == times)
        #expect(seen.map(\.1.count) == [8, 4, 12, 4])
        #expect(seen[2].1 == [1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0])
    }

    @Test("lost events flagged; a null padding ends the data; commit past the page and records past commit are errors")
    func edges() {
        let lost = Self.page(time: 0, [Self.head(1, delta: 1), 7], commit: 8 | 1 << 31)
        #expect(lost.withUnsafeBytes { TracePage.records(in: $0) { _, _ in } } == TracePage.Summary(records: 1, missedEvents: true))
        let null = Self.page(time: 0, [Self.head(1, delta: 1), 7, Self.head(29, delta: 0), 0, Self.head(1, delta: 1), 7])
        #expect(null.withUnsafeBytes { TracePage.records(in: $0) { _, _ in } }.records == 1)
        let past = Self.page(time: 0, [], commit: 4081)
        #expect(past.withUnsafeBytes { TracePage.records(in: $0) { _, _ in } }.error == .commitPastPage(commit: 4081, available: 4080))
        let cut = Self.page(time: 0, [Self.head(3, delta: 1), 7], commit: 8)
        #expect(cut.withUnsafeBytes { TracePage.records(in: $0) { _, _ in } }.error == .cutShort(offset: 20))
        #expect([UInt8](repeating: 0, count: 15).withUnsafeBytes { TracePage.records(in: $0) { _, _ in } }.error == .shortHeader(available: 15))
    }

    @Test("every prefix of the real page: never a read past it; the records before the cut, whole")
    func prefixes() throws {
        let page = try Self.fixturePage()
        let full = Self.events(page).events
        for k in 0...page.count {
            let (events, summary) = Self.events(Array(page[..<k]))
            #expect(events.count <= full.count)
            for (a, b) in zip(events, full) where a != b {
                // A record cut by the prefix is not delivered: only whole ones are.
                Issue.record("prefix \(k): \(a) != \(b)")
            }
            if k < 16 { #expect(summary.error == .shortHeader(available: k)) }
        }
    }

    @Test("every bit flip of the real page's header and events: no trap, at most a page of records")
    func bitFlips() throws {
        let page = try Self.fixturePage()
        let used = 16 + Int(page.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self) } & ((1 << 30) - 1))
        var records = 0
        for i in 0..<used {
            for bit in 0..<8 {
                var b = page
                b[i] ^= 1 << bit
                let (events, _) = Self.events(b)
                #expect(events.count <= 4080 / 4)
                records += events.count
            }
        }
        #expect(records > 0)
    }
}
