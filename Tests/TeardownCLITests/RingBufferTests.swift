import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `live -w` with tcpdump's -C, -G and -W (issue 18, item 3): files named as tcpdump names
/// them, each a valid capture, the packets captured all in them. On the loopback interface with
/// traffic the test makes on a port of its own, as LiveTests; root only (CI runs as root).
@Suite(.serialized) struct RingBufferTests {
    /// Ports of its own (LiveTests' are from 30000 on), derived from the pid.
    static func port(_ k: Int) -> UInt16 { UInt16(20000 + Int(getpid() % 3000) * 3 + k) }

    /// One connection on 127.0.0.1:`port` that carries `bytes` bytes from the client, then
    /// closes gracefully.
    static func bulkConnection(port: UInt16, bytes: Int) throws {
        let (l, c, s) = try LiveTests.connectedPair(port: port)
        let reader = Thread {
            var buf = [UInt8](repeating: 0, count: 65536)
            while read(s, &buf, buf.count) > 0 {}
            close(s)
        }
        reader.start()
        let chunk = [UInt8](repeating: 0x61, count: 16384)
        var left = bytes
        while left > 0 {
            let n = write(c, chunk, min(left, chunk.count))
            if n <= 0 { break }
            left -= n
        }
        close(c)
        usleep(300_000)
        close(l)
    }

