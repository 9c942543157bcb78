// libFuzzer target: bytes in -> PacketDecoder (fragments reassembled) -> ConnectionTracker -> every
// renderer, and the same packets through ZeekConnTracker -> Zeek's conn.log (TSV and JSON).
//
// Built by scripts/fuzz.sh together with the sources of TeardownWire, TeardownModel and
// TeardownRender (no libpcap). The input is a small framing of its own, so that one input can
// hold a whole multi-packet conversation under any supported link type:
//
//   byte 0        link type: index into `FuzzInput.linkTypes` (modulo its count)
//   byte 1        configuration bits: 0 = tiny connection cap (4), 1 = short idle timeout
//                 (1 s) and linger (0), 2 = no events/notes recorded, 3 = colour in the timeline,
//                 4 = time starts at 0 (the epoch) instead of 2023, 6 = the input is strace's
//                 output instead (StraceFuzz.swift), 7 = the input is for the kernel lane
//                 instead (KernelFuzz.swift)
//   then records: u16 big-endian captured length, i16 big-endian time step in milliseconds
//                 (negative steps happen in merged captures; -32768 jumps to time 0 and 32767
//                 to the last second a pcap file can hold, 2^32 - 1 s), u8 extra wire length
//                 (pcap `len` = captured + extra), then the captured bytes (cut at the end
//                 of the input).
//   A record whose length is 0xFF00 or more is a socket call, as a NAME.events.jsonl sidecar
//                 holds them: the length's low byte picks the call (`FuzzInput.calls`), bit 7
//                 of `extra` swaps its local and remote endpoint (those of the last TCP segment),
//                 bit 6 leaves them out, bits 0-2 are the pid, bits 3-5 the fd; then i64 BE
//                 bytes (also the result) and i64 BE duration in nanoseconds. With any call
//                 present the records are held and passed through CallCorrelation.attach, as
//                 `replay` does for a recording with a sidecar.
//
// An input that starts as a capture file does (pcapng's block type 0A 0D 0D 0A, or the magic of
// gzip, zstd or LZ4) is read as one instead: decompressed by content (at most 4 MiB of output, so
// that a small bomb stays quick), a pcapng file read by teardown's own reader, every packet decoded
// with its interface's link type and fed to both trackers and every renderer as above. (A pcap
// file inside is libpcap's to read, outside the fuzzer: its bytes are only decompressed.)
//
// scripts/fuzz-corpus.py writes captures/ in this framing as the seed corpus, and the pcapng and
// compressed files of captures/ as they are.

import TeardownCaptureFile
import TeardownModel
import TeardownRender
import TeardownWire

enum FuzzInput {
    /// Every link type the decoder knows, and one it does not (USB, 220) so that path runs too.
    /// scripts/fuzz-corpus.py numbers its seeds by this list.
    static let linkTypes: [LinkType] = [
        .ethernet, .linuxSLL, .linuxSLL2, .null, .loop, .raw, .rawBSD12, .rawBSD14, .ipv4, .ipv6,
        LinkType(rawValue: 220), .ppp, .pppSerial, .ciscoHDLC, .ieee80211, .ieee80211Radiotap, .ppi,
        .arcnetLinux, .ipoib, .nflog,
    ]

    /// The calls a sidecar can hold: (text, kind).
    static let calls: [(String, RecordedCall.Kind)] = [
        ("socket(AF_INET, SOCK_STREAM)", .other), ("connect(127.0.0.1:8080)", .other), ("accept()", .other),
        ("write(4096)", .write), ("send(100)", .write), ("read(65536)", .read), ("recv(MSG_PEEK)", .peek),
        ("close()", .other), ("shutdown(SHUT_WR)", .other), ("setsockopt(SO_LINGER, {on, 0 s})", .other),
    ]

    static func int64(_ data: UnsafeRawBufferPointer, at offset: Int) -> Int64 {
        var v: UInt64 = 0
        for i in 0..<8 { v = v << 8 | UInt64(offset + i < data.count ? data[offset + i] : 0) }
        return Int64(bitPattern: v)
    }

