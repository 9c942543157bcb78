import Testing
import TeardownCaptureFile
import TeardownTestSupport
import TeardownWire

/// Builds pcapng files block by block (draft-ietf-opsawg-pcapng), in either byte order.
struct PcapngBuilder {
    var bigEndian = false
    var bytes: [UInt8] = []

    func u16(_ v: UInt16) -> [UInt8] {
        bigEndian ? [UInt8(v >> 8), UInt8(v & 0xFF)] : [UInt8(v & 0xFF), UInt8(v >> 8)]
    }
    func u32(_ v: UInt32) -> [UInt8] {
        let b = (0..<4).map { UInt8((v >> (8 * UInt32($0))) & 0xFF) }
        return bigEndian ? b.reversed() : b
    }
    func u64(_ v: UInt64) -> [UInt8] {
        let b = (0..<8).map { UInt8((v >> (8 * UInt64($0))) & 0xFF) }
        return bigEndian ? b.reversed() : b
    }
    func padded(_ b: [UInt8]) -> [UInt8] { b + [UInt8](repeating: 0, count: (4 - b.count % 4) % 4) }
    func option(_ code: UInt16, _ value: [UInt8]) -> [UInt8] { u16(code) + u16(UInt16(value.count)) + padded(value) }

    mutating func block(_ type: UInt32, _ body: [UInt8]) {
        let body = padded(body)
        let length = UInt32(12 + body.count)
        bytes += u32(type) + u32(length) + body + u32(length)
    }
    mutating func section(minor: UInt16 = 0) {
        block(0x0A0D_0D0A, u32(0x1A2B_3C4D) + u16(1) + u16(minor) + u64(UInt64.max))
    }
    mutating func interface(_ linkType: UInt16, snapLength: UInt32 = 0, tsresol: UInt8? = nil, tsoffset: Int64? = nil) {
        var options: [UInt8] = []
        if let tsresol { options += option(9, [tsresol]) }
        if let tsoffset { options += option(14, u64(UInt64(bitPattern: tsoffset))) }
        if !options.isEmpty { options += option(0, []) }
        block(1, u16(linkType) + u16(0) + u32(snapLength) + options)
    }
    mutating func enhanced(interface: UInt32, units: UInt64, _ data: [UInt8], originalLength: Int? = nil) {
        block(6, u32(interface) + u32(UInt32(units >> 32)) + u32(UInt32(units & 0xFFFF_FFFF))
              + u32(UInt32(data.count)) + u32(UInt32(originalLength ?? data.count)) + padded(data) + option(1, Array("hi".utf8)) + option(0, []))
    }
    mutating func obsolete(interface: UInt16, units: UInt64, _ data: [UInt8]) {
        block(2, u16(interface) + u16(0) + u32(UInt32(units >> 32)) + u32(UInt32(units & 0xFFFF_FFFF))
              + u32(UInt32(data.count)) + u32(UInt32(data.count)) + data)
    }
    mutating func simple(_ data: [UInt8], originalLength: Int? = nil) {
        block(3, u32(UInt32(originalLength ?? data.count)) + data)
    }
}

struct ReadPacket: Equatable {
    var linkType: Int32
    var interface: Int
    var nanoseconds: Int64
    var bytes: [UInt8]
    var originalLength: Int
}

/// Every packet of `bytes`, and the error that ended the read if one did.
func readAll(_ bytes: [UInt8], chunk: Int = .max) -> (packets: [ReadPacket], error: CaptureFileError?) {
    var packets: [ReadPacket] = []
    do {
        let reader = try PcapngReader(MemoryInput(bytes, chunk: chunk))
        while let p = try reader.next() {
            packets.append(ReadPacket(linkType: p.linkType.rawValue, interface: p.interface, nanoseconds: p.time.nanoseconds,
                                      bytes: Array(p.bytes), originalLength: p.originalLength))
        }
        return (packets, nil)
    } catch let e as CaptureFileError {
        return (packets, e)
    } catch {
        Issue.record("unexpected error type: \(error)")
        return (packets, nil)
    }
}

/// A file with what a reader must handle: two sections in opposite byte orders, interfaces of
/// different link types, snapshot lengths and resolutions with offsets, all three packet
/// blocks, and blocks to skip.
func sampleFile() -> [UInt8] {
    var le = PcapngBuilder()
    le.section()
    le.block(4, [1, 0, 4, 0, 127, 0, 0, 1, 0, 0, 0, 0])               // NRB: skipped
    le.interface(1, snapLength: 262_144, tsresol: 9)                   // Ethernet, ns
    le.interface(101, snapLength: 128, tsresol: 0x80 | 20, tsoffset: 1_600_000_000)  // raw IP, 2^-20 s
    le.enhanced(interface: 0, units: 1_700_000_000_123_456_789, [1, 2, 3, 4, 5])
    le.enhanced(interface: 1, units: (100 << 20) | (1 << 19), [0x45, 0, 0, 20], originalLength: 60)
    le.block(0x0000_0BAD, [0, 0, 0x7E, 0x4A, 9, 9])                  // custom: skipped
    le.obsolete(interface: 0, units: 1_700_000_001_000_000_000, [9, 8, 7])
    le.block(5, le.u32(0) + le.u64(0))                                // ISB: skipped
    var be = PcapngBuilder(bigEndian: true)
    be.section()
    be.interface(113, snapLength: 4)                                  // SLL, µs (default), snaplen 4
    be.enhanced(interface: 0, units: 1_700_000_002_000_001, [1, 1, 1, 1, 1, 1], originalLength: 6)
    be.simple([2, 2, 2, 2, 2, 2, 2, 2], originalLength: 8)            // cut to the snapshot length
    be.block(0x0A, be.u32(0x544C_534B) + be.u32(3) + [1, 2, 3])       // DSB: skipped
    return le.bytes + be.bytes
}

