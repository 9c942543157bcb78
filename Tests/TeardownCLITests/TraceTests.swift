import CTeardownSys
import Foundation
import Testing
import TeardownTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `teardown trace`, end to end: real programs (Python, a static C binary, curl) run under it in
/// a network namespace of the test's own (root: CI runs as root; elsewhere the tests skip and say
/// why), their calls beside their packets, the exit status passed on, and `replay` of the saved
/// files printing the same bytes. Bad input is checked without root.
@Suite(.serialized) struct TraceTests {
    /// Why the traced tests cannot run here, or nil.
    static var skipReason: String? {
        if geteuid() != 0 { return "it needs root for a network namespace, capture and strace (CI runs as root)" }
        if executable("strace") == nil { return "strace is not installed (Debian: apt-get install strace)" }
        if executable("python3") == nil { return "python3 is not installed" }
        return nil
    }

    static func executable(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// A fresh directory for one test's files.
    static func directory() throws -> String {
        let dir = NSTemporaryDirectory() + "teardown-trace-test-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Runs `body` on a thread of its own in a new network namespace with lo up
    /// (LiveKernelLaneTests'): every process it starts (teardown, strace, the program, a
    /// server) is in it too, so its traffic is its own.
    static func inNewNamespace<T>(_ body: @escaping () throws -> T) throws -> T {
        try LiveKernelLaneTests.inNewNamespace(body)
    }

    /// A process started in the background; its output read to the end when waited for.
    final class Background {
        let process = Process()
        let out = Pipe(), err = Pipe()
        init(_ args: [String], cwd: String? = nil) throws {
            process.executableURL = URL(fileURLWithPath: args[0])
            process.arguments = Array(args.dropFirst())
            if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
            var env = ProcessInfo.processInfo.environment
            env.removeValue(forKey: "NO_COLOR")
            process.environment = env
            process.standardOutput = out
            process.standardError = err
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }
        func wait() -> CLI.Result {
            let (o, e) = CLI.readToEnd(out, err)
            process.waitUntilExit()
            return CLI.Result(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                              stderr: String(decoding: e, as: UTF8.self))
        }
    }

    /// `teardown trace -w DIR/trace.pcap --no-color ARGS`, then `teardown replay` of the file,
    /// which must print the same bytes.
    static func traceAndReplay(_ args: [String], dir: String, before: (() throws -> Void)? = nil,
                               during: ((Background) throws -> Void)? = nil) throws -> CLI.Result {
        let pcap = dir + "/trace.pcap"
        let result = try inNewNamespace { () throws -> CLI.Result in
            try before?()
            let t = try Background([CLI.binary.path, "trace", "-w", pcap, "--no-color"] + args)
            try during?(t)
            return t.wait()
        }
        let replay = try CLI.run(["replay", pcap, "--no-color"])
        #expect(replay.status == 0, "replay: \(replay.stderr)")
        #expect(replay.stdout == result.stdout, "replay of the saved files prints what trace printed")
        #expect(!result.stderr.contains("Fatal error"), "\(result.stderr)")
        return result
    }

    static func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// The lines of `text` that contain each of `needles`, in order: the index of each.
    static func order(_ text: String, _ needles: [String]) -> [Int?] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var from = 0
        return needles.map { n in
            guard let i = lines[from...].firstIndex(where: { $0.contains(n) }) else { return nil }
            from = i + 1
            return i
        }
    }

    /// Waits (5 s at most) until something listens on 127.0.0.1:`port`; the probe's connection
    /// is not the traced program's, so it is not shown.
    static func waitForListener(port: UInt16) {
        for _ in 0..<100 {
            let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var a = LiveTests.sockaddrIn(port: port)
            let rc = withUnsafePointer(to: &a) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            close(s)
            if rc == 0 { return }
            usleep(50_000)
        }
    }

    static func hasLane(_ r: CLI.Result) -> Bool { !r.stderr.contains("no kernel lane") }

    /// The recorded calls beside `pcap`, as JSON objects.
    static func calls(_ dir: String) throws -> [[String: Any]] {
        let text = try String(contentsOfFile: dir + "/trace.events.jsonl", encoding: .utf8)
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    // MARK: programs

    /// The issue's first case: a Python client sets SO_LINGER {1, 0} and closes with data
    /// unacknowledged by nobody (all of it read); its `setsockopt`, its `close()`, the `[R.]` it
    /// caused and, with the lane, the kernel's reason in one timeline.
    @Test func pythonLingerZero_setsockoptCloseAndRSTInOneTimeline() throws {
        if let why = Self.skipReason { print("skipping trace of a Python SO_LINGER client: \(why)"); return }
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.write("""
        import socket, struct, sys, threading, time
        srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", 7001)); srv.listen()
        def serve():
            a, _ = srv.accept()
            n = 0
            while n < 1000:
                n += len(a.recv(4096))
            time.sleep(0.3)
            try:
                a.recv(10)
                print("server: read after the RST", file=sys.stderr)
            except OSError as e:
                print("server:", e.strerror, file=sys.stderr)
            a.close()
        t = threading.Thread(target=serve); t.start()
        c = socket.create_connection(("127.0.0.1", 7001))
        c.sendall(b"x" * 1000)
        time.sleep(0.1)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
        t.join(); srv.close()
        """, to: dir + "/linger.py")
        let annotated = dir + "/annotated.pcapng"
        let r = try Self.traceAndReplay(["--annotate", annotated, "--", "python3", dir + "/linger.py"], dir: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("abort-by-originator"))
        // --annotate: the program's packets with the comments replay writes from the saved files,
        // its calls among them.
        let again = try CLI.run(["replay", dir + "/trace.pcap", "--summary", "--annotate", dir + "/again.pcapng"])
        #expect(again.status == 0, "\(again.stderr)")
        let a = try Data(contentsOf: URL(fileURLWithPath: annotated))
        #expect(a == (try Data(contentsOf: URL(fileURLWithPath: dir + "/again.pcapng"))))
        for needle in ["teardown=abort-by-originator", "call=\"client setsockopt(SO_LINGER, {on, 0 s}) = 0\"",
                       "call=\"client close() = 0\"", "rst=exact"] {
            #expect(a.range(of: Data(needle.utf8)) != nil, "\(needle) in the annotated file")
        }
        let rows = Self.order(r.stdout, ["setsockopt(SO_LINGER, {on, 0 s}) = 0", "close() = 0", "[R.]"])
        #expect(!rows.contains(nil), "setsockopt, close and the RST in that order:\n\(r.stdout)")
        let written = r.stdout.split(separator: "\n").first { $0.contains("written by app") }?.split(separator: " ")
        #expect(written?.dropFirst(3).first == "1,000", "the ledger counts the bytes written:\n\(r.stdout)")
        #expect(r.stderr.contains("server: "), "the program's own output passes through")
        if Self.hasLane(r) {
            #expect(r.stdout.contains("kernel: RST sent"), "the kernel's account of the RST:\n\(r.stdout)")
            if kernelAtLeast(6, 10) { #expect(r.stdout.contains("(TCP_STATE)"), "the kernel's reason:\n\(r.stdout)") }
        } else {
            print("trace of a Python SO_LINGER client: no kernel lane here, its checks skipped")
        }
    }

    /// A statically linked C program (what a preload library cannot see): a parent that serves
    /// and a forked child that writes 3000 bytes, shuts down its sending side and reads to the
    /// end. Its exit status (7) becomes teardown's.
    @Test func staticC_forkShutdownAndExitStatus() throws {
        if let why = Self.skipReason { print("skipping trace of a static C program: \(why)"); return }
        guard let gcc = Self.executable("gcc") else { print("skipping trace of a static C program: gcc is not installed"); return }
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.write("""
        #include <arpa/inet.h>
        #include <netinet/in.h>
        #include <string.h>
        #include <sys/socket.h>
        #include <sys/wait.h>
        #include <unistd.h>
        int main(void) {
            int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
            setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            struct sockaddr_in a = {0};
            a.sin_family = AF_INET; a.sin_port = htons(7002); a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 4)) return 1;
            pid_t child = fork();
            if (child == 0) {
                close(l);
                int c = socket(AF_INET, SOCK_STREAM, 0);
                if (connect(c, (struct sockaddr *)&a, sizeof a)) _exit(2);
                char buf[3000]; memset(buf, 'x', sizeof buf);
                if (write(c, buf, sizeof buf) != sizeof buf) _exit(3);
                shutdown(c, SHUT_WR);
                while (read(c, buf, sizeof buf) > 0) {}
                close(c);
                _exit(0);
            }
            int s = accept(l, 0, 0);
            char buf[4096]; long n = 0, r;
            while ((r = read(s, buf, sizeof buf)) > 0) n += r;
            write(s, "bye", 3);
            close(s); close(l);
            int status; waitpid(child, &status, 0);
            return n == 3000 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 7 : 1;
        }
        """, to: dir + "/prog.c")
        let cc = try Background([gcc, "-static", "-O", "-o", dir + "/prog", dir + "/prog.c"]).wait()
        guard cc.status == 0 else {
            print("skipping trace of a static C program: gcc -static failed (the static libc, libc6-dev, missing?): \(cc.stderr)")
            return
        }
        let r = try Self.traceAndReplay(["--", dir + "/prog"], dir: dir)
        #expect(r.status == 7, "the program's exit status is teardown's: \(r.stderr)")
        #expect(!Self.order(r.stdout, ["connect(127.0.0.1:7002) = 0", "write(3000) = 3000", "shutdown(SHUT_WR) = 0", "write(3) = 3"])
            .contains(nil), "the child's calls and the parent's, in order:\n\(r.stdout)")
        #expect(r.stdout.contains("graceful"))
        let pids = Set(try Self.calls(dir).compactMap { $0["pid"] as? Int })
        #expect(pids.count == 2, "the parent's and the forked child's calls: \(pids)")
    }

    /// A Go program (static, its own runtime: raw system calls on non-blocking sockets under
    /// epoll, threads of its own; what a preload library cannot see): a client goroutine that
    /// writes 1,000 bytes, sets SO_LINGER {on, 0} (SetLinger(0)) and closes, a server goroutine
    /// that reads to the RST. Its exit status (9) becomes teardown's.
    @Test func goProgram_lingerZeroOnItsOwnRuntime() throws {
        if let why = Self.skipReason { print("skipping trace of a Go program: \(why)"); return }
        guard let go = Self.executable("go") else { print("skipping trace of a Go program: no Go toolchain (Debian: apt-get install golang-go)"); return }
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.write(#"""
package main

import (
	"fmt"
	"net"
	"os"
	"time"
)

func main() {
	l, err := net.Listen("tcp4", "127.0.0.1:7006")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	done := make(chan string)
	go func() {
		s, err := l.Accept()
		if err != nil {
			done <- err.Error()
			return
		}
		buf := make([]byte, 4096)
		n := 0
		for n < 1000 {
			k, err := s.Read(buf)
			if err != nil {
				break
			}
			n += k
		}
		time.Sleep(300 * time.Millisecond)
		_, err = s.Read(buf)
		s.Close()
		done <- fmt.Sprint("server: ", err)
	}()
	c, err := net.Dial("tcp4", "127.0.0.1:7006")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	c.Write(make([]byte, 1000))
	time.Sleep(100 * time.Millisecond)
	c.(*net.TCPConn).SetLinger(0)
	c.Close()
	fmt.Fprintln(os.Stderr, <-done)
	l.Close()
	os.Exit(9)
}
"""#, to: dir + "/prog.go")
        let build = Process()
        build.executableURL = URL(fileURLWithPath: go)
        build.arguments = ["build", "-o", dir + "/prog", dir + "/prog.go"]
        build.currentDirectoryURL = URL(fileURLWithPath: dir)
        var env = ProcessInfo.processInfo.environment
        env["GOCACHE"] = dir + "/gocache"; env["GOPATH"] = dir + "/gopath"; env["CGO_ENABLED"] = "0"; env["GO111MODULE"] = "off"
        build.environment = env
        let err = Pipe()
        build.standardError = err
        try build.run()
        let buildErrors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        build.waitUntilExit()
        guard build.terminationStatus == 0 else {
            Issue.record("go build failed: \(buildErrors)")
            return
        }
        let r = try Self.traceAndReplay(["--", dir + "/prog"], dir: dir)
        #expect(r.status == 9, "the program's exit status is teardown's: \(r.stderr)")
        #expect(r.stderr.contains("server: read tcp4"), "the program's own output passes through: \(r.stderr)")
        #expect(r.stdout.contains("abort-by-originator"), "\(r.stdout)")
        let rows = Self.order(r.stdout, ["connect(127.0.0.1:7006) = -1 EINPROGRESS", "write(1000) = 1000",
                                         "setsockopt(SO_LINGER, {on, 0 s}) = 0", "close() = 0", "[R.]", "read(4096) = -1 ECONNRESET"])
        #expect(!rows.contains(nil), "the Go runtime's calls and the RST in order:\n\(r.stdout)")
        if Self.hasLane(r) {
            #expect(r.stdout.contains("kernel: RST sent"), "the kernel's account of the RST:\n\(r.stdout)")
        }
    }

    /// A forking server: each connection is served by a child process; the clients, outside the
    /// trace, make three connections. The children's calls land on the server's side.
    @Test func forkingServer_childrensCallsOnTheServerSide() throws {
        if let why = Self.skipReason { print("skipping trace of a forking server: \(why)"); return }
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.write("""
        import os, socket, sys
        srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", 7003)); srv.listen()
        open(sys.argv[1], "w").close()
        children = []
        for _ in range(3):
            conn, _ = srv.accept()
            pid = os.fork()
            if pid == 0:
                srv.close()
                conn.recv(100)
                conn.sendall(b"reply")
                conn.shutdown(socket.SHUT_WR)
                conn.recv(100)
                conn.close()
                os._exit(0)
            children.append(pid)
            conn.close()
        for p in children:
            os.waitpid(p, 0)
        """, to: dir + "/server.py")
        try Self.write("""
        import socket
        for _ in range(3):
            c = socket.create_connection(("127.0.0.1", 7003))
            c.sendall(b"request")
            while c.recv(100):
                pass
            c.close()
        """, to: dir + "/client.py")
        let ready = dir + "/ready"
        let r = try Self.traceAndReplay(["--", "python3", dir + "/server.py", ready], dir: dir, during: { _ in
            for _ in 0..<200 where !FileManager.default.fileExists(atPath: ready) { usleep(50_000) }
            let c = try Background([Self.executable("python3")!, dir + "/client.py"]).wait()
            #expect(c.status == 0, "client: \(c.stderr)")
        })
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.components(separatedBy: "━━ connection ").count - 1 == 3, "three connections:\n\(r.stdout)")
        let calls = try Self.calls(dir)
        let served = calls.filter { ($0["call"] as? String) == "shutdown(SHUT_WR)" }
        #expect(served.count == 3)
        let parent = calls.first { ($0["call"] as? String)?.hasPrefix("accept") == true }?["pid"] as? Int
        #expect(Set(served.compactMap { $0["pid"] as? Int }).count == 3, "each served by a child of its own")
        #expect(!served.contains { ($0["pid"] as? Int) == parent }, "not by the parent")
        #expect(r.stdout.components(separatedBy: "shutdown(SHUT_WR) = 0").count - 1 == 3)
    }

    /// A threaded client: four threads, one connection each; the calls of every thread are the
    /// process's (one pid), each on its own connection, the socket() and connect() before the
    /// connection's first packet included.
    @Test func threadedClient_eachThreadsCallsOnItsConnection() throws {
        if let why = Self.skipReason { print("skipping trace of a threaded client: \(why)"); return }
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.write("""
        import socket
        srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", 7004)); srv.listen(8)
        for _ in range(5):  # waitForListener's probe, then the four threads
            a, _ = srv.accept()
            a.sendall(a.recv(100).upper())
            a.close()
        """, to: dir + "/server.py")
        try Self.write("""
        import socket, threading
        def one(i):
            c = socket.create_connection(("127.0.0.1", 7004))
            c.sendall(b"thread %d" % i)
            c.recv(100)
            c.close()
        ts = [threading.Thread(target=one, args=(i,)) for i in range(4)]
        for t in ts: t.start()
        for t in ts: t.join()
        """, to: dir + "/client.py")
        var server: Background?
        let r = try Self.traceAndReplay(["--", "python3", dir + "/client.py"], dir: dir, before: {
            server = try Background([Self.executable("python3")!, dir + "/server.py"])
            Self.waitForListener(port: 7004)
        })
        if let p = server?.process.processIdentifier { kill(p, SIGKILL) }
        _ = server?.wait()
        #expect(r.status == 0, "\(r.stderr)")
        // The probe connection that waited for the server is not the program's: not shown.
        #expect(r.stdout.components(separatedBy: "━━ connection ").count - 1 == 4, "four connections:\n\(r.stdout)")
        #expect(r.stdout.components(separatedBy: "connect(127.0.0.1:7004) = 0").count - 1 == 4, "each thread's connect, on its connection")
        #expect(r.stdout.components(separatedBy: "close() = 0").count - 1 == 4)
        let calls = try Self.calls(dir)
        #expect(Set(calls.compactMap { $0["pid"] as? Int }).count == 1, "the threads' calls are the process's")
    }

    /// curl against `python3 -m http.server` (outside the trace): curl's calls beside its packets.
    @Test func curlAgainstHTTPServer() throws {
        if let why = Self.skipReason { print("skipping trace of curl: \(why)"); return }
        guard let curl = Self.executable("curl") else { print("skipping trace of curl: curl is not installed"); return }
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.write("hello from http.server\n", to: dir + "/index.txt")
        var server: Background?
        let r = try Self.traceAndReplay(["--", curl, "-s", "-o", dir + "/got", "http://127.0.0.1:7005/index.txt"], dir: dir, before: {
            server = try Background([Self.executable("python3")!, "-m", "http.server", "--bind", "127.0.0.1", "7005"], cwd: dir)
            Self.waitForListener(port: 7005)
        }, during: { _ in })
        // SIGKILL: a process started from a test thread inherits its blocked signals (SIGTERM among them).
        if let p = server?.process.processIdentifier { kill(p, SIGKILL) }
        _ = server?.wait()
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try String(contentsOfFile: dir + "/got", encoding: .utf8) == "hello from http.server\n")
        #expect(r.stdout.components(separatedBy: "━━ connection ").count - 1 == 1, "curl's one connection:\n\(r.stdout)")
        #expect(!Self.order(r.stdout, ["connect(127.0.0.1:7005)", "sendto(", "recvfrom(", "close() = 0"]).contains(nil),
                "curl's calls in order:\n\(r.stdout)")
        #expect(r.stdout.contains("written by app"))
    }

    /// A program killed mid-run (SIGKILL, by itself): teardown says 137, and what was recorded,
    /// the calls before the kill and the kernel's closing of its socket, is kept and replays.
    @Test func killedMidRun_statusAndRecordingKept() throws {
        if let why = Self.skipReason { print("skipping trace of a program killed mid-run: \(why)"); return }
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.write("""
        import os, signal, socket, threading
        srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", 7006)); srv.listen()
        c = socket.create_connection(("127.0.0.1", 7006))
        a, _ = srv.accept()
        c.sendall(b"before the kill")
        a.recv(100)
        os.kill(os.getpid(), signal.SIGKILL)
        """, to: dir + "/killed.py")
        let r = try Self.traceAndReplay(["--", "python3", dir + "/killed.py"], dir: dir)
        #expect(r.status == 137, "128 + SIGKILL: \(r.stderr)")
        #expect(r.stdout.contains("sendto(15) = 15"))
        #expect(r.stdout.contains("[F.]"), "the kernel closed the sockets the process left:\n\(r.stdout)")
    }

    /// SIGINT sent to teardown with kill(2) goes to the program, which dies of it: 130.
    @Test func sigintReachesTheProgram() throws {
        if let why = Self.skipReason { print("skipping trace of an interrupted program: \(why)"); return }
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ready = dir + "/ready"
        try Self.write("""
        import socket, sys, time
        srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", 7007)); srv.listen()
        c = socket.create_connection(("127.0.0.1", 7007))
        a, _ = srv.accept()
        c.sendall(b"waiting")
        open(sys.argv[1], "w").close()
        time.sleep(30)
        """, to: dir + "/wait.py")
        let r = try Self.traceAndReplay(["--", "python3", dir + "/wait.py", ready], dir: dir, during: { t in
            for _ in 0..<200 where !FileManager.default.fileExists(atPath: ready) { usleep(50_000) }
            usleep(100_000)
            t.process.interrupt()
        })
        #expect(r.status == 130, "128 + SIGINT: \(r.stderr)")
        #expect(r.stdout.contains("sendto(7) = 7"))
    }

    /// --pid: attached to a running process, until it exits; its exit status is reported.
    @Test func attachToPid() throws {
        if let why = Self.skipReason { print("skipping trace --pid: \(why)"); return }
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let go = dir + "/go"
        try Self.write("""
        import os, socket, sys, time
        while not os.path.exists(sys.argv[1]):
            time.sleep(0.02)
        srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", 7008)); srv.listen()
        c = socket.create_connection(("127.0.0.1", 7008))
        a, _ = srv.accept()
        c.sendall(b"attached")
        a.recv(100)
        c.close(); a.close()
        sys.exit(5)
        """, to: dir + "/late.py")
        // Attached, once strace holds it (TracerPid), the program goes on.
        let pcap = dir + "/pid.pcap"
        let result = try Self.inNewNamespace { () throws -> CLI.Result in
            let p = try Background([Self.executable("python3")!, dir + "/late.py", go])
            let pid = p.process.processIdentifier
            let t = try Background([CLI.binary.path, "trace", "-w", pcap, "--no-color", "--pid", String(pid)])
            for _ in 0..<200 {
                let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
                if status.split(separator: "\n").contains(where: { $0.hasPrefix("TracerPid:") && !$0.hasSuffix("\t0") }) { break }
                usleep(20_000)
            }
            FileManager.default.createFile(atPath: go, contents: nil)
            _ = p.wait()
            return t.wait()
        }
        #expect(result.status == 5, "the process's exit status: \(result.stderr)")
        #expect(result.stdout.contains("sendto(8) = 8"), "\(result.stdout)")
        let replay = try CLI.run(["replay", pcap, "--no-color"])
        #expect(replay.stdout == result.stdout)
    }

    // MARK: bad input (no root needed)

    @Test func unknownProgram() throws {
        let r = try CLI.run(["trace", "--", "no-such-program-teardown"])
        #expect(r.status == 127)
        #expect(r.stderr == "teardown: trace: no-such-program-teardown: command not found (not on PATH)\n")
        #expect(r.stdout.isEmpty)
    }

    @Test func noSuchProcess() throws {
        let r = try CLI.run(["trace", "--pid", "2147483646"])
        #expect(r.status == 66)
        #expect(r.stderr == "teardown: trace: --pid 2147483646: no such process\n")
    }

    @Test func straceMissing() throws {
        let r = try CLI.run(["trace", "--", "true"], environment: ["TEARDOWN_STRACE": "/nonexistent/strace"])
        #expect(r.status == 69)
        #expect(r.stderr == "teardown: trace: TEARDOWN_STRACE=/nonexistent/strace is not an executable strace\n")
    }

    @Test func programAndPidTogether() throws {
        let r = try CLI.run(["trace", "--pid", "1", "--", "true"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("--pid and a program are alternatives"))
    }

    /// A program that exits at once: nothing to show, its status passed on.
    @Test func exitsAtOnce() throws {
        if let why = Self.skipReason { print("skipping trace of a program that exits at once: \(why)"); return }
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try Self.traceAndReplay(["--", "sh", "-c", "exit 3"], dir: dir)
        #expect(r.status == 3)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains("0 socket calls, 0 packets on 0 connections"), "\(r.stderr)")
    }
}
