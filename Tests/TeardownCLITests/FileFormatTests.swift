import Foundation
import Testing

/// Capture files as Wireshark reads them (captures/files/, made by tools/captures/files.py).
@Suite struct FileFormatTests {
    /// A clock stepped back 2 s at packet 6: one warning naming the packet, and no negative
    /// duration in any output.
    @Test func clockGoingBack_isNamed_andNoDurationIsNegative() throws {
        let capture = "captures/files/clock-back.pcap"
        let json = try CLI.run(["replay", capture, "--format", "json", "--no-events"])
        #expect(json.status == 0)
        #expect(json.stderr.contains("clock-back.pcap: the clock goes back at packet 6, by 1.999870161 s"), "\(json.stderr)")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let start = try #require(obj["start"] as? Double), end = try #require(obj["end"] as? Double)
        let duration = try #require(obj["duration"] as? Double)
        #expect(duration >= 0 && end >= start)
        // The end is the latest time (packet 5's), not the last packet's (2 s earlier).
        #expect(abs(duration - 0.000163814) < 1e-9, "duration \(duration)")

        let summary = try CLI.run(["replay", capture, "--summary", "--no-color"])
        let line = try #require(summary.stdout.split(separator: "\n").dropFirst().first)
        #expect(line.contains(" 0.000164 ") && !line.contains(" -"), "\(line)")

        let timeline = try CLI.run(["replay", capture, "--no-color"])
        #expect(timeline.stdout.contains("lasted 0.000164 s"))

        // Zeek's view: the last time is before the first, so duration is unset, as Zeek's
        // set_conn leaves a duration that is not positive; #close is not before #open.
        let zeek = try CLI.run(["replay", capture, "--format", "zeek"])
        let row = try #require(zeek.stdout.split(separator: "\n").first { !$0.hasPrefix("#") })
        let cells = row.split(separator: "\t", omittingEmptySubsequences: false)
        #expect(cells[8] == "-")
        let open = zeek.stdout.split(separator: "\n").first { $0.hasPrefix("#open") }
        let close = zeek.stdout.split(separator: "\n").first { $0.hasPrefix("#close") }
        #expect(open != nil && close != nil && String(close!.dropFirst(6)) >= String(open!.dropFirst(5)))
    }

    /// Each file and the recording whose packets it holds: the same JSON records, `file`
    /// aside, and the same timeline, its name aside.
    static let derived: [(String, String)] = [
        ("captures/files/big-endian.pcapng", "captures/real/graceful-server-close.pcap"),
        ("captures/files/two-sections.pcapng", "captures/real/half-close-then-data.pcap"),
        ("captures/files/two-sections.pcapng.gz", "captures/real/half-close-then-data.pcap"),
        ("captures/files/many-connections.pcap.gz", "captures/real/many-connections.pcap"),
        ("captures/files/many-connections.pcap.zst", "captures/real/many-connections.pcap"),
        ("captures/files/many-connections.pcap.lz4", "captures/real/many-connections.pcap"),
    ]

    /// JSON records with the `file` key dropped.
    static func records(_ r: CLI.Result) throws -> [NSDictionary] {
        try r.stdout.split(separator: "\n").map { line in
            var o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            o.removeValue(forKey: "file")
            return o as NSDictionary
        }
    }

    @Test(arguments: derived)
    func derivedFile_readsAsItsRecording(_ file: String, _ source: String) throws {
        let mine = try CLI.run(["replay", file, "--format", "json"])
        let theirs = try CLI.run(["replay", source, "--format", "json"])
        #expect(mine.status == 0 && mine.stderr.isEmpty, "\(mine.stderr)")
        #expect(try FileFormatTests.records(mine) == FileFormatTests.records(theirs), "\(file) differs from \(source)")
        #expect(try !FileFormatTests.records(mine).isEmpty)
        let timeline = try CLI.run(["replay", file, "--no-color"])
        let original = try CLI.run(["replay", source, "--no-color"])
        #expect(timeline.stdout.replacingOccurrences(of: file, with: source) == original.stdout)
    }