    static func run(_ data: UnsafeRawBufferPointer) {
        guard data.count >= 2 else { return }
        // A capture file's magic first: gzip's and zstd's second bytes (8B, B5) have bit 7 set.
        if CaptureFormat(magic: data.prefix(CaptureFormat.magicLength)) != .other {
            runFile(Array(data))
            return
        }
        if data[1] & 0x80 != 0 {
            blackHole(KernelFuzz.run(data))
            return
        }
        if data[1] & 0x40 != 0 {
            blackHole(StraceFuzz.run(data))
            return
        }
        let linkType = linkTypes[Int(data[0]) % linkTypes.count]
        let bits = data[1]
        let quick = bits & 2 != 0
        let record = bits & 4 == 0
        var tracker = ConnectionTracker(configuration: .init(
            recordEvents: record, recordNotes: record,
            lingerNanoseconds: quick ? 0 : 2_000_000_000,
            idleTimeoutNanoseconds: quick ? 1_000_000_000 : 300_000_000_000,
            maxConnections: bits & 1 != 0 ? 4 : 500_000))
        let options = RenderOptions(color: bits & 8 != 0, source: "fuzz")
        var tally = TeardownTally()
        var sink = 0
        // Tunnels numbered as replay's reading stage numbers them, and named in the records.
        var tunnels = TunnelTable()
        var tunnel = TunnelPath()
        let render: (ConnectionRecord) -> Void = { record in
            var record = record
            if !record.tunnelRoutes.isEmpty {
                record.tunnel = ConnectionTunnel(orig: tunnels.path(route: record.tunnelRoutes.orig),
                                                 resp: tunnels.path(route: record.tunnelRoutes.resp))
            }
            sink &+= TimelineRenderer.render(record, options: options).utf8.count
            sink &+= JSONLinesRenderer.render(record, source: "fuzz", includeEvents: true).utf8.count
            sink &+= SummaryRenderer.line(record, source: nil).utf8.count
            tally.add(record)
        }
        var recordedCalls: [RecordedCall] = []
        var held: [ConnectionRecord] = []
        var last: (Endpoint, Endpoint)?
        // Held until the end only when there are calls to line up (as replay does).
        let emit: (ConnectionRecord) -> Void = { record in held.append(record) }
        var zeek = ZeekConnTracker(maxConnections: bits & 1 != 0 ? 4 : 500_000)
        let zeekLine: (ZeekConnRecord) -> Void = { r in
            sink &+= ByteCursor.string(initialCapacity: 256) { ZeekConnLog.writeTSV(r, to: &$0) }.utf8.count
            sink &+= ByteCursor.string(initialCapacity: 256) { ZeekConnLog.writeJSON(r, to: &$0) }.utf8.count
        }
        // Fragments reassembled as replay does; with the small bounds, in little memory and
        // time, so that eviction and the timeout run too.
        var reassembler = FragmentReassembler(limits: bits & 1 != 0
            ? .init(timeoutNanoseconds: 1_000_000_000, memory: 4096) : .init())
        var time: Int64 = bits & 16 != 0 ? 0 : 1_700_000_000_000_000_000
        var offset = 2
        var number = 0
        while offset + 5 <= data.count {
            let length = Int(data[offset]) << 8 | Int(data[offset + 1])
            let step = Int16(bitPattern: UInt16(data[offset + 2]) << 8 | UInt16(data[offset + 3]))
            let extra = Int(data[offset + 4])
            offset += 5
            if length >= 0xFF00 {
                let (text, kind) = calls[(length & 0xFF) % calls.count]
                let bytes = int64(data, at: offset), duration = int64(data, at: offset + 8)
                offset = min(data.count, offset + 16)
                time &+= Int64(step) * 1_000_000
                let ends = extra & 0x40 != 0 ? nil : last.map { extra & 0x80 != 0 ? ($0.1, $0.0) : $0 }
                recordedCalls.append(RecordedCall(
                    time: Timestamp(nanoseconds: time), durationNanoseconds: duration,
                    pid: Int32(extra & 7), fd: Int32(extra >> 3 & 7), local: ends?.0, remote: ends?.1,
                    actor: extra & 1 == 0 ? "client" : "server", call: text, result: bytes,
                    errno: bytes < 0 ? "EPIPE" : nil, bytes: bytes, kind: kind))
                continue
            }
            let end = min(data.count, offset + length)
            let bytes = UnsafeRawBufferPointer(rebasing: data[offset..<end])
            offset = end
            switch step {
            case .min: time = 0
            case .max: time = Int64(UInt32.max) * 1_000_000_000
            default: time &+= Int64(step) * 1_000_000
            }
            number += 1
            var segment = PacketDecoder.emptySegment
            if PacketDecoder.decode(bytes, linkType: linkType, originalLength: bytes.count + extra,
                                    time: Timestamp(nanoseconds: time), reassembling: &reassembler, tunnel: &tunnel,
                                    into: &segment) == .tcp {
                if tunnel.count > 0 { segment.tunnel = tunnels.ids(for: tunnel) }
                last = (segment.source, segment.destination)
                tracker.process(segment, time: Timestamp(nanoseconds: time), packetNumber: number, emit: emit)
                zeek.process(segment, time: Timestamp(nanoseconds: time), emit: zeekLine)
            } else {
                zeek.advance(to: Timestamp(nanoseconds: time), emit: zeekLine)
            }
        }
        reassembler.finish()
        sink &+= reassembler.counts.dropped
        tracker.finish(emit: emit)
        zeek.finish(emit: zeekLine)
        if recordedCalls.isEmpty {
            for record in held { render(record) }
        } else {
            for record in CallCorrelation.attach(recordedCalls, to: held) { render(record) }
        }
        sink &+= tally.render(color: false).utf8.count
        blackHole(sink)
    }

