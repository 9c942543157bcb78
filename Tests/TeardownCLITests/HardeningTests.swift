import Foundation
import Testing

/// Hostile and odd inputs to `teardown replay`: broken files (captures/malformed/, made by
/// tools/captures/malformed.py), special files, resource bounds, and a reader that goes away.
@Suite struct HardeningTests {
    static func tmpDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("teardown-hardening-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static let sample = "captures/real/graceful-client-close.pcap"   // 10 packets, 1 graceful connection

    /// Segments over all JSON records (orig.packets + resp.packets), and the teardown kinds.
    static func packets(inJSON stdout: String) throws -> (segments: Int, teardowns: [String]) {
        var n = 0
        var kinds: [String] = []
        for line in stdout.split(separator: "\n") {
            let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            for side in ["orig", "resp"] {
                n += ((o[side] as? [String: Any])?["packets"] as? Int) ?? 0
            }
            kinds.append(o["teardown"] as? String ?? "?")
        }
        return (n, kinds)
    }

    /// One broken file: what replay must say and what it must still report.
    struct Case: CustomTestStringConvertible, Sendable {
        var file: String
        var status: Int32
        /// The one stderr line must contain this (nil: stderr stays empty).
        var message: String?
        /// Segments decoded before the problem (counted from the file by hand: see tools/captures/malformed.py).
        var segments: Int
        var teardowns: [String]
        var testDescription: String { file }
    }

    static let cases: [Case] = [
        Case(file: "empty.pcap", status: 1, message: "is empty (0 bytes), not a capture file", segments: 0, teardowns: []),
        Case(file: "header-cut.pcap", status: 1, message: "file ends inside its header", segments: 0, teardowns: []),
        Case(file: "record-cut.pcap", status: 0, message: "packet 5: file ends in the middle of a packet record",
             segments: 4, teardowns: ["open"]),
        Case(file: "caplen-over-maximum.pcap", status: 0, message: "packet 5: invalid packet capture length 300000",
             segments: 4, teardowns: ["open"]),
        // libpcap keeps the first snaplen bytes of a longer record, as tcpdump does: no error,
        // every packet read, payload cut (so the ledger sees gaps).
        Case(file: "caplen-over-snaplen.pcap", status: 0, message: nil, segments: 10, teardowns: ["graceful"]),
        Case(file: "unknown-block.pcapng", status: 0, message: nil, segments: 10, teardowns: ["graceful"]),
        Case(file: "block-length-mismatch.pcapng", status: 0, message: "packet 4: block total length in header and trailer don't match",
             segments: 3, teardowns: ["open"]),
    ]

    @Test(arguments: cases)
    func brokenFile_oneLineNamingIt_andWhatCameBefore(_ c: Case) throws {
        let path = "captures/malformed/" + c.file
        let r = try CLI.run(["replay", path, "--format", "json", "--no-events"])
        #expect(r.status == c.status)
        if let message = c.message {
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(r.stderr)")
            #expect(lines.first?.hasPrefix("teardown: ") == true)
            #expect(r.stderr.contains("\(path): \(message)") || r.stderr.contains("\(path): ") && r.stderr.contains(message),
                    "\(r.stderr)")
        } else {
            #expect(r.stderr.isEmpty, "\(r.stderr)")
        }
        let got = try HardeningTests.packets(inJSON: r.stdout)
        #expect(got.segments == c.segments)
        #expect(got.teardowns == c.teardowns)
    }