    /// Compressed (or not), on standard input: told by content there too.
    @Test(arguments: derived)
    func derivedFile_onStandardInput(_ file: String, _ source: String) throws {
        let bytes = try Data(contentsOf: CLI.packageRoot.appendingPathComponent(file))
        let mine = try CLI.run(["replay", "-", "--format", "json"], stdin: bytes)
        #expect(mine.status == 0 && mine.stderr.isEmpty, "\(mine.stderr)")
        let theirs = try CLI.run(["replay", source, "--format", "json"])
        #expect(try FileFormatTests.records(mine) == FileFormatTests.records(theirs), "\(file) on stdin differs from \(source)")
    }

    /// tshark's time of each packet (frames with an encapsulation: Wireshark shows a custom
    /// block as a frame of its own), nanoseconds since the epoch.
    static func tsharkTimes(_ capture: String) throws -> [Int64]? {
        guard let tshark = WiresharkAgreementTests.tshark else { return nil }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tshark)
        p.arguments = ["-n", "-r", capture, "-Y", "frame.encap_type", "-T", "fields", "-e", "frame.time_epoch"]
        p.currentDirectoryURL = CLI.packageRoot
        let out = Pipe()
        p.standardOutput = out
        p.standardError = Pipe()
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map { t in
            let parts = t.split(separator: ".")
            let fraction = (String(parts.count > 1 ? parts[1] : "") + "000000000").prefix(9)
            return Int64(parts[0])! * 1_000_000_000 + Int64(fraction)!
        }
    }

    /// Two interfaces libpcap will not read together (Ethernet and raw IP, different snapshot
    /// lengths, nanoseconds and 2^-20 s, each with an offset): both conversations, every packet
    /// at the time tshark gives it.
    @Test func multiInterface_bothConversations_atTsharksTimes() throws {
        let capture = "captures/files/multi-interface.pcapng"
        let r = try CLI.run(["replay", capture, "--format", "json"])
        #expect(r.status == 0 && r.stderr.isEmpty, "\(r.stderr)")
        let records = try FileFormatTests.records(r)
        #expect(records.map { $0["teardown"] as? String } == ["graceful", "graceful"])
        #expect(records.map { ($0["orig"] as? [String: Any])?["addr"] as? String } == ["127.0.0.1", "::1"])
        guard let times = try FileFormatTests.tsharkTimes(capture) else {
            print("skipping the time check: tshark is not installed (apt-get install tshark)")
            return
        }
        #expect(times.count == 20)
        var seen = 0
        for record in records {
            for event in record["events"] as? [[String: Any]] ?? [] where event["type"] as? String == "packet" {
                let number = try #require(event["number"] as? Int)
                let time = try #require(event["time"] as? NSNumber)
                let expected = times[number - 1]
                #expect(abs(time.doubleValue - Double(expected) / 1e9) < 1e-6, "packet \(number)")
                seen += 1
            }
        }
        #expect(seen == 20)
        // Exactly, to the nanosecond: each packet's time as JSON prints it.
        for (i, t) in times.enumerated() {
            let text = "\(t / 1_000_000_000).\(String(format: "%09lld", t % 1_000_000_000))"
            #expect(r.stdout.contains("\"time\":\(text),\"number\":\(i + 1),"), "packet \(i + 1) at \(text)")
        }
    }

    /// A filter is compiled for each interface's link type: a port picks one conversation out
    /// of both interfaces; an Ethernet-only filter leaves the raw-IP interface out, and says so.
    @Test func multiInterface_filterPerLinkType() throws {
        let capture = "captures/files/multi-interface.pcapng"
        let v6 = try CLI.run(["replay", capture, "tcp port 8007", "--summary", "--no-color"])
        #expect(v6.status == 0 && v6.stderr.isEmpty, "\(v6.stderr)")
        #expect(v6.stdout.contains("::1"))
        #expect(!v6.stdout.contains("127.0.0.1"))
        let ether = try CLI.run(["replay", capture, "not ether host 02:00:00:00:00:09", "--summary", "--no-color"])
        #expect(ether.status == 0)
        #expect(ether.stdout.contains("127.0.0.1") && !ether.stdout.contains("::1"))
        #expect(ether.stderr.contains("multi-interface.pcapng: interface 1 (link type RAW (101)): the filter does not apply to it"),
                "\(ether.stderr)")
        #expect(ether.stderr.contains("10 packets were left out"))
        let bad = try CLI.run(["replay", capture, "tcp port banana"])
        #expect(bad.status == 1 && bad.stderr.contains("bad filter 'tcp port banana'"))
    }

    /// Broken compressed files (captures/malformed/, made by files.py): one line naming the
    /// file, the packet reached and what was wrong; every packet before it reported.
    static let broken: [(String, String, Int)] = [
        ("gzip-cut.pcap.gz", "packet 196: the gzip data ends early (the file is cut short); the 195 packets before it are reported", 195),
        ("gzip-cut.pcapng.gz", "packet 19: the gzip data ends early (the file is cut short); the 18 packets before it are reported", 18),
        // Damage inside a gzip member is found by its CRC-32 at the member's end; what the
        // failing call decoded is not handed on.
        ("gzip-damaged.pcap.gz", "packet 195: the gzip data is corrupt (incorrect data check)", 194),
        ("zstd-damaged.pcap.zst", "packet 195: the zstd data is corrupt (Restored data doesn't match checksum)", 194),
        ("lz4-damaged.pcap.lz4", "packet 195: the LZ4 data is corrupt (ERROR_contentChecksum_invalid)", 194),
    ]

    @Test(arguments: broken)
    func brokenCompressedFile_namedWithThePacketReached(_ file: String, _ message: String, _ before: Int) throws {
        let path = "captures/malformed/" + file
        for input in [path, "-"] {
            let data = input == "-" ? try Data(contentsOf: CLI.packageRoot.appendingPathComponent(path)) : nil
            let r = try CLI.run(["replay", input, "--format", "json", "--no-events"], stdin: data)
            #expect(r.status == 0)
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].hasPrefix("teardown: warning: \(input == "-" ? "<stdin>" : path): \(message)"),
                    "\(r.stderr)")
            #expect(try HardeningTests.packets(inJSON: r.stdout).segments == before)
        }
    }

    /// Packets of an interface whose link type teardown does not read are counted and named
    /// once; the others are read. A file holding only such packets could not be used: status 1.
    @Test func unsupportedInterface_isNamed_andTheOthersRead() throws {
        let capture = "captures/files/unsupported-interface.pcapng"
        let r = try CLI.run(["replay", capture, "--summary", "--no-color"])
        #expect(r.status == 0)
        #expect(r.stderr == "teardown: warning: \(capture): interface 0: link type USER0 (147) is not supported; 3 packets were skipped\n")
        #expect(r.stdout.contains("graceful") && r.stdout.contains("1 connection by teardown"))

        // Section header, one USER0 interface, one packet (little-endian pcapng).
        func block(_ type: UInt32, _ body: [UInt8]) -> [UInt8] {
            let n = UInt32(12 + body.count)
            let le: (UInt32) -> [UInt8] = { v in (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
            return le(type) + le(n) + body + le(n)
        }
        let bytes = block(0x0A0D_0D0A, [0x4D, 0x3C, 0x2B, 0x1A, 1, 0, 0, 0] + [UInt8](repeating: 0xFF, count: 8))
            + block(1, [147, 0, 0, 0, 0, 0, 0, 0])
            + block(6, [0, 0, 0, 0] + [UInt8](repeating: 0, count: 8) + [4, 0, 0, 0, 4, 0, 0, 0] + [1, 2, 3, 4])
        let path = try HardeningTests.tmpDir().appendingPathComponent("user0.pcapng")
        try Data(bytes).write(to: path)
        let only = try CLI.run(["replay", path.path])
        #expect(only.status == 1)
        #expect(only.stderr == "teardown: \(path.path): link type USER0 (147) is not supported; teardown reads Ethernet, "
                + "Linux cooked (SLL, SLL2), BSD loopback (NULL, LOOP) and raw IP captures\n", "\(only.stderr)")
    }
}

