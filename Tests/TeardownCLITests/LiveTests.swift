import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `teardown live` on the loopback interface, with traffic the test makes itself on a port of
/// its own. Capturing needs root (CI runs as root); without it the tests say so and skip.
@Suite(.serialized) struct LiveTests {
    static var isRoot: Bool { geteuid() == 0 }

    /// A running `teardown live` whose stdout and stderr are collected as they come.
    final class LiveProcess: @unchecked Sendable {
        let process = Process()
        private let lock = NSLock()
        private var out = Data(), err = Data()

        /// `teardown args...`, with `environment` added to this process's, started through
        /// `wrapper` (a command that ends by running its arguments) when one is given.
        init(_ args: [String], environment: [String: String] = [:], through wrapper: [String] = []) throws {
            (process.executableURL, process.arguments) = CLI.command(args, through: wrapper)
            var env = ProcessInfo.processInfo.environment
            env.removeValue(forKey: "SUDO_USER")
            for (k, v) in environment { env[k] = v }
            process.environment = env
            let o = Pipe(), e = Pipe()
            process.standardOutput = o
            process.standardError = e
            o.fileHandleForReading.readabilityHandler = { [weak self] h in self?.append(h.availableData, toErr: false) }
            e.fileHandleForReading.readabilityHandler = { [weak self] h in self?.append(h.availableData, toErr: true) }
            try process.run()
        }

        private func append(_ d: Data, toErr: Bool) {
            lock.lock(); if toErr { err.append(d) } else { out.append(d) }; lock.unlock()
        }

        var stdout: String { lock.lock(); defer { lock.unlock() }; return String(decoding: out, as: UTF8.self) }
        var stderr: String { lock.lock(); defer { lock.unlock() }; return String(decoding: err, as: UTF8.self) }