    /// Every file in captures/malformed/ (the cases above and every input the fuzzer found):
    /// replay exits normally, in every output format, and says something about the file.
    @Test func everyMalformedCapture_replaysWithoutTrap() throws {
        let dir = CLI.packageRoot.appendingPathComponent("captures/malformed")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { f in CLI.captureSuffixes.contains { f.hasSuffix($0) } }.sorted()
        #expect(names.count >= HardeningTests.cases.count)
        for name in names {
            let path = "captures/malformed/" + name
            for format in [["--no-color"], ["--format", "json"], ["--summary", "--no-color"]] {
                // The fuzzer's small bounds too (Fuzz/FuzzTarget.swift configuration bits).
                for bounds in [[String](), ["--max-connections", "4", "--idle-timeout", "1"]] {
                    let p = Process()
                    p.executableURL = CLI.binary
                    p.arguments = ["replay", path] + format + bounds
                    p.currentDirectoryURL = CLI.packageRoot
                    p.standardOutput = FileHandle.nullDevice
                    p.standardError = FileHandle.nullDevice
                    try p.run()
                    p.waitUntilExit()
                    #expect(p.terminationReason == .exit, "\(name) \(format) \(bounds): killed by signal \(p.terminationStatus)")
                    #expect(p.terminationStatus == 0 || p.terminationStatus == 1, "\(name) \(format) \(bounds)")
                }
            }
        }
    }