    static func dir(_ name: String) throws -> String {
        let d = LiveTests.tmp("ring-\(name)")
        try? FileManager.default.removeItem(atPath: d)
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    /// Packets in `file`, as replay counts them (every segment of every connection).
    static func packets(_ file: String) throws -> Int {
        let r = try CLI.run(["replay", file, "--format", "json", "--no-events"])
        #expect(r.status == 0, "\(file): \(r.stderr)")
        return LiveTests.jsonLines(r.stdout).reduce(0) { n, d in
            n + ((d["orig"] as? [String: Any])?["packets"] as? Int ?? 0) + ((d["resp"] as? [String: Any])?["packets"] as? Int ?? 0)
        }
    }

    static func captured(_ stderr: String) -> Int? {
        guard let r = stderr.range(of: #"teardown: ([0-9]+) packets captured"#, options: .regularExpression) else { return nil }
        return Int(stderr[r].split(separator: " ")[1])
    }

    /// `live -w DIR/ring.pcap` with `rotation` while one connection carries 3.5 MB, stopped with
    /// SIGINT once it is printed: the directory and the finished process.
    static func captureBulk(_ name: String, port: UInt16, _ rotation: [String]) throws -> (String, LiveTests.LiveProcess) {
        let d = try Self.dir(name)
        let live = try LiveTests.LiveProcess(["live", "-i", "lo", "tcp port \(port)", "-w", d + "/ring.pcap"] + rotation
                                             + ["--format", "json", "--no-events", "--linger", "0.2"])
        #expect(live.wait { $0.stderr.contains("capturing on lo") }, "\(live.stderr)")
        usleep(200_000)
        try Self.bulkConnection(port: port, bytes: 3_500_000)
        #expect(live.wait { !LiveTests.jsonLines($0.stdout).isEmpty }, "\(live.stdout)")
        live.signal(SIGINT)
        #expect(live.finish() == 0, "\(live.stderr)")
        return (d, live)
    }

    @Test func sizeLimit_numbersTheFilesAfterTheFirst_andKeepsEveryPacket() throws {
        guard LiveTests.isRoot else { print("skipping the -C test: capturing on lo needs root (CI runs as root)"); return }
        let (d, live) = try Self.captureBulk("C", port: Self.port(0), ["-C", "1"])
        let names = try FileManager.default.contentsOfDirectory(atPath: d).sorted()
        // FILE, then FILE1, FILE2, …: at least 3.5 MB in files of about 1 MB.
        #expect(names.count >= 4, "\(names)")
        let expected = ["ring.pcap"] + (1..<names.count).map { "ring.pcap\($0)" }
        #expect(names.sorted { $0.count != $1.count ? $0.count < $1.count : $0 < $1 } == expected, "\(names)")
        // Each but the last passed 1,000,000 bytes by less than one packet (the check comes
        // before a packet is written); all are valid captures and hold every packet captured.
        var total = 0
        for (i, name) in expected.enumerated() {
            let size = (try FileManager.default.attributesOfItem(atPath: d + "/" + name)[.size] as? Int) ?? 0
            if i < expected.count - 1 { #expect(size > 1_000_000 && size < 1_000_000 + 16 + 262_144, "\(name): \(size)") }
            total += try Self.packets(d + "/" + name)
        }
        #expect(total == Self.captured(live.stderr), "\(total) packets in the files; \(live.stderr)")
    }

    @Test func sizeLimitAndCount_makeARingOfZeroPaddedNames() throws {
        guard LiveTests.isRoot else { print("skipping the -C -W test: capturing on lo needs root (CI runs as root)"); return }
        let (d, live) = try Self.captureBulk("CW", port: Self.port(1), ["-C", "1", "-W", "2"])
        // Two names only, FILE0 and FILE1, overwritten in turn: the packets in them are fewer
        // than those captured (the oldest were overwritten).
        let names = try FileManager.default.contentsOfDirectory(atPath: d).sorted()
        #expect(names == ["ring.pcap0", "ring.pcap1"], "\(names)")
        let kept = try names.reduce(0) { $0 + (try Self.packets(d + "/" + $1)) }
        let captured = try #require(Self.captured(live.stderr))
        #expect(kept > 0 && kept < captured, "\(kept) of \(captured)")
    }

    @Test func timeLimitWithCount_strftimeNames_stopsAfterTheFiles() throws {
        guard LiveTests.isRoot else { print("skipping the -G -W test: capturing on lo needs root (CI runs as root)"); return }
        let d = try Self.dir("GW")
        let port = Self.port(2)
        let started = Date()
        let live = try LiveTests.LiveProcess(["live", "-i", "lo", "tcp port \(port)", "-w", d + "/g-%s.pcap", "-G", "1", "-W", "2",
                                              "--format", "json", "--no-events", "--linger", "0.2"])
        #expect(live.wait { $0.stderr.contains("capturing on lo") }, "\(live.stderr)")
        // A connection every 200 ms until it stops by itself (at most 8 s).
        let deadline = Date().addingTimeInterval(8)
        var k = 0
        while live.process.isRunning && Date() < deadline {
            try LiveTests.makeConnection(port: port, abort: k % 2 == 1)
            k += 1
            usleep(200_000)
        }
        #expect(live.finish() == 0, "\(live.stderr)")
        #expect(live.stderr.contains("teardown: stopped after 2 files (-G, -W)\n"), "\(live.stderr)")
        #expect(Date().timeIntervalSince(started) < 8)
        // Two files named by strftime's %s (seconds since the epoch, from when each was
        // opened), a second or more apart; both valid captures with packets.
        let names = try FileManager.default.contentsOfDirectory(atPath: d).sorted()
        #expect(names.count == 2, "\(names)")
        let stamps = names.compactMap { Int($0.dropFirst(2).dropLast(5)) }
        #expect(stamps.count == 2 && stamps[1] - stamps[0] >= 1, "\(names)")
        #expect(stamps.allSatisfy { abs(Double($0) - started.timeIntervalSince1970) < 10 }, "\(names)")
        for name in names { #expect(try Self.packets(d + "/" + name) > 0, "\(name)") }
    }

    /// Refusals by name, status 64: without -w, -W alone, values below 1.
    @Test func refusals() throws {
        for (args, words) in [(["-C", "1"], "name one with -w"), (["-w", "/tmp/x.pcap", "-W", "2"], "-W applies with -C or -G"),
                              (["-w", "/tmp/x.pcap", "-C", "0"], "-C must be"), (["-w", "/tmp/x.pcap", "-G", "0"], "-G must be")] {
            let r = try CLI.run(["live", "-i", "lo"] + args)
            #expect(r.status == 64 && r.stderr.contains(words), "\(args): \(r.stderr)")
        }
    }
}