        /// Waits until `condition` holds (polling), at most `timeout` seconds.
        @discardableResult
        func wait(timeout: Double = 10, until condition: (LiveProcess) -> Bool) -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if condition(self) { return true }
                usleep(20_000)
            }
            return condition(self)
        }

        func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

        func finish(timeout: Double = 10) -> Int32? {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { process.terminate(); return nil }
            usleep(100_000)   // let the readability handlers drain
            return process.terminationStatus
        }
    }

    /// A port no other test uses, derived from the pid so parallel runs on one machine differ.
    static func port(_ k: Int) -> UInt16 { UInt16(30000 + Int(getpid() % 10000) * 3 + k) }

    static func sockaddrIn(port: UInt16) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return a
    }

    /// A listener on 127.0.0.1:`port`, a client connected to it (`prepare` runs on the client's
    /// socket before connect) and the accepted server socket.
    static func connectedPair(port: UInt16, prepare: (Int32) -> Void = { _ in }) throws -> (listener: Int32, client: Int32, server: Int32) {
        let l = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, 4)
        var a = sockaddrIn(port: port)
        let b = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(l, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        try #require(b == 0, "bind 127.0.0.1:\(port)")
        listen(l, 4)
        let c = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        prepare(c)
        let r = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(c, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        try #require(r == 0, "connect")
        return (l, c, accept(l, nil, nil))
    }

    /// Makes one connection on 127.0.0.1:`port`: the client sends 5 bytes; then either both close
    /// gracefully, or the client aborts with SO_LINGER {1, 0} (an RST).
    static func makeConnection(port: UInt16, abort: Bool) throws {
        let (l, c, s) = try connectedPair(port: port) { c in
            guard abort else { return }
            var lg = linger(l_onoff: 1, l_linger: 0)
            setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, socklen_t(MemoryLayout<linger>.size))
        }
        _ = write(c, "hello", 5)
        var buf = [UInt8](repeating: 0, count: 16)
        _ = read(s, &buf, 16)
        close(c)
        if !abort { _ = read(s, &buf, 16) }   // EOF
        close(s)
        close(l)
    }

    static func tmp(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("teardown-live-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name).path
    }

    static func jsonLines(_ s: String) -> [[String: Any]] {
        s.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    @Test(arguments: [SIGINT, SIGTERM])
    func capturesOwnTraffic_reportsEndings_stopsCleanly_writesValidPcap(_ stopSignal: Int32) throws {
        guard LiveTests.isRoot else {
            print("skipping live capture test: capturing on lo needs root (CI runs as root)")
            return
        }
        let port = LiveTests.port(stopSignal == SIGINT ? 0 : 1)
        let pcap = LiveTests.tmp("live-\(stopSignal).pcap")
        let live = try LiveProcess(["live", "-i", "lo", "tcp port \(port)", "-w", pcap, "--format", "json", "--no-events",
                                    "--linger", "0.2"])
        #expect(live.wait { $0.stderr.contains("capturing on lo") }, "banner: \(live.stderr)")
        // Root without sudo (LiveProcess unsets SUDO_USER) and no -Z: it stays root, and says so.
        #expect(live.stderr.contains("teardown: staying root (not started through sudo); -Z USER switches"), "\(live.stderr)")
        usleep(200_000)
        try LiveTests.makeConnection(port: port, abort: false)
        try LiveTests.makeConnection(port: port, abort: true)
        // Both are printed while the capture runs, once their linger time has passed.
        let printed = live.wait { LiveTests.jsonLines($0.stdout).count >= 2 }
        #expect(printed, "connections printed before the stop: \(live.stdout)")
        live.signal(stopSignal)
        let status = live.finish()
        #expect(status == 0, "exit status after signal \(stopSignal): \(String(describing: status)); \(live.stderr)")
        let records = LiveTests.jsonLines(live.stdout)
        #expect(records.map { $0["teardown"] as? String } == ["graceful", "abort-by-originator"])
        #expect(live.stderr.contains("packets captured") && live.stderr.contains("dropped by kernel"), "\(live.stderr)")
        // The -w file is a valid capture holding the same connections.
        let replayed = try CLI.run(["replay", pcap, "--format", "json", "--no-events"])
        #expect(replayed.status == 0, "\(replayed.stderr)")
        #expect(LiveTests.jsonLines(replayed.stdout).map { $0["teardown"] as? String } == ["graceful", "abort-by-originator"])
    }

    /// Two SIGINTs at once are one stop: `timeout -s INT` sends its signal to the command and
    /// then to its process group, so the command gets it twice within microseconds (before, that
    /// was exit 130 with no closing report). 20 ms apart here, so that the two are not merged
    /// into one pending signal before the first is handled.
    @Test func aSIGINTSentTwiceAtOnceIsOneStop() throws {
        guard LiveTests.isRoot else {
            print("skipping live stop-signal test: capturing on lo needs root (CI runs as root)")
            return
        }
        let port = LiveTests.port(0)
        let live = try LiveProcess(["live", "-i", "lo", "tcp port \(port)", "--summary", "--linger", "0.2"])
        #expect(live.wait { $0.stderr.contains("capturing on lo") }, "banner: \(live.stderr)")
        usleep(200_000)
        try LiveTests.makeConnection(port: port, abort: true)
        #expect(live.wait { $0.stdout.contains("abort-by-originator") }, "\(live.stdout)")
        live.signal(SIGINT)
        usleep(20_000)
        live.signal(SIGINT)
        let status = live.finish()
        #expect(status == 0, "two SIGINTs at once: \(String(describing: status)); \(live.stderr)")
        #expect(live.stderr.contains("dropped by kernel"), "the closing report: \(live.stderr)")
    }

    /// `live --format html -o FILE`: the page is written as connections end and finished at the
    /// stop; nothing goes to standard output.
    @Test func htmlIntoAFile_finishedAtTheStop() throws {
        guard LiveTests.isRoot else {
            print("skipping live capture test: capturing on lo needs root (CI runs as root)")
            return
        }
        let port = LiveTests.port(2)
        let page = LiveTests.tmp("live.html")
        let live = try LiveProcess(["live", "-i", "lo", "tcp port \(port)", "--format", "html", "-o", page, "--linger", "0.2"])
        #expect(live.wait { $0.stderr.contains("capturing on lo") }, "banner: \(live.stderr)")
        usleep(200_000)
        try LiveTests.makeConnection(port: port, abort: false)
        try LiveTests.makeConnection(port: port, abort: true)
        // Both rows are in the file while the capture runs, once their linger time has passed.
        let written = live.wait { _ in
            ((try? String(contentsOfFile: page, encoding: .utf8)) ?? "").components(separatedBy: "class=\"rows\"").count >= 3
        }
        #expect(written, "rows written before the stop")
        live.signal(SIGINT)
        #expect(live.finish() == 0, "\(live.stderr)")
        #expect(live.stdout.isEmpty)
        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>\n") && html.hasSuffix("</html>\n"))
        let rows = try HTMLReportTests.rows(inPage: html)
        #expect(rows.map { $0[1] as? String ?? "" } == ["graceful", "abort-by-originator"], "\(rows)")
        #expect(html.contains("<script type=\"text/x-ladder\" data-connection=\"1\">"), "the first connection's ladder")
    }

    /// `live -w X.pcap --annotate Y.pcapng`: once the capture stops, Y is X written again with
    /// teardown's comments, the same bytes `replay X.pcap --annotate` writes; without -w it is a
    /// usage error, and a path that cannot be written is said before capturing.
    @Test func annotate_writesTheCaptureAgainWithComments() throws {
        let usage = try CLI.run(["live", "-i", "lo", "--annotate", LiveTests.tmp("no-w.pcapng")])
        #expect(usage.status == 64 && usage.stderr.contains("--annotate writes the -w file again"), "\(usage.stderr)")
        let rotated = try CLI.run(["live", "-i", "lo", "-w", LiveTests.tmp("ring.pcap"), "-C", "1", "--annotate", LiveTests.tmp("ring.pcapng")])
        #expect(rotated.status == 64 && rotated.stderr.contains("with -C or -G there are several"), "\(rotated.stderr)")
        guard LiveTests.isRoot else {
            print("skipping live --annotate capture: capturing on lo needs root (CI runs as root)")
            return
        }
        let bad = try CLI.run(["live", "-i", "lo", "-w", LiveTests.tmp("bad.pcap"), "--annotate", "/nonexistent-directory/x.pcapng"])
        #expect(bad.status == 1 && !bad.stderr.contains("capturing on"), "\(bad.stderr)")
        #expect(bad.stderr.contains("teardown: /nonexistent-directory/x.pcapng: cannot write: No such file or directory\n"), "\(bad.stderr)")
        let port = LiveTests.port(2)
        let pcap = LiveTests.tmp("annotate.pcap"), annotated = LiveTests.tmp("annotate.pcapng")
        let live = try LiveProcess(["live", "-i", "lo", "tcp port \(port)", "-w", pcap, "--annotate", annotated,
                                    "--summary", "--linger", "0.2"])
        #expect(live.wait { $0.stderr.contains("capturing on lo") }, "banner: \(live.stderr)")
        usleep(200_000)
        try LiveTests.makeConnection(port: port, abort: false)
        try LiveTests.makeConnection(port: port, abort: true)
        #expect(live.wait { $0.stdout.contains("abort-by-originator") }, "\(live.stdout)")
        live.signal(SIGINT)
        #expect(live.finish() == 0, "\(live.stderr)")
        #expect(live.stderr.contains("teardown: wrote \(annotated): "), "\(live.stderr)")
        let again = LiveTests.tmp("again.pcapng")
        let replayed = try CLI.run(["replay", pcap, "--summary", "--annotate", again])
        #expect(replayed.status == 0, "\(replayed.stderr)")
        let a = try Data(contentsOf: URL(fileURLWithPath: annotated)), b = try Data(contentsOf: URL(fileURLWithPath: again))
        #expect(a == b, "live's annotated file is what replay writes from its -w file")
        #expect(a.range(of: Data("teardown=abort-by-originator conn_state=RSTO closed_by=client".utf8)) != nil)
        #expect(a.range(of: Data("teardown=graceful ".utf8)) != nil)
    }

    /// -c and --duration end the capture by themselves, cleanly (status 0, the -w file
    /// holding exactly the packets counted).
    @Test func stopsByItself_afterCountPackets_orAfterDuration() throws {
        guard LiveTests.isRoot else {
            print("skipping live capture test: capturing on lo needs root (CI runs as root)")
            return
        }
        let port = LiveTests.port(0)
        let pcap = LiveTests.tmp("count.pcap")
        let counted = try LiveProcess(["live", "-i", "lo", "tcp port \(port)", "-c", "4", "-w", pcap, "--format", "json", "--no-events"])
        #expect(counted.wait { $0.stderr.contains("capturing on lo") }, "\(counted.stderr)")
        usleep(200_000)
        try LiveTests.makeConnection(port: port, abort: false)   // 8 or more packets
        #expect(counted.finish() == 0, "\(counted.stderr)")
        #expect(counted.stderr.contains("teardown: stopped after 4 packets (-c)\n"), "\(counted.stderr)")
        #expect(counted.stderr.contains("teardown: 4 packets captured"), "\(counted.stderr)")
        let replayed = try CLI.run(["replay", pcap, "--format", "json", "--no-events"])
        let first = try #require(LiveTests.jsonLines(replayed.stdout).first)
        #expect(first["last_packet"] as? Int == 4, "\(replayed.stdout)")
        #expect(LiveTests.jsonLines(counted.stdout).map { $0["teardown"] as? String } == ["open"])

        let started = Date()
        let timed = try LiveProcess(["live", "-i", "lo", "tcp port \(port)", "--duration", "0.5"])
        #expect(timed.finish() == 0, "\(timed.stderr)")
        let took = Date().timeIntervalSince(started)
        #expect(took >= 0.5 && took < 8, "took \(took) s")
        #expect(timed.stderr.contains("teardown: stopped after 0.5 s (--duration)\n"), "\(timed.stderr)")
    }

    @Test func openConnectionsAreReportedAtTheStop() throws {
        guard LiveTests.isRoot else {
            print("skipping live capture test: capturing on lo needs root (CI runs as root)")
            return
        }
        let port = LiveTests.port(2)
        let live = try LiveProcess(["live", "-i", "lo", "tcp port \(port)", "--summary", "--no-color"])
        #expect(live.wait { $0.stderr.contains("capturing on lo") })
        usleep(200_000)
        // A connection left open: established, never closed before the stop.
        let l = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, 4)
        var a = LiveTests.sockaddrIn(port: port)
        _ = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(l, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        listen(l, 4)
        let c = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        _ = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(c, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        let s = accept(l, nil, nil)
        defer { close(c); close(s); close(l) }
        usleep(300_000)
        live.signal(SIGINT)
        #expect(live.finish() == 0)
        #expect(live.stdout.contains(" open "), "\(live.stdout)")
        #expect(live.stderr.contains("1 connection was still open"), "\(live.stderr)")
    }

    @Test func asRoot_dropsToTheGivenUserBeforeReadingPackets() throws {
        guard LiveTests.isRoot else {
            print("skipping privilege-drop test: it needs root to start with")
            return
        }
        let live = try LiveProcess(["live", "-i", "lo", "-Z", "nobody", "tcp port \(LiveTests.port(0))", "--summary"])
        #expect(live.wait { $0.stderr.contains("capturing on lo") }, "\(live.stderr)")
        // The kernel's word for it: the process's real, effective and saved uid are all nobody's.
        let status = (try? String(contentsOfFile: "/proc/\(live.process.processIdentifier)/status", encoding: .utf8)) ?? ""
        let uidLine = status.split(separator: "\n").first { $0.hasPrefix("Uid:") }.map(String.init) ?? ""
        let uids = uidLine.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().prefix(3).map(String.init)
        #expect(uids == ["65534", "65534", "65534"], "\(uidLine)")
        #expect(live.stderr.contains("running as uid 65534"))
        #expect(!live.stderr.contains("staying root"))
        live.signal(SIGINT)
        #expect(live.finish() == 0)
    }

    @Test func withoutPrivilege_oneClearMessage_exit77() throws {
        guard LiveTests.isRoot else {
            // Already unprivileged: run it directly.
            let r = try CLI.run(["live", "-i", "lo"])
            #expect(r.status == 77)
            #expect(r.stderr.contains("no permission to capture"))
            return
        }
        // As root, run the binary as an unprivileged user (runuser is in util-linux).
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
        p.arguments = ["-u", "nobody", "--", try CLI.binaryNobodyCanRun(), "live", "-i", "lo"]
        let err = Pipe(), out = Pipe()
        p.standardError = err
        p.standardOutput = out
        try p.run()
        p.waitUntilExit()
        let msg = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 77, "status \(p.terminationStatus): \(msg)")
        #expect(msg.hasPrefix("teardown: lo: no permission to capture"))
        #expect(msg.contains("sudo") && msg.contains("setcap cap_net_raw,cap_net_admin=eip"))
        #expect(msg.split(separator: "\n").count == 1, "one line, no stack trace: \(msg)")
    }

    @Test func run_withoutRoot_saysSo() throws {
        guard LiveTests.isRoot else {
            let r = try CLI.run(["run", "linger-zero"])
            #expect(r.status == 77 && r.stderr.contains("run needs root"))
            return
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
        p.arguments = ["-u", "nobody", "--", try CLI.binaryNobodyCanRun(), "run", "linger-zero"]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = Pipe()
        try p.run()
        p.waitUntilExit()
        let msg = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 77)
        #expect(msg.contains("run needs root") && msg.contains("sudo teardown run linger-zero"))
    }
}
