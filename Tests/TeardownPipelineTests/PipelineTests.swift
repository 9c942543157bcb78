import Testing
import TeardownCapture
import TeardownModel
import TeardownWire
@testable import TeardownPipeline
#if canImport(Glibc)
import Glibc
#endif

/// The replay pipeline's stages: what crosses between threads must arrive whole and in order.
@Suite struct PipelineTests {
    /// 20,000 numbered elements in batches of irregular size (empty ones included) arrive in
    /// order, none lost or doubled, and only the last batch says so.
    @Test func batchPipe_keepsOrder_andMarksTheLastBatch() throws {
        let pipe = BatchPipe<Int>(depth: 3)
        let total = 20_000
        let sender = try #require(WorkerThread {
            var batch = ContiguousArray<Int>()
            var next = 0, size = 0
            while next < total {
                size = (size * 7 + 3) % 50   // 0 ..< 50, empty batches included
                for _ in 0..<size where next < total { batch.append(next); next += 1 }
                pipe.send(&batch)
            }
            pipe.send(&batch, last: true)
        })
        var received: [Int] = []
        var batch = ContiguousArray<Int>()
        var lastFlags = 0
        var more = true
        while more {
            more = pipe.receive(into: &batch)
            if !more { lastFlags += 1 }
            received.append(contentsOf: batch)
        }
        sender.join()
        #expect(received.count == total)
        #expect(received == Array(0..<total))
        #expect(lastFlags == 1)
    }

    /// Packets that come through the reading thread equal packets decoded in place, one by
    /// one, on every capture in captures/real, captures/fixtures and captures/fragments.
    @Test(arguments: PipelineTests.captures)
    func decodingReader_deliversWhatADirectDecodeGives(_ path: String) throws {
        var direct: [(Int, Int64, DecodeResult, TCPSegment?)] = []
        let plain = try PacketSource.openFile(path)
        let linkType = plain.linkType
        var reassembler = FragmentReassembler()
        try plain.read { p in
            var segment = PacketDecoder.emptySegment
            let r = PacketDecoder.decode(p.bytes, linkType: linkType, originalLength: p.originalLength, time: p.time,
                                         reassembling: &reassembler, into: &segment)
            direct.append((p.number, p.time.nanoseconds, r, r == .tcp ? segment : nil))
            return true
        }
        var piped: [(Int, Int64, DecodeResult, TCPSegment?)] = []
        let hasher = ConnectionTracker().flowHasher
        try DecodingReader(source: try PacketSource.openFile(path), hasher: hasher, tunnels: TunnelRegistry()).run { batch in
            for p in batch {
                if p.status == .tcp {
                    #expect(p.flow == hasher.flow(of: p.segment), "packet \(p.number) of \(path)")
                }
                piped.append((p.number, p.time.nanoseconds, p.status, p.status == .tcp ? p.segment : nil))
            }
        }
        #expect(!direct.isEmpty)
        #expect(piped.count == direct.count)
        for (a, b) in zip(direct, piped) {
            #expect(a.0 == b.0 && a.1 == b.1 && a.2 == b.2 && a.3 == b.3, "packet \(a.0) of \(path)")
        }
    }

    /// The tracker's batch path (flows hashed on the reading thread, lookahead prefetching)
    /// reports exactly what feeding it one segment at a time reports, with timelines and
    /// notes on, on every capture in captures/real, captures/fixtures and captures/fragments.
    @Test(arguments: PipelineTests.captures)
    func batchTrackingEqualsSegmentBySegmentTracking(_ path: String) throws {
        let configuration = ConnectionTracker.Configuration(recordEvents: true, recordNotes: true)
        var one = ConnectionTracker(configuration: configuration)
        var expected: [ConnectionRecord] = []
        let plain = try PacketSource.openFile(path)
        let linkType = plain.linkType
        var reassembler = FragmentReassembler()
        try plain.read { p in
            if let seg = PacketDecoder.segment(p.bytes, linkType: linkType, originalLength: p.originalLength, time: p.time,
                                               reassembling: &reassembler) {
                one.process(seg, time: p.time, packetNumber: p.number) { expected.append($0) }
            }
            return true
        }
        one.finish { expected.append($0) }

        var batched = ConnectionTracker(configuration: configuration)
        var got: [ConnectionRecord] = []
        try DecodingReader(source: try PacketSource.openFile(path), hasher: batched.flowHasher, tunnels: TunnelRegistry()).run { batch in
            batched.process(batch) { got.append($0.record()) }
        }
        batched.finishHandingOver { got.append($0.record()) }
        #expect(!expected.isEmpty || path.hasSuffix("/non-tcp.pcap"), "no connection in \(path)")
        #expect(got == expected, "\(path)")
    }

    /// A file cut inside a record: every packet before the cut is delivered, then the error.
    @Test func decodingReader_deliversEverythingBeforeAReadError() throws {
        let path = PipelineTests.root + "/captures/malformed/record-cut.pcap"
        var before = 0
        let plain = try PacketSource.openFile(path)
        #expect(throws: CaptureError.self) { try plain.read { _ in before += 1; return true } }
        var delivered = 0
        #expect(throws: CaptureError.self) {
            try DecodingReader(source: try PacketSource.openFile(path), hasher: ConnectionTracker().flowHasher, tunnels: TunnelRegistry()).run {
                delivered += $0.count
            }
        }
        #expect(before > 0)
        #expect(delivered == before)
    }

    static let root: String = {
        var dir = #filePath
        for _ in 0..<3 { dir = String(dir[..<(dir.lastIndex(of: "/") ?? dir.endIndex)]) }
        return dir
    }()

    static let captures: [String] = ["captures/real", "captures/fixtures", "captures/fragments"].flatMap { sub -> [String] in
        let dir = root + "/" + sub
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasSuffix(".pcap") || name.hasSuffix(".pcapng") { names.append(dir + "/" + name) }
        }
        return names.sorted()
    }
}
