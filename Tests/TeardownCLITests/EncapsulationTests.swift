import Foundation
import Testing

/// Hostile layer-2 stacks: a label stack or tag stack that never ends is a per-packet warning,
/// in bounded time and memory, and the connections around it are still reported.
@Suite struct HostileEncapsulationTests {
    /// An Ethernet pcap (nanoseconds, as the recordings): `count` hostile frames of 9,000 bytes (an MPLS label
    /// stack without bottom-of-stack, then 802.1Q tags that only name further tags, then
    /// 802.1BR E-Tags likewise, in turn), then the packets of a real recording.
    static func hostile(count: Int, then recording: Data) -> Data {
        var d = Data()
        func u32le(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        func u16le(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        u32le(0xa1b2_3c4d); u16le(2); u16le(4); u32le(0); u32le(0); u32le(65535); u32le(1)
        let macs: [UInt8] = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]
        let frames: [[UInt8]] = [
            macs + [0x88, 0x47] + Array([[UInt8]](repeating: [0, 1, 0, 64], count: 2246).joined()),
            macs + [0x81, 0x00] + Array([[UInt8]](repeating: [0, 100, 0x81, 0x00], count: 2246).joined()),
            macs + [0x89, 0x3F] + Array([[UInt8]](repeating: [0, 0, 0, 0, 0, 0, 0x89, 0x3F], count: 1123).joined()),
        ]
        for i in 0..<count {
            let frame = frames[i % frames.count]
            u32le(1_700_000_000); u32le(UInt32(i)); u32le(UInt32(frame.count)); u32le(UInt32(frame.count))
            d.append(contentsOf: frame)
        }
        // The recording's records, after its 24-byte file header.
        d.append(recording.dropFirst(24))
        return d
    }

    @Test func endlessStacks_warnPerPacket_inBoundedMemory_andLoseNothing() throws {
        let recording = try Data(contentsOf: CLI.packageRoot.appendingPathComponent("captures/real/graceful-client-close.pcap"))
        let file = try HardeningTests.tmpDir().appendingPathComponent("endless-stacks.pcap")
        defer { try? FileManager.default.removeItem(at: file) }
        try HostileEncapsulationTests.hostile(count: 3_000, then: recording).write(to: file)
        let started = Date()
        let r = try HardeningTests.spawnMeasured(["replay", file.path, "--summary", "--no-color"])
        let seconds = Date().timeIntervalSince(started)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 6, "\(r.stderr)")
        #expect(lines.first == "teardown: warning: \(file.path): packet 1: malformed link header: "
                + "MPLS label stack ends with the packet, before a bottom-of-stack entry")
        #expect(lines.dropFirst().first == "teardown: warning: \(file.path): packet 2: truncated link header: "
                + "captured bytes end inside an 802.1Q/802.1ad VLAN tag")
        #expect(lines.dropFirst(2).first == "teardown: warning: \(file.path): packet 3: truncated link header: "
                + "captured bytes end inside an 802.1BR E-Tag")
        #expect(lines.last == "teardown: warning: \(file.path): 3000 packets could not be decoded (the first 5 are shown above)")
        // 27 MB of hostile frames are read and dropped one by one: nothing of them is kept.
        #expect(r.peakKilobytes > 0 && r.peakKilobytes < 64_000, "peak \(r.peakKilobytes) KB")
        #expect(seconds < 30)
        print("3,000 endless stacks of 9,000 bytes: peak resident \(r.peakKilobytes) KB, \(String(format: "%.2f", seconds)) s")
    }

    @Test func endlessStacks_keepTheConnectionAfterThem() throws {
        let recording = try Data(contentsOf: CLI.packageRoot.appendingPathComponent("captures/real/graceful-client-close.pcap"))
        let file = try HardeningTests.tmpDir().appendingPathComponent("endless-stacks-json.pcap")
        defer { try? FileManager.default.removeItem(at: file) }
        try HostileEncapsulationTests.hostile(count: 30, then: recording).write(to: file)
        let r = try CLI.run(["replay", file.path, "--format", "json", "--no-events"])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.contains("\"teardown\":\"graceful\"") == true, "\(r.stdout)")
    }
}
