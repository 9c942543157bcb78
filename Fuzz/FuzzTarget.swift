// libFuzzer target: bytes in -> PacketDecoder -> ConnectionTracker -> every renderer.
//
// Built by scripts/fuzz.sh together with the sources of TeardownWire, TeardownModel and
// TeardownRender (no libpcap). The input is a small framing of its own, so that one input can
// hold a whole multi-packet conversation under any supported link type:
//
//   byte 0        link type: index into `FuzzInput.linkTypes` (modulo its count)
//   byte 1        configuration bits: 0 = tiny connection cap (4), 1 = short idle timeout
//                 (1 s) and linger (0), 2 = no events/notes recorded, 3 = colour in the timeline,
//                 4 = time starts at 0 (the epoch) instead of 2023
//   then records: u16 big-endian captured length, i16 big-endian time step in milliseconds
//                 (negative steps happen in merged captures; -32768 jumps to time 0 and 32767
//                 to the last second a pcap file can hold, 2^32 - 1 s), u8 extra wire length
//                 (pcap `len` = captured + extra), then the captured bytes (cut at the end
//                 of the input).
//
// scripts/fuzz-corpus.py writes captures/ in this framing as the seed corpus.

import TeardownModel
import TeardownRender
import TeardownWire

enum FuzzInput {
    /// Every link type the decoder knows, and one it does not (PPP) so that path runs too.
    static let linkTypes: [LinkType] = [
        .ethernet, .linuxSLL, .linuxSLL2, .null, .loop, .raw, .rawBSD12, .rawBSD14, .ipv4, .ipv6,
        LinkType(rawValue: 9),
    ]

    static func run(_ data: UnsafeRawBufferPointer) {
        guard data.count >= 2 else { return }
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
        let emit: (ConnectionRecord) -> Void = { record in
            sink &+= TimelineRenderer.render(record, options: options).utf8.count
            sink &+= JSONLinesRenderer.render(record, source: "fuzz", includeEvents: true).utf8.count
            sink &+= SummaryRenderer.line(record, source: nil).utf8.count
            tally.add(record)
        }
        var time: Int64 = bits & 16 != 0 ? 0 : 1_700_000_000_000_000_000
        var offset = 2
        var number = 0
        while offset + 5 <= data.count {
            let length = Int(data[offset]) << 8 | Int(data[offset + 1])
            let step = Int16(bitPattern: UInt16(data[offset + 2]) << 8 | UInt16(data[offset + 3]))
            let extra = Int(data[offset + 4])
            offset += 5
            let end = min(data.count, offset + length)
            let bytes = UnsafeRawBufferPointer(rebasing: data[offset..<end])
            offset = end
            switch step {
            case .min: time = 0
            case .max: time = Int64(UInt32.max) * 1_000_000_000
            default: time &+= Int64(step) * 1_000_000
            }
            number += 1
            if case .tcp(let segment) = PacketDecoder.decode(bytes, linkType: linkType,
                                                             originalLength: bytes.count + extra) {
                tracker.process(segment, time: Timestamp(nanoseconds: time), packetNumber: number, emit: emit)
            }
        }
        tracker.finish(emit: emit)
        sink &+= tally.render(color: false).utf8.count
        blackHole(sink)
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