    /// A capture file: decompressed by content, pcapng read by `PcapngReader`, each packet
    /// decoded by its interface's link type, tracked and rendered.
    static func runFile(_ bytes: [UInt8]) {
        var sink = 0
        var tracker = ConnectionTracker(configuration: .init(recordEvents: true, recordNotes: true, maxConnections: 64))
        var zeek = ZeekConnTracker(maxConnections: 64)
        var reassembler = FragmentReassembler(limits: .init(timeoutNanoseconds: 1_000_000_000, memory: 1 << 16))
        let options = RenderOptions(color: false, source: "fuzz")
        let render: (ConnectionRecord) -> Void = { record in
            sink &+= TimelineRenderer.render(record, options: options).utf8.count
            sink &+= JSONLinesRenderer.render(record, source: "fuzz", includeEvents: true).utf8.count
        }
        let zeekLine: (ZeekConnRecord) -> Void = { r in
            sink &+= ByteCursor.string(initialCapacity: 256) { ZeekConnLog.writeTSV(r, to: &$0) }.utf8.count
        }
        do {
            // Short reads (a chunk size from the input's length) exercise the readers' refills.
            var input: ByteInput = MemoryInput(bytes, chunk: 1 + bytes.count % 997)
            var magic = Array(bytes.prefix(CaptureFormat.magicLength))
            if case .compressed(let c) = CaptureFormat(magic: magic) {
                input = LimitedInput(try c.decompressing(input), limit: 4 << 20)
                magic = try input.readPrefix(CaptureFormat.magicLength)
                input = PrefixedInput(magic, then: input)
            }
            guard CaptureFormat(magic: magic) == .pcapng else {
                var buffer = [UInt8](repeating: 0, count: 1 << 16)
                while try buffer.withUnsafeMutableBytes({ try input.read(into: $0) }) > 0 {}
                return
            }
            let reader = try PcapngReader(input)
            var number = 0
            while let p = try reader.next() {
                number += 1
                sink &+= reader.interfaces.count
                if let segment = PacketDecoder.segment(p.bytes, linkType: p.linkType, originalLength: p.originalLength,
                                                       time: p.time, reassembling: &reassembler) {
                    tracker.process(segment, time: p.time, packetNumber: number, emit: render)
                    zeek.process(segment, time: p.time, emit: zeekLine)
                } else {
                    zeek.advance(to: p.time, emit: zeekLine)
                }
            }
        } catch let e as CaptureFileError {
            sink &+= e.message.utf8.count
        } catch {
            sink &+= 1
        }
        reassembler.finish()
        tracker.finish(emit: render)
        zeek.finish(emit: zeekLine)
        blackHole(sink)
    }

    /// At most `limit` bytes of `base`: a decompression bomb stays quick.
    final class LimitedInput: ByteInput {
        let base: ByteInput
        var left: Int
        init(_ base: ByteInput, limit: Int) { self.base = base; left = limit }
        func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
            guard left > 0 else { return 0 }
            let n = try base.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer.prefix(left)))
            left -= n
            return n
        }
    }

    @inline(never)
    static func blackHole(_ value: Int) {
        if value == -1 { print(value) }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    FuzzInput.run(UnsafeRawBufferPointer(start: start, count: count))
    return 0
}
