import Foundation
import Testing

/// Bad input: every case gets one clear line naming the file (and packet), the right exit
/// status, and what was decoded before the problem is still reported.
@Suite struct ReplayErrorTests {
    static func tmp(_ name: String) -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("teardown-cli-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name)
    }

    /// A pcap file header (microsecond magic, little-endian) for `linkType`.
    static func pcapHeader(linkType: UInt32, snaplen: UInt32 = 65535) -> Data {
        var d = Data()
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        u32(0xa1b2c3d4); u16(2); u16(4); u32(0); u32(0); u32(snaplen); u32(linkType)
        return d
    }

    static let sample = "captures/real/graceful-client-close.pcap"

    @Test func missingFile_exit1_namesIt() throws {
        let r = try CLI.run(["replay", "no/such/file.pcap"])
        #expect(r.status == 1)
        #expect(r.stderr == "teardown: no/such/file.pcap: cannot open: No such file or directory\n")
        #expect(r.stdout.isEmpty)
    }

    @Test func notACapture_exit1_saysWhat() throws {
        let url = ReplayErrorTests.tmp("notes.txt")
        try "just some text, not packets\n".write(to: url, atomically: true, encoding: .utf8)
        let r = try CLI.run(["replay", url.path])
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("teardown: \(url.path): not a pcap or pcapng capture"))
        #expect(r.stderr.split(separator: "\n").count == 1)
    }

    @Test func unsupportedLinkType_namedOnce() throws {
        let url = ReplayErrorTests.tmp("usb.pcap")
        try ReplayErrorTests.pcapHeader(linkType: 220).write(to: url)
        let r = try CLI.run(["replay", url.path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("link type USB_LINUX_MMAPPED (220) is not supported"))
        #expect(r.stderr.split(separator: "\n").count == 1)
    }

    @Test func fileCutShort_keepsEarlierConnections_warnsWithPacketNumber() throws {
        let full = try Data(contentsOf: CLI.packageRoot.appendingPathComponent(ReplayErrorTests.sample))
        let url = ReplayErrorTests.tmp("cut.pcap")
        try full.prefix(full.count - 7).write(to: url)
        let r = try CLI.run(["replay", url.path, "--summary", "--no-color"])
        #expect(r.status == 0)
        #expect(r.stderr.contains("\(url.path): packet "))
        #expect(r.stderr.contains("file ends in the middle of a packet record"))
        #expect(r.stdout.contains("1 connection"))
    }

    @Test func garbageInsideHeaders_warnsWithPacketNumber_andGoesOn() throws {
        // Take the sample capture and corrupt the IPv4 header length of its third packet.
        var data = try Data(contentsOf: CLI.packageRoot.appendingPathComponent(ReplayErrorTests.sample))
        // Walk records: 24-byte file header, then 16-byte record headers.
        var off = 24, n = 0
        let micro = data.prefix(4) == Data([0xd4, 0xc3, 0xb2, 0xa1]) || data.prefix(4) == Data([0x4d, 0x3c, 0xb2, 0xa1])
        #expect(micro, "sample capture should be a little-endian pcap")
        while off + 16 <= data.count {
            let caplen = Int(data[off + 8]) | Int(data[off + 9]) << 8 | Int(data[off + 10]) << 16 | Int(data[off + 11]) << 24
            n += 1
            if n == 3 { data[off + 16 + 14] = 0x42 }   // version 4, IHL 2 (8 bytes): malformed
            off += 16 + caplen
        }
        let url = ReplayErrorTests.tmp("garbage.pcap")
        try data.write(to: url)
        let r = try CLI.run(["replay", url.path, "--summary", "--no-color"])
        #expect(r.status == 0)
        #expect(r.stderr.contains("\(url.path): packet 3: malformed IPv4 header"))
        #expect(r.stdout.contains("1 connection"))
    }

    @Test func stdin_dash_readsTheCapture() throws {
        let data = try Data(contentsOf: CLI.packageRoot.appendingPathComponent(ReplayErrorTests.sample))
        let viaStdin = try CLI.run(["replay", "-", "--summary", "--no-color"], stdin: data)
        let viaFile = try CLI.run(["replay", ReplayErrorTests.sample, "--summary", "--no-color"])
        #expect(viaStdin.status == 0)
        #expect(viaStdin.stdout == viaFile.stdout)
        #expect(viaStdin.stdout.contains("graceful"))
    }

    @Test func severalFiles_eachConnectionLabelled_inOrder() throws {
        let files = ["captures/real/refused.pcap", ReplayErrorTests.sample]
        let r = try CLI.run(["replay"] + files + ["--format", "json", "--no-events"])
        #expect(r.status == 0)
        let labels = try r.stdout.split(separator: "\n").map { line -> String in
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return o?["file"] as? String ?? "?"
        }
        #expect(labels == files)
    }

    @Test func oneBadFileAmongGood_othersStillReported_exit1() throws {
        let r = try CLI.run(["replay", "captures/real/refused.pcap", "missing.pcap", ReplayErrorTests.sample, "--summary", "--no-color"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("missing.pcap: cannot open"))
        #expect(r.stdout.contains("2 connections"))
    }

    @Test func bpfFilter_afterFiles() throws {
        let all = try CLI.run(["replay", "captures/real/many-connections.pcap", "--summary", "--no-color"])
        let none = try CLI.run(["replay", "captures/real/many-connections.pcap", "tcp port 1", "--summary", "--no-color"])
        #expect(all.status == 0 && none.status == 0)
        let lines = { (s: String) in s.split(separator: "\n").map(String.init) }
        #expect(lines(all.stdout).contains { $0.hasPrefix("50 connections") })
        #expect(lines(none.stdout).contains { $0.hasPrefix("0 connections") })
    }

    @Test func badFilter_exit1_namesIt() throws {
        let r = try CLI.run(["replay", ReplayErrorTests.sample, "tcp port banana"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("bad filter 'tcp port banana'"))
    }

    @Test func colour_onlyWhenAsked_andNeverWithNO_COLOR() throws {
        let plain = try CLI.run(["replay", ReplayErrorTests.sample])   // stdout is a pipe: no colour
        let forced = try CLI.run(["replay", ReplayErrorTests.sample, "--color", "always"])
        let noColor = try CLI.run(["replay", ReplayErrorTests.sample, "--color", "always"], environment: ["NO_COLOR": "1"])
        #expect(!plain.stdout.contains("\u{1b}["))
        #expect(forced.stdout.contains("\u{1b}["))
        #expect(noColor.stdout.contains("\u{1b}["), "--color always is explicit and wins over NO_COLOR")
        let auto = try CLI.run(["replay", ReplayErrorTests.sample, "--color", "auto"], environment: ["NO_COLOR": "1"])
        #expect(!auto.stdout.contains("\u{1b}["))
    }

    @Test func help_listsFormatsAndFilter() throws {
        let r = try CLI.run(["replay", "--help"])
        #expect(r.status == 0)
        for word in ["--format", "timeline", "json", "--summary", "--no-events", "BPF"] {
            #expect(r.stdout.contains(word), "help should mention \(word)")
        }
    }
}