    /// The socket-call sidecar is read from disk too: reads claiming 2^63 - 1 bytes each
    /// overflowed the sum in CallCorrelation (a trap). The sum now saturates, and the impossible
    /// ledger is reported, not hidden.
    @Test func sidecarWithHugeByteCounts_saturates_andSaysTheLedgerIsWrong() throws {
        let r = try CLI.run(["replay", "captures/malformed/sidecar-read-overflow.pcap", "--format", "json", "--no-events"])
        #expect(r.status == 0)
        #expect(r.stderr.isEmpty, "\(r.stderr)")
        let line = try #require(r.stdout.split(separator: "\n").first)
        let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let orig = try #require((o["bytes"] as? [String: Any])?["orig"] as? [String: Any])
        #expect((orig["written"] as? Int) == 30_000)
        #expect((orig["read_by_peer"] as? Int) == Int(Int64.max))
        let notes = (o["notes"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }
        #expect(notes.contains { $0.hasPrefix("LEDGER DOES NOT ADD UP") && $0.contains("only 30,000 were written") }, "\(notes)")
    }

    @Test func directory_exit1_saysSo() throws {
        let dir = try HardeningTests.tmpDir().appendingPathComponent("a-directory.pcap")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let r = try CLI.run(["replay", dir.path, "--format", "json"])
        #expect(r.status == 1)
        #expect(r.stderr == "teardown: \(dir.path): is a directory, not a capture file\n")
        #expect(r.stdout.isEmpty)
    }

    @Test func fifo_isReadLikeAFile() throws {
        let fifo = try HardeningTests.tmpDir().appendingPathComponent("capture.fifo")
        unlink(fifo.path)
        #expect(mkfifo(fifo.path, 0o600) == 0, "mkfifo: \(String(cString: strerror(errno)))")
        defer { unlink(fifo.path) }
        let bytes = try Data(contentsOf: CLI.packageRoot.appendingPathComponent(HardeningTests.sample))
        // The writer opens the FIFO only once replay has opened it for reading.
        let writer = Thread {
            guard let h = FileHandle(forWritingAtPath: fifo.path) else { return }
            h.write(bytes)
            try? h.close()
        }
        writer.start()
        let r = try CLI.run(["replay", fifo.path, "--format", "json", "--no-events"])
        #expect(r.status == 0)
        #expect(r.stderr.isEmpty, "\(r.stderr)")
        let got = try HardeningTests.packets(inJSON: r.stdout)
        #expect(got.segments == 10)
        #expect(got.teardowns == ["graceful"])
    }

    @Test func fileWithoutReadPermission_exit1_saysPermissionDenied() throws {
        let dir = try HardeningTests.tmpDir()
        let file = dir.appendingPathComponent("secret.pcap")
        try? FileManager.default.removeItem(at: file)
        try FileManager.default.copyItem(at: CLI.packageRoot.appendingPathComponent(HardeningTests.sample), to: file)
        chmod(file.path, 0o000)
        let p = Process()
        if getuid() == 0 {
            // Root reads anything: run the binary as nobody (a copy it can reach; tests may
            // live under a directory only root can enter).
            let runuser = "/usr/sbin/runuser"
            guard FileManager.default.isExecutableFile(atPath: runuser) else {
                print("skipped: running as root and \(runuser) is missing, so an unreadable file cannot be made")
                return
            }
            chmod(dir.path, 0o755)
            p.executableURL = URL(fileURLWithPath: runuser)
            p.arguments = ["-u", "nobody", "--", try CLI.binaryNobodyCanRun(), "replay", file.path]
            p.currentDirectoryURL = URL(fileURLWithPath: "/")
        } else {
            p.executableURL = CLI.binary
            p.arguments = ["replay", file.path]
        }
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        if text.contains("runuser:") {
            print("skipped: \(text)")
            return
        }
        #expect(p.terminationStatus == 1)
        #expect(text == "teardown: \(file.path): cannot open: Permission denied\n")
    }

    // MARK: resource bounds

    /// A pcap (LINKTYPE_RAW, microseconds) of `count` SYNs from distinct ports of distinct
    /// hosts to 10.0.0.2:80, `spacing` microseconds apart.
    static func synFlood(count: Int, spacing: Int) -> Data {
        var d = Data()
        func u32le(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        func u16le(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        u32le(0xa1b2_c3d4); u16le(2); u16le(4); u32le(0); u32le(0); u32le(65535); u32le(101)
        for i in 0..<count {
            let micros = 1_700_000_000 * 1_000_000 + i * spacing
            u32le(UInt32(micros / 1_000_000)); u32le(UInt32(micros % 1_000_000)); u32le(40); u32le(40)
            let port = UInt16(1024 + i % 60000)
            let host = UInt8(truncatingIfNeeded: i / 60000)
            // IPv4: 20 bytes, no options, TCP; the checksum is not checked by teardown.
            d.append(contentsOf: [0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 10, 1, host, 1, 10, 0, 0, 2])
            // TCP: ports, seq, ack 0, data offset 5, SYN, window 65535.
            d.append(contentsOf: [UInt8(port >> 8), UInt8(port & 0xff), 0, 80])
            withUnsafeBytes(of: UInt32(truncatingIfNeeded: i &* 7919).bigEndian) { d.append(contentsOf: $0) }
            d.append(contentsOf: [0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0])
        }
        return d
    }

    struct Spawned {
        var status: Int32
        var peakKilobytes: Int
        var stderr: String
    }

    /// Runs the binary with stdout discarded and returns its peak resident set size: VmHWM from
    /// proc(5) /proc/PID/status, read every 5 ms until the process exits. (getrusage's
    /// ru_maxrss will not do: a child started by posix_spawn inherits the high-water mark of
    /// this test process, which shares its memory until exec.)
    static func spawnMeasured(_ args: [String]) throws -> Spawned {
        let errFile = try tmpDir().appendingPathComponent("stderr-\(UUID().uuidString)")
        defer { unlink(errFile.path) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, errFile.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = ([CLI.binary.path] + args).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, CLI.binary.path, &actions, nil, argv, environ)
        try #require(rc == 0, "posix_spawn: \(String(cString: strerror(rc)))")
        var peak = 0
        // Until the process exits (a zombie's status has no Vm lines; it is not reaped yet).
        while let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) {
            let kb = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
            peak = max(peak, kb)
            usleep(5_000)
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = status & 0x7f == 0
        let err = (try? String(contentsOf: errFile, encoding: .utf8)) ?? ""
        return Spawned(status: exited ? (status >> 8) & 0xff : -(status & 0x7f), peakKilobytes: peak, stderr: err)
    }

    @Test func synFlood_withACap_staysSmall_andReportsEvictions() throws {
        let file = try HardeningTests.tmpDir().appendingPathComponent("syn-flood.pcap")
        defer { try? FileManager.default.removeItem(at: file) }
        try HardeningTests.synFlood(count: 25_000, spacing: 100).write(to: file)
        let capped = try HardeningTests.spawnMeasured(["replay", file.path, "--summary", "--max-connections", "1000"])
        let uncapped = try HardeningTests.spawnMeasured(["replay", file.path, "--summary"])
        #expect(capped.status == 0 && uncapped.status == 0)
        // Over the cap (1,001 held) the oldest 1% (10) go: first at SYN 1,001, then every 10th
        // SYN, which leaves 1,000 held at the end: 25,000 - 1,000 = 24,000 evicted.
        #expect(capped.stderr == "teardown: warning: \(file.path): 24,000 connections evicted "
                + "(more than 1,000 open at once; see --max-connections)\n")
        #expect(uncapped.stderr.isEmpty, "\(uncapped.stderr)")
        // 25,000 connections held at once cost tens of MB; a thousand, next to nothing.
        #expect(capped.peakKilobytes > 0 && capped.peakKilobytes + 15_000 < uncapped.peakKilobytes,
                "capped \(capped.peakKilobytes) KB vs uncapped \(uncapped.peakKilobytes) KB")
        print("SYN flood, 25,000 connections: peak resident \(capped.peakKilobytes) KB with --max-connections 1000, "
              + "\(uncapped.peakKilobytes) KB without")
    }

    @Test func idleTimeout_inPacketTime_reportsIdleConnections() throws {
        let file = try HardeningTests.tmpDir().appendingPathComponent("slow-scan.pcap")
        defer { try? FileManager.default.removeItem(at: file) }
        // 2,000 SYNs 10 ms apart: packet time runs 0 to 19.99 s.
        try HardeningTests.synFlood(count: 2_000, spacing: 10_000).write(to: file)
        let r = try CLI.run(["replay", file.path, "--summary", "--no-color", "--idle-timeout", "1"])
        #expect(r.status == 0)
        // Idle sweeps run every second of packet time (at 1 s, 2 s, ... 19 s); the sweep at
        // 19 s reports every SYN sent before 18 s: 1,800 of them. The last 200 are open at the end.
        #expect(r.stderr == "teardown: warning: \(file.path): 1,800 reported after 1 s without a packet (see --idle-timeout)\n")
        #expect(r.stdout.contains("2,000 connections"))
    }

    @Test func boundsFlags_validated() throws {
        for args in [["--max-connections", "0"], ["--idle-timeout", "0"], ["--idle-timeout", "-3"], ["--idle-timeout", "nan"]] {
            let r = try CLI.run(["replay", HardeningTests.sample] + args)
            #expect(r.status == 64, "\(args): \(r.status)")   // EX_USAGE, as for every bad option
            #expect(r.stderr.contains(args[0]), "\(args): \(r.stderr)")
        }
        // live validates before it opens anything (no capture, no privilege needed); NaN and
        // huge --linger values used to trap converting to nanoseconds.
        for args in [["--max-connections", "0"], ["--idle-timeout", "nan"], ["--linger", "nan"], ["--linger", "1e20"]] {
            let r = try CLI.run(["live", "-i", "lo"] + args)
            #expect(r.status == 64, "live \(args): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains(args[0]), "live \(args): \(r.stderr)")
        }
    }

    // MARK: pipes

    @Test func outputPipeClosedEarly_exitsQuietlyWithZero() throws {
        let bash = "/bin/bash"
        guard FileManager.default.isExecutableFile(atPath: bash) else {
            print("skipped: \(bash) is missing (needed for set -o pipefail)")
            return
        }
        let file = try HardeningTests.tmpDir().appendingPathComponent("pipe-flood.pcap")
        defer { try? FileManager.default.removeItem(at: file) }
        // 20,000 connections in timeline format: megabytes of output, far beyond a pipe's buffer.
        try HardeningTests.synFlood(count: 20_000, spacing: 100).write(to: file)
        let errFile = try HardeningTests.tmpDir().appendingPathComponent("pipe-stderr")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bash)
        // pipefail: the pipeline's status is teardown's when head exits 0.
        p.arguments = ["-c", "set -o pipefail; '\(CLI.binary.path)' replay '\(file.path)' --no-color 2>'\(errFile.path)' | head -1"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let first = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let err = try String(contentsOf: errFile, encoding: .utf8)
        #expect(first.contains("connection 1"), "\(first)")
        #expect(p.terminationStatus == 0)
        #expect(err.isEmpty, "\(err)")
    }
}