@Suite struct PcapngReaderTests {
    @Test func sampleFile_everyBlockReadAsWiresharkReadsIt() {
        let (packets, error) = readAll(sampleFile())
        #expect(error == nil)
        #expect(packets == [
            ReadPacket(linkType: 1, interface: 0, nanoseconds: 1_700_000_000_123_456_789, bytes: [1, 2, 3, 4, 5], originalLength: 5),
            // 100.5 s after the offset.
            ReadPacket(linkType: 101, interface: 1, nanoseconds: 1_600_000_100_500_000_000, bytes: [0x45, 0, 0, 20], originalLength: 60),
            ReadPacket(linkType: 1, interface: 0, nanoseconds: 1_700_000_001_000_000_000, bytes: [9, 8, 7], originalLength: 3),
            ReadPacket(linkType: 113, interface: 0, nanoseconds: 1_700_000_002_000_001_000, bytes: [1, 1, 1, 1, 1, 1], originalLength: 6),
            // No timestamp: the previous packet's time.
            ReadPacket(linkType: 113, interface: 0, nanoseconds: 1_700_000_002_000_001_000, bytes: [2, 2, 2, 2], originalLength: 8),
        ])
    }

    @Test func shortReads_giveTheSamePackets() {
        let whole = readAll(sampleFile())
        for chunk in [1, 3, 7, 64] {
            let cut = readAll(sampleFile(), chunk: chunk)
            #expect(cut.packets == whole.packets && cut.error == nil, "chunk \(chunk)")
        }
    }

    static let resolutions: [(UInt8, UInt64, Int64)] = [
        (UInt8(0), 1_700_000_000, 1_700_000_000_000_000_000),
        (UInt8(3), 1_700_000_000_123, 1_700_000_000_123_000_000),
        (UInt8(9), 1_700_000_000_123_456_789, 1_700_000_000_123_456_789),
        (UInt8(12), 1_700_000_000_123_456_789, 1_700_000_000_123_456), // ps: the fraction cut to ns
        (UInt8(19), 17_000_000_001_234_567_891, 1_700_000_000),
        (UInt8(0x80), 5, 5_000_000_000),
        (UInt8(0x80 | 1), 3, 1_500_000_000),
        (UInt8(0x80 | 30), (7 << 30) | (1 << 29), 7_500_000_000),
        (UInt8(0x80 | 63), UInt64(1) << 62, 500_000_000),
    ]

    @Test(arguments: resolutions)
    func timestampResolution(_ tsresol: UInt8, _ units: UInt64, _ expected: Int64) {
        var b = PcapngBuilder()
        b.section()
        b.interface(1, tsresol: tsresol)
        b.enhanced(interface: 0, units: units, [0])
        let (packets, error) = readAll(b.bytes)
        #expect(error == nil)
        #expect(packets.first?.nanoseconds == expected)
    }

    @Test func tsoffset_isAddedInSeconds_andMayBeNegative() {
        var b = PcapngBuilder(bigEndian: true)
        b.section()
        b.interface(1, tsresol: 6, tsoffset: -1000)
        b.enhanced(interface: 0, units: 1_000_000_250_000, [0])
        #expect(readAll(b.bytes).packets.first?.nanoseconds == 999_000_250_000_000)
    }

    @Test func badBlocks_areErrors_afterTheGoodPackets() {
        func file(_ edit: (inout PcapngBuilder) -> Void) -> [UInt8] {
            var b = PcapngBuilder()
            b.section()
            b.interface(1)
            b.enhanced(interface: 0, units: 1, [1])
            edit(&b)
            return b.bytes
        }
        let cases: [([UInt8], CaptureFileError.Kind, String)] = [
            (file { $0.enhanced(interface: 3, units: 2, [2]) }, .corrupt, "packet on interface 3, but its section describes 1 interface"),
            (file { $0.block(6, $0.u32(0) + $0.u32(0) + $0.u32(0) + $0.u32(100) + $0.u32(100) + [1, 2, 3, 4]) }, .corrupt,
             "claims 100 captured bytes, but holds 4"),
            (file { $0.block(6, $0.u32(0) + $0.u32(0) + $0.u32(0) + $0.u32(300_000) + $0.u32(300_000)) }, .corrupt,
             "invalid packet capture length 300000"),
            (file { $0.block(6, [1, 2, 3]) }, .corrupt, "too short for its fields"),
            (file { $0.interface(1, tsresol: 20) }, .corrupt, "if_tsresol 10^-20"),
            (file { $0.interface(1, tsresol: 0x80 | 64) }, .corrupt, "if_tsresol 2^-64"),
            (file { $0.block(1, $0.u16(1) + $0.u16(0) + $0.u32(0) + $0.u16(9) + $0.u16(200)) }, .corrupt, "runs past the end of its block"),
            (file { $0.block(1, $0.u16(1) + $0.u16(0) + $0.u32(0) + $0.option(14, [1, 2])) }, .corrupt, "if_tsoffset option is 2 bytes"),
            (file { $0.block(0x0A0D_0D0A, $0.u32(0x1A2B_3C4D) + $0.u16(2) + $0.u16(0) + $0.u64(0)) }, .corrupt, "pcapng version 2.0"),
            (file { $0.bytes += [6, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 17, 0, 0, 0] }, .corrupt, "header and trailer don't match"),
            (file { $0.bytes += [6, 0, 0, 0, 13, 0, 0, 0, 0, 0, 0, 0, 13, 0, 0, 0] }, .corrupt, "not a multiple of 4"),
            (file { $0.bytes += [6, 0, 0, 0, 8, 0, 0, 0] }, .corrupt, "fewer than the 12"),
            (file { $0.bytes += [6, 0, 0, 0, 0, 0, 0, 2] }, .corrupt, "more than the 16 MiB"),
            (file { $0.bytes += [6, 0, 0, 0, 64, 0, 0, 0, 1, 2] }, .cut, "file ends in the middle of a block (10 of its 64 bytes"),
            (file { $0.bytes += [6, 0, 0] }, .cut, "file ends in the middle of a block header"),
            (file { $0.bytes += [0x0A, 0x0D, 0x0D, 0x0A, 28, 0, 0, 0, 1, 2, 3, 4] }, .corrupt, "byte-order magic 0x4030201"),
        ]
        for (bytes, kind, words) in cases {
            let (packets, error) = readAll(bytes)
            #expect(packets.count == 1, "\(words)")
            #expect(error?.kind == kind, "\(words): \(String(describing: error))")
            #expect(error?.message.contains(words) == true, "\(words): \(String(describing: error))")
        }
    }

    @Test func notPcapng_orHeaderCut_atOpen() {
        #expect(throws: CaptureFileError(.notACapture, "not a pcapng capture")) { try PcapngReader(MemoryInput([1, 2, 3, 4, 5])) }
        #expect(throws: CaptureFileError(.cut, "file ends inside its header (2 bytes)")) { try PcapngReader(MemoryInput([0x0A, 0x0D])) }
        let (packets, error) = readAll(Array(sampleFile().prefix(20)))
        #expect(packets.isEmpty && error?.kind == .cut && error?.message.contains("file ends inside its header") == true)
    }

    /// Every prefix of the sample: never a trap, the packets read are the whole file's first
    /// ones, and a cut inside a block is an error saying so.
    @Test func everyPrefix_readsTheFirstPackets_thenSaysCut() {
        let bytes = sampleFile()
        let whole = readAll(bytes).packets
        for n in 0..<bytes.count {
            let (packets, error) = readAll(Array(bytes.prefix(n)))
            #expect(Array(whole.prefix(packets.count)) == packets, "prefix \(n)")
            if let error { #expect(error.kind == .cut || n < 4, "prefix \(n): \(error)") }
        }
    }

    /// Every single bit flipped, and random multi-byte damage: never a trap; a clean error or packets.
    @Test func bitFlips_andRandomDamage_neverTrap() {
        let bytes = sampleFile()
        var outcomes = 0
        for i in 0..<bytes.count * 8 {
            var b = bytes
            b[i / 8] ^= 1 << UInt8(i % 8)
            let (_, error) = readAll(b)
            if error != nil { outcomes += 1 }
        }
        #expect(outcomes > bytes.count)   // the flips did reach the checks
        var rng = SplitMix64(state: 13)
        for _ in 0..<2000 {
            var b = bytes
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                b[Int.random(in: 0..<b.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            _ = readAll(Array(b.prefix(Int.random(in: 0...b.count, using: &rng))))
        }
    }

    @Test func hugeBlock_isReadByGrowingTheBuffer_withinTheBound() {
        var b = PcapngBuilder()
        b.section()
        b.interface(1)
        b.block(0x0BAD, [UInt8](repeating: 7, count: 3 << 20))   // 3 MiB custom block
        b.enhanced(interface: 0, units: 1, [1, 2])
        let (packets, error) = readAll(b.bytes, chunk: 100_000)
        #expect(error == nil && packets.map(\.bytes) == [[1, 2]])
    }
}
