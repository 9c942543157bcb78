import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The kernel lane when tracefs lets teardown down (issue 14: "tracefs busy, read-only or
/// absent: a clear line, packets still analysed, nothing lost"), on `run` and on `live`:
/// - absent: TEARDOWN_TRACEFS names a directory that does not exist;
/// - read-only: TEARDOWN_TRACEFS names a tracefs mounted read-only in a mount namespace of
///   teardown's own (`unshare -m`), so the mount ends with the process, whatever happens;
/// - busy: the test holds a file of live's instance open, so the instance cannot be removed
///   at the stop (rmdir: EBUSY); the test then lets go and removes it itself.
/// Each says so in one line and analyses the packets as `replay` of its capture does without
/// the lane. Needs root (namespaces, capture, mount, tracefs); skips otherwise, saying why.
@Suite(.serialized) struct TracefsTroubleTests {
    enum Trouble: String, CustomStringConvertible, CaseIterable {
        case absent, readOnly
        var description: String { rawValue }
    }

    /// How teardown is started for `trouble`: its environment, the command it runs through,
    /// and the one line it must print about the kernel lane (nil: no such setup here, said why).
    struct Setup {
        var environment: [String: String]
        var wrapper: [String]
        var expectsLine: (String) -> Bool
        var mountPoint: String?
    }

    static let absentPath = "/nonexistent"

    /// The setup of `trouble` for `command`; nil (having said why) when not root, or without
    /// unshare(1) for the read-only case.
    static func setup(_ trouble: Trouble, for command: String) -> Setup? {
        guard LiveTests.isRoot else {
            print("skipping tracefs trouble on \(command): it needs root for a network namespace and capture (CI runs as root)")
            return nil
        }
        switch trouble {
        case .absent:
            let line = "teardown: warning: no kernel lane: no tracefs at \(absentPath) (TEARDOWN_TRACEFS): "
                + "\(absentPath)/instances: No such file or directory"
            return Setup(environment: ["TEARDOWN_TRACEFS": absentPath], wrapper: [], expectsLine: { $0 == line }, mountPoint: nil)
        case .readOnly:
            guard let unshare = ["/usr/bin/unshare", "/bin/unshare"].first(where: FileManager.default.isExecutableFile) else {
                print("skipping the read-only tracefs case: no unshare(1) (util-linux) to mount it in a namespace of its own")
                return nil
            }
            let dir = NSTemporaryDirectory() + "td-tracefs-ro-\(getpid())-\(UUID().uuidString)"
            try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            // Private propagation: the mount is not seen outside, and goes with the namespace.
            let wrapper = [unshare, "-m", "--propagation", "private", "/bin/sh", "-c",
                           "mount -t tracefs -o ro nodev \"$0\" && exec \"$@\"", dir]
            let prefix = "teardown: warning: no kernel lane: cannot create the tracefs instance \(dir)/instances/teardown-"
            return Setup(environment: ["TEARDOWN_TRACEFS": dir], wrapper: wrapper,
                         expectsLine: { $0.hasPrefix(prefix) && $0.hasSuffix(": Read-only file system (tracefs is read-only)") },
                         mountPoint: dir)
        }
    }

    /// The lines of `stderr` about the kernel lane.
    static func laneLines(_ stderr: String) -> [String] {
        stderr.split(separator: "\n").map(String.init).filter { $0.contains("kernel lane") }
    }

    /// Whether the wrapper could not mount the read-only tracefs, so teardown never ran (said).
    static func mountFailed(_ stderr: String, _ trouble: Trouble, on command: String) -> Bool {
        guard stderr.hasPrefix("mount:") || stderr.contains("unshare:") else { return false }
        print("skipping the \(trouble) case on \(command): cannot mount a read-only tracefs here: \(stderr)")
        return true
    }

    /// What does not depend on one run's ports, sequence numbers and times: the verdicts and
    /// each connection's ending, Zeek view and byte ledger.
    static func shape(_ runLine: String) throws -> NSDictionary {
        let o = try #require(try JSONSerialization.jsonObject(with: Data(runLine.utf8)) as? [String: Any])
        let claims = (o["claims"] as? [[String: Any]] ?? []).map { "\($0["id"] ?? "") \($0["verdict"] ?? "")" }
        let connections = (o["connections"] as? [[String: Any]] ?? []).map { c in
            ["teardown", "conn_state", "history", "closed_by", "half_close", "bytes"].reduce(into: [String: Any]()) { $0[$1] = c[$1] }
        }
        return ["claims": claims, "connections": connections, "problems": o["problems"] ?? []] as NSDictionary
    }

    @Test(arguments: Trouble.allCases)
    func run_saysWhyThereIsNoKernelLane_andAnalysesThePackets(_ trouble: Trouble) throws {
        guard let setup = Self.setup(trouble, for: "run") else { return }
        defer { if let m = setup.mountPoint { try? FileManager.default.removeItem(atPath: m) } }
        let dir = NSTemporaryDirectory() + "td-tracefs-run-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let name = "close-unread"
        let run = try CLI.run(["run", name, "--format", "json", "--save", dir], environment: setup.environment, through: setup.wrapper)
        if Self.mountFailed(run.stderr, trouble, on: "run") { return }
        let lines = Self.laneLines(run.stderr)
        #expect(lines.count == 1 && lines.allSatisfy(setup.expectsLine), "one line on the missing lane: \(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/\(name).kernel.jsonl"), "no kernel events saved")
        #expect(!run.stdout.contains("\"kernel_events\"") && !run.stdout.contains("\"state_oracle\""), "no kernel lane in the JSON")
        // Every packet analysed: run printed what replay of its capture prints without the lane.
        let members = try #require(RunReplayTests.connections(ofRunLine: run.stdout.trimmingCharacters(in: .newlines)), "\(run.stdout)")
        let (replay, replayed) = try RunReplayTests.replayJSON("\(dir)/\(name).pcap", named: name)
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(replayed == members, "run's connections differ from replay of its capture")
        // And as a run with the lane (or without it for another reason): verdicts, endings, ledgers, exit status.
        let usual = try CLI.run(["run", name, "--format", "json"])
        #expect(run.status == usual.status, "\(run.stderr)")
        #expect(try Self.shape(run.stdout) == Self.shape(usual.stdout), "\(run.stdout)\n\(usual.stdout)")
        if let m = setup.mountPoint {
            let mounts = (try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)) ?? ""
            #expect(!mounts.contains(m), "the read-only tracefs went with teardown's mount namespace")
        }
    }

    /// A live session in a network namespace of its own on port 8080: a close with unread
    /// data, a graceful close, an SO_LINGER {1, 0} abort, then SIGINT. `during`, given the
    /// running process, runs before the connections are made.
    static func liveSession(_ args: [String], environment: [String: String] = [:], through wrapper: [String] = [],
                            during: @escaping (LiveTests.LiveProcess) throws -> Void = { _ in }) throws -> LiveKernelLaneTests.Run {
        try LiveKernelLaneTests.inNewNamespace { () throws -> LiveKernelLaneTests.Run in
            let port: UInt16 = 8080
            let live = try LiveTests.LiveProcess(["live", "-i", "lo", "tcp port \(port)", "--format", "json", "--linger", "0.2"] + args,
                                                 environment: environment, through: wrapper)
            // A failed #require below must not leave live running.
            defer { if live.process.isRunning { live.signal(SIGKILL) } }
            _ = live.wait { $0.stderr.contains("capturing on lo") || !$0.process.isRunning }
            guard live.process.isRunning else {
                return LiveKernelLaneTests.Run(stdout: live.stdout, stderr: live.stderr, status: live.finish(), pid: 0, reset: 0)
            }
            try during(live)
            usleep(200_000)
            let reset = try LiveKernelLaneTests.closeWithUnreadData(port: port)
            try LiveTests.makeConnection(port: port, abort: false)
            try LiveTests.makeConnection(port: port, abort: true)
            _ = live.wait { LiveTests.jsonLines($0.stdout).count >= 3 }
            live.signal(SIGINT)
            let status = live.finish()
            return LiveKernelLaneTests.Run(stdout: live.stdout, stderr: live.stderr, status: status,
                                           pid: live.process.processIdentifier, reset: reset)
        }
    }

    static let endings = ["abort-by-responder", "graceful", "abort-by-originator"]

    @Test(arguments: Trouble.allCases)
    func live_saysWhyThereIsNoKernelLane_andAnalysesThePackets(_ trouble: Trouble) throws {
        guard let setup = Self.setup(trouble, for: "live") else { return }
        defer { if let m = setup.mountPoint { try? FileManager.default.removeItem(atPath: m) } }
        let pcap = LiveTests.tmp("tracefs-\(trouble).pcap")
        let sidecar = String(pcap.dropLast(5)) + ".kernel.jsonl"
        defer { try? FileManager.default.removeItem(atPath: pcap); try? FileManager.default.removeItem(atPath: sidecar) }
        let run = try Self.liveSession(["-w", pcap], environment: setup.environment, through: setup.wrapper)
        if Self.mountFailed(run.stderr, trouble, on: "live") { return }
        #expect(run.status == 0, "\(run.stderr)")
        let lines = Self.laneLines(run.stderr)
        #expect(lines.count == 1 && lines.allSatisfy(setup.expectsLine), "one line on the missing lane: \(run.stderr)")
        #expect(run.stderr.contains("capturing on lo, link type") && !run.stderr.contains("with the kernel's events"), "\(run.stderr)")
        let live = LiveKernelLaneTests.objects(run.stdout)
        #expect(live.map { $0["teardown"] as? String } == Self.endings, "\(run.stdout)")
        #expect(live.allSatisfy { $0["kernel_events"] == nil && $0["state_oracle"] == nil }, "no kernel lane in the JSON")
        #expect(!FileManager.default.fileExists(atPath: sidecar), "no kernel events saved")
        // Every packet analysed: live printed what replay of its -w file prints.
        let replayed = try CLI.run(["replay", pcap, "--format", "json"])
        #expect(replayed.status == 0, "\(replayed.stderr)")
        #expect(LiveKernelLaneTests.objects(replayed.stdout) == live)
        #expect(LiveKernelLaneTests.instances(of: run.pid).isEmpty)
    }

    /// A file of an instance held open by another process: the instance cannot be removed.
    final class Holder: @unchecked Sendable {
        var fd: Int32 = -1
        var instance: String?

        /// Lets go of the file and removes the instance; the errno of that rmdir, or 0.
        @discardableResult
        func release() -> Int32 {
            if fd >= 0 { close(fd); fd = -1 }
            guard let instance else { return 0 }
            self.instance = nil
            return rmdir(instance) == 0 || errno == ENOENT ? 0 : errno
        }
    }

    @Test(arguments: [false, true])
    func live_busyInstance_saysItIsLeft_andLosesNothing(dropPrivileges: Bool) throws {
        guard LiveTests.isRoot else {
            print("skipping the busy tracefs instance: it needs root for a network namespace, capture and tracefs (CI runs as root)")
            return
        }
        let dir = LiveTests.tmp("tracefs-busy-\(dropPrivileges)")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        chmod(dir, 0o777)   // -Z nobody writes the -w file and its sidecar here
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pcap = dir + "/live.pcap"
        let holder = Holder()
        defer { holder.release() }
        let run = try Self.liveSession(["-w", pcap] + (dropPrivileges ? ["-Z", "nobody"] : [])) { live in
            guard live.stderr.contains("with the kernel's events") else { return }
            let names = LiveKernelLaneTests.instances(of: live.process.processIdentifier)
            try #require(names.count == 1, "live's instance: \(names)")
            let instance = "/sys/kernel/tracing/instances/" + names[0]
            holder.instance = instance
            // Opened for reading, tracing_on (like trace, trace_clock, buffer_size_kb or an
            // event's enable) holds the instance; an event's format file does not.
            holder.fd = open(instance + "/tracing_on", O_RDONLY | O_CLOEXEC)
            try #require(holder.fd >= 0, "open \(instance)/tracing_on: \(String(cString: strerror(errno)))")
        }
        guard run.stderr.contains("with the kernel's events") else {
            print("skipping the busy tracefs instance: live had no kernel lane: \(Self.laneLines(run.stderr).first ?? run.stderr)")
            return
        }
        let instance = try #require(holder.instance)
        #expect(run.status == 0, "\(run.stderr)")
        let lines = Self.laneLines(run.stderr)
        let expected = "teardown: warning: kernel lane: cannot remove \(instance): Device or resource busy; the next teardown run as root removes it"
        #expect(lines == [expected], "\(run.stderr)")
        #expect(FileManager.default.fileExists(atPath: instance), "the busy instance is still there")
        // Nothing lost: every connection printed with its kernel events, the sidecar complete
        // and replayed to what live printed.
        let live = LiveKernelLaneTests.objects(run.stdout)
        #expect(live.map { $0["teardown"] as? String } == Self.endings, "\(run.stdout)")
        for o in live {
            let events = o["kernel_events"] as? [[String: Any]] ?? []
            #expect(Set(events.compactMap { $0["side"] as? String }) == ["orig", "resp"], "\(o)")
        }
        let header = try String(contentsOfFile: dir + "/live.kernel.jsonl", encoding: .utf8).split(separator: "\n").first ?? ""
        #expect(header.contains("\"teardown_kernel_events\":1") && !header.contains("\"drift_ns\":null"), "\(header)")
        let replayed = try CLI.run(["replay", pcap, "--format", "json"])
        #expect(replayed.status == 0, "\(replayed.stderr)")
        #expect(LiveKernelLaneTests.objects(replayed.stdout) == live)
        // Let go: the instance can be removed now, and nothing of live's is left.
        #expect(holder.release() == 0, "rmdir \(instance) once the file is closed")
        #expect(LiveKernelLaneTests.instances(of: run.pid).isEmpty, "\(LiveKernelLaneTests.instances(of: run.pid))")
    }
}
