import CTeardownSys
import Foundation
import Testing
import TeardownTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `teardown live -i lo` with the kernel lane, in a network namespace of the test's own (root
/// and tracefs: CI has both; skips without them, saying why): the connections printed live
/// carry the kernel's events and RST reasons, the `-w` file's sidecar replays to the same JSON,
/// other sockets' events are left out, and the tracefs instance is gone after the exit, also
/// when live dropped its privileges (-Z).
@Suite(.serialized) struct LiveKernelLaneTests {
    /// What one run of live in a private namespace printed.
    struct Run { var stdout: String; var stderr: String; var status: Int32?; var pid: Int32; var reset: Int32 }

    /// Runs `body` on a thread of its own moved into a new network namespace with lo up; the
    /// thread (and so the namespace) ends with it. A process started there is in it too.
    static func inNewNamespace<T>(_ body: @escaping () throws -> T) throws -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            defer { done.signal() }
            box.result = Result {
                guard ctd_unshare_net() == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EPERM) }
                try bringLoopbackUp()
                return try body()
            }
        }
        thread.start()
        done.wait()
        return try box.result!.get()
    }

    /// What the namespace's thread returns, written once before the semaphore is signalled.
    final class ResultBox<T>: @unchecked Sendable { var result: Result<T, Error>? }

    static func bringLoopbackUp() throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var req = ifreq()
        withUnsafeMutableBytes(of: &req.ifr_ifrn.ifrn_name) { p in
            for (i, b) in "lo".utf8.enumerated() { p[i] = b }
        }
        guard ioctl(fd, UInt(SIOCGIFFLAGS), &req) == 0 else { throw POSIXError(.EIO) }
        req.ifr_ifru.ifru_flags |= Int16(IFF_UP | IFF_RUNNING)
        guard ioctl(fd, UInt(SIOCSIFFLAGS), &req) == 0 else { throw POSIXError(.EIO) }
    }

    /// A connection on 127.0.0.1:`port` whose server closes with the client's 5 bytes unread:
    /// the kernel resets it (TCP_ABORT_ON_CLOSE) and the client's read fails with ECONNRESET.
    static func closeWithUnreadData(port: UInt16) throws -> Int32 {
        let (l, c, s) = try LiveTests.connectedPair(port: port)
        _ = write(c, "hello", 5)
        usleep(50_000)   // the 5 bytes are in the server's receive queue
        close(s)
        var buf = [UInt8](repeating: 0, count: 16)
        let n = read(c, &buf, 16)
        let e = n < 0 ? errno : 0
        close(c)
        close(l)
        return e
    }

    /// The JSON objects of `text` without `file` (live names the interface, replay the file).
    static func objects(_ text: String) -> [NSDictionary] {
        LiveTests.jsonLines(text).map { o in
            var o = o
            o.removeValue(forKey: "file")
            return o as NSDictionary
        }
    }

    static func instances(of pid: Int32) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: "/sys/kernel/tracing/instances"))?
            .filter { $0.hasPrefix("teardown-\(pid)-") } ?? []
    }

    @Test(arguments: [false, true])
    func live_showsTheKernelLane_andItsSidecarReplaysToTheSameJSON(dropPrivileges: Bool) throws {
        guard geteuid() == 0 else {
            print("skipping the live kernel lane test: it needs root for a network namespace, capture and tracefs (CI runs as root)")
            return
        }
        // A directory the user live drops to (-Z nobody) can write the -w file and its sidecar in.
        let dir = LiveTests.tmp("kernel-\(dropPrivileges)")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        chmod(dir, 0o777)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pcap = dir + "/live.pcap"
        let port: UInt16 = 8080
        let run = try Self.inNewNamespace { () throws -> Run in
            let live = try LiveTests.LiveProcess(["live", "-i", "lo", "tcp port \(port)", "-w", pcap, "--format", "json", "--linger", "0.2"]
                                                 + (dropPrivileges ? ["-Z", "nobody"] : []))
            _ = live.wait { $0.stderr.contains("capturing on lo") }
            usleep(200_000)
            let reset = try Self.closeWithUnreadData(port: port)
            try LiveTests.makeConnection(port: port, abort: false)
            try LiveTests.makeConnection(port: port, abort: true)
            // Outside the filter: its packets are not captured, so its sockets' events are not shown.
            try LiveTests.makeConnection(port: port + 1, abort: false)
            _ = live.wait { LiveTests.jsonLines($0.stdout).count >= 3 }
            live.signal(SIGINT)
            let status = live.finish()
            return Run(stdout: live.stdout, stderr: live.stderr, status: status, pid: live.process.processIdentifier, reset: reset)
        }
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.reset == ECONNRESET, "the client's read after the reset: errno \(run.reset)")
        guard run.stderr.contains("with the kernel's events") else {
            print("skipping the kernel lane's checks: \(run.stderr.split(separator: "\n").first { $0.contains("kernel lane") } ?? "no lane")")
            return
        }
        #expect(Self.instances(of: run.pid).isEmpty, "the tracefs instance is removed: \(Self.instances(of: run.pid))")
        let live = Self.objects(run.stdout)
        #expect(live.map { $0["teardown"] as? String } == ["abort-by-responder", "graceful", "abort-by-originator"], "\(run.stdout)")
        // Each connection printed live carries its sockets' events; the reset carries the reason.
        let ports = Set(live.compactMap { ($0["orig"] as? [String: Any])?["port"] as? Int })
        for o in live {
            let events = o["kernel_events"] as? [[String: Any]] ?? []
            #expect(Set(events.compactMap { $0["side"] as? String }) == ["orig", "resp"], "\(o)")
        }
        let rsts = (live.first?["events"] as? [[String: Any]] ?? []).filter { ($0["flags"] as? String)?.contains("R") == true }
        #expect(rsts.count == 1)
        if kernelAtLeast(6, 12) {
            #expect(rsts.first?["kernel_reason"] as? String == "TCP_ABORT_ON_CLOSE", "\(rsts)")
        } else {
            #expect(rsts.first?["sent_by_this_host"] as? Bool == true, "\(rsts)")
        }
        // The state oracle: transitions agreeing / transitions seen, over both sides of each.
        var seen = 0, agree = 0
        for o in live {
            for side in ["orig", "resp"] {
                let c = (o["state_oracle"] as? [String: Any])?[side] as? [String: Any] ?? [:]
                seen += c["seen"] as? Int ?? 0
                agree += c["agree"] as? Int ?? 0
            }
        }
        print("live kernel lane (drop privileges: \(dropPrivileges)): state oracle \(agree)/\(seen) transitions agree")
        #expect(seen > 0 && agree == seen, "\(run.stdout)")

        // The sidecar holds only the printed connections' sockets, and replays to what live printed.
        let sidecar = dir + "/live.kernel.jsonl"
        let lines = try String(contentsOfFile: sidecar, encoding: .utf8).split(separator: "\n")
        #expect(lines.first?.contains("\"drift_ns\":null") == false, "the drift is written at the end: \(lines.first ?? "")")
        for line in lines.dropFirst() {
            let e = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let src = (e["src"] as? String ?? "").split(separator: ":").last.flatMap { Int($0) }
            let dst = (e["dst"] as? String ?? "").split(separator: ":").last.flatMap { Int($0) }
            #expect([src, dst].contains(Int(port)) && [src, dst].contains { ports.contains($0 ?? -1) }, "\(line)")
        }
        let replayed = try CLI.run(["replay", pcap, "--format", "json"])
        #expect(replayed.status == 0, "\(replayed.stderr)")
        #expect(Self.objects(replayed.stdout) == live)
    }
}
