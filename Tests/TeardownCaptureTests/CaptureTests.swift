import Foundation
import Testing
import TeardownCapture
import TeardownWire

/// Builds an Ethernet + IPv4 + TCP frame (no options) by hand.
func frame(srcPort: UInt16, dstPort: UInt16, seq: UInt32, flags: UInt8, payload: Int = 0) -> [UInt8] {
    var b: [UInt8] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00]
    let total = 20 + 20 + payload
    b += [0x45, 0, UInt8(total >> 8), UInt8(total & 0xff), 0, 1, 0x40, 0, 64, 6, 0, 0,
          127, 0, 0, 1, 127, 0, 0, 2]
    b += [UInt8(srcPort >> 8), UInt8(srcPort & 0xff), UInt8(dstPort >> 8), UInt8(dstPort & 0xff)]
    b += [UInt8(seq >> 24), UInt8((seq >> 16) & 0xff), UInt8((seq >> 8) & 0xff), UInt8(seq & 0xff)]
    b += [0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]
    b += [UInt8](repeating: 0x61, count: payload)
    return b
}

func temporaryPath(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("teardown-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
}

/// Writes frames to a pcap with PcapWriter (libpcap's pcap_dump) and returns the path.
func writePcap(_ name: String, _ frames: [[UInt8]], start: Int64 = 1_700_000_000_123_456_789) throws -> String {
    let path = temporaryPath(name)
    let w = try PcapWriter(path: path, linkType: .ethernet)
    for (i, f) in frames.enumerated() {
        f.withUnsafeBytes { bytes in
            w.write(CapturedPacket(time: Timestamp(nanoseconds: start + Int64(i) * 1000), bytes: bytes,
                                   originalLength: f.count, number: i + 1, linkType: .ethernet))
        }
    }
    w.close()
    return path
}

@Suite struct CaptureTests {
    @Test func writtenPcap_readsBackWithNanosecondTimestamps() throws {
        let frames = [frame(srcPort: 1000, dstPort: 80, seq: 1, flags: 0x02),
                      frame(srcPort: 80, dstPort: 1000, seq: 9, flags: 0x12, payload: 5)]
        let path = try writePcap("roundtrip.pcap", frames)
        let src = try PacketSource.openFile(path)
        #expect(src.linkType == .ethernet)
        var seen: [(Int64, Int, Int)] = []
        let outcome = try src.read { p in
            seen.append((p.time.nanoseconds, p.bytes.count, p.number))
            return true
        }
        #expect(outcome == .endOfInput)
        #expect(seen.count == 2)
        #expect(seen.first?.0 == 1_700_000_000_123_456_789)
        #expect(seen.last?.1 == frames[1].count)
        #expect(seen.map(\.2) == [1, 2])
    }

    @Test func bpfFilter_keepsOnlyMatchingPackets() throws {
        let frames = [frame(srcPort: 1000, dstPort: 80, seq: 1, flags: 0x02),
                      frame(srcPort: 2000, dstPort: 443, seq: 1, flags: 0x02),
                      frame(srcPort: 80, dstPort: 1000, seq: 1, flags: 0x12)]
        let path = try writePcap("filter.pcap", frames)
        let src = try PacketSource.openFile(path, filter: "tcp port 80")
        var n = 0
        try src.read { _ in n += 1; return true }
        #expect(n == 2)
    }

    @Test func badFilter_namesTheExpression() throws {
        let path = try writePcap("badfilter.pcap", [frame(srcPort: 1, dstPort: 2, seq: 0, flags: 2)])
        #expect {
            _ = try PacketSource.openFile(path, filter: "tcp port banana")
        } throws: { e in
            let c = e as? CaptureError
            return c?.kind == .filter && "\(e)".contains("tcp port banana")
        }
    }

    @Test func missingFile_saysSoAndNamesIt() {
        #expect {
            _ = try PacketSource.openFile("/nonexistent/x.pcap")
        } throws: { e in
            "\(e)" == "/nonexistent/x.pcap: cannot open: No such file or directory"
        }
    }

    @Test func directory_isRejectedWithItsName() {
        let dir = FileManager.default.temporaryDirectory.path
        #expect {
            _ = try PacketSource.openFile(dir)
        } throws: { e in
            "\(e)".hasPrefix(dir) && "\(e)".contains("is a directory")
        }
    }

    @Test func notACapture_saysNotPcap() throws {
        let path = temporaryPath("text.pcap")
        try "hello, this is not a capture file at all\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect {
            _ = try PacketSource.openFile(path)
        } throws: { e in
            "\(e)".contains("not a pcap or pcapng capture")
        }
    }

    @Test func fileCutInsideARecord_reportsPacketNumberAfterDeliveringEarlierOnes() throws {
        let frames = (0..<3).map { frame(srcPort: 1000, dstPort: 80, seq: UInt32($0), flags: 0x10, payload: 100) }
        let path = try writePcap("cut.pcap", frames)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let cutPath = temporaryPath("cut-short.pcap")
        try data.prefix(data.count - 50).write(to: URL(fileURLWithPath: cutPath))
        let src = try PacketSource.openFile(cutPath)
        var delivered = 0
        #expect {
            try src.read { _ in delivered += 1; return true }
        } throws: { e in
            let c = e as? CaptureError
            return c?.packetNumber == 3 && "\(e)".contains("packet 3") && "\(e)".contains("cut-short.pcap")
        }
        #expect(delivered == 2)
    }

    @Test func fileCutInsideTheHeader_isAnOpenError() throws {
        let path = try writePcap("hdr.pcap", [frame(srcPort: 1, dstPort: 2, seq: 0, flags: 2)])
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let cutPath = temporaryPath("hdr-cut.pcap")
        try data.prefix(10).write(to: URL(fileURLWithPath: cutPath))
        #expect {
            _ = try PacketSource.openFile(cutPath)
        } throws: { e in
            (e as? CaptureError)?.kind == .open && "\(e)".hasPrefix(cutPath)
        }
    }

    @Test func emptyFile_isAnOpenError() throws {
        let path = temporaryPath("empty.pcap")
        FileManager.default.createFile(atPath: path, contents: Data())
        #expect(throws: CaptureError.self) { _ = try PacketSource.openFile(path) }
    }

    @Test func liveCapture_withoutPrivilege_orOnMissingInterface_explains() throws {
        // As root this opens a nonexistent interface (no such device); as a user, capture is refused.
        #expect {
            _ = try PacketSource.openLive(interface: "td-no-such-if0")
        } throws: { e in
            let s = "\(e)"
            return s.contains("no such interface") || s.contains("no permission to capture")
        }
    }
}
