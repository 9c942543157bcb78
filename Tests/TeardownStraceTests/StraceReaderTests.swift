import Foundation
import XCTest
import TeardownModel
import TeardownWire
@testable import TeardownStrace

/// strace's lines read into calls: real output of strace 6.1 (`-f -yy -q
/// --absolute-timestamps=format:unix,precision:ns --syscall-times=ns`, as `teardown trace` runs
/// it), then lines no strace writes.
final class StraceReaderTests: XCTestCase {
    /// A file of Fixtures/ (read from the source tree; scripts/fuzz-corpus.py seeds the fuzzer with them).
    static func fixture(_ name: String) -> String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/" + name)
        return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }

    /// A Python program on IPv6 loopback: a thread (clone3 with CLONE_THREAD) accepts, reads 3 of
    /// 8 bytes and closes (an RST); the main thread's next send fails with ECONNRESET; then the
    /// process kills itself. Lines of other descriptors (a pipe) and of a forked shell are mixed
    /// in, and two calls are split by -f into unfinished and resumed halves.
    static let ipv6 = fixture("ipv6-thread-killed.strace")

    /// A forked client (plain clone with SIGCHLD: a process of its own) that sets SO_LINGER {1, 0}
    /// and closes, at microsecond precision (-ttt -T), with a signal line.
    static let linger = fixture("linger-fork.strace")

    /// A server's socket registered with epoll for EPOLLRDHUP and polled with POLLRDHUP, its
    /// peer's close seen by both (strace 6.1, Python's select.epoll and select.poll).
    static let epoll = fixture("epoll-rdhup.strace")

    func row(_ c: RecordedCall) -> String {
        "\(c.pid) fd \(c.fd) s\(c.socket ?? -1) \(c.local?.description ?? "-") \(c.remote?.description ?? "-") \(c.call) = \(c.result)"
            + "\(c.errno.map { " " + $0 } ?? "") \(c.kind.rawValue) \(c.bytes) \(c.durationNanoseconds)"
    }

    func testIPv6_threadFoldedIntoProcess_resumedCallsJoined() {
        let r = StraceReader.read(Array(Self.ipv6.utf8))
        XCTAssertEqual(r.calls.map(row), [
            "3047 fd 3 s1 - - socket(AF_INET6, SOCK_STREAM|SOCK_CLOEXEC) = 3 other 0 28492",
            "3047 fd 3 s1 - - setsockopt(SO_REUSEADDR, 1) = 0 other 0 21872",
            "3047 fd 3 s1 - - bind([::1]:0) = 0 other 0 23114",
            "3047 fd 3 s1 [::1]:43537 - listen(128) = 0 other 0 15643",
            // The thread's accept, begun at .409 and returned at .420, is the process's.
            "3047 fd 4 s3 [::1]:43537 [::1]:44886 accept4() = 4 other 0 11416600",
            "3047 fd 5 s2 - - socket(AF_INET6, SOCK_STREAM|SOCK_CLOEXEC) = 5 other 0 19099",
            "3047 fd 5 s2 - - connect([::1]:43537) = 0 other 0 113188",
            "3047 fd 5 s2 [::1]:44886 [::1]:43537 sendto(8) = 8 write 8 1514657",
            "3047 fd 4 s3 [::1]:43537 [::1]:44886 recvfrom(3) = 3 read 3 9645",
            "3047 fd 4 s3 [::1]:43537 [::1]:44886 close() = 0 other 0 65799",
            "3047 fd 5 s2 [::1]:44886 [::1]:43537 sendto(10) = -1 ECONNRESET write 0 13210",
            "3047 fd 5 s2 [::1]:44886 [::1]:43537 recvfrom(10) = 0 read 0 8994",
            "3047 fd 5 s2 [::1]:44886 [::1]:43537 close() = 0 other 0 30115",
        ])
        XCTAssertEqual(r.calls.first?.time, Timestamp(nanoseconds: 1_796_523_399_399_046_993))
        XCTAssertEqual(r.calls.first?.actor, "python3")
        // The accept keeps the time it began; its socket is numbered when it returned (after
        // the client's socket was made), the order in which descriptors came and went.
        XCTAssertEqual(r.calls[4].time, Timestamp(nanoseconds: 1_796_523_399_409_367_841))
        XCTAssertEqual(r.firstPid, 3047)
        XCTAssertEqual(r.ends[3047], .killed("SIGKILL"))
        XCTAssertEqual(r.ends[3111], .exited(0))
        XCTAssertEqual(r.ends[3099], .exited(0))
        XCTAssertEqual(r.unreadLines, 0)
        XCTAssertEqual(r.unfinishedCalls, 0)
    }

    func testLinger_forkedChildIsItsOwnProcess_microseconds() {
        let r = StraceReader.read(Array(Self.linger.utf8))
        XCTAssertEqual(r.calls.map(row), [
            "23520 fd 3 s1 - - socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC) = 3 other 0 57000",
            "23520 fd 3 s1 127.0.0.1:44177 - listen(128) = 0 other 0 45000",
            "23520 fd 4 s3 127.0.0.1:44177 127.0.0.1:40032 accept4() = 4 other 0 5489000",
            "23561 fd 4 s2 - - socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC) = 4 other 0 20000",
            "23561 fd 4 s2 - - connect(127.0.0.1:44177) = 0 other 0 109000",
            "23561 fd 4 s2 127.0.0.1:40032 127.0.0.1:44177 sendto(600) = 600 write 600 132000",
            "23561 fd 4 s2 127.0.0.1:40032 127.0.0.1:44177 setsockopt(SO_LINGER, {on, 0 s}) = 0 other 0 59000",
            "23561 fd 4 s2 127.0.0.1:40032 127.0.0.1:44177 close() = 0 other 0 75000",
            "23520 fd 4 s3 127.0.0.1:44177 127.0.0.1:40032 recvfrom(10, MSG_PEEK) = 10 peek 10 24000",
            "23520 fd 4 s3 127.0.0.1:44177 127.0.0.1:40032 close() = 0 other 0 34000",
            "23520 fd 3 s1 127.0.0.1:44177 - close() = 0 other 0 18000",
        ])
        XCTAssertEqual(r.calls[2].time, Timestamp(nanoseconds: 1_796_522_828_083_828_000))
        XCTAssertEqual(r.ends[23520], .exited(3))
        XCTAssertEqual(r.firstPid, 23520)
    }

    func testPollAndEpoll_revealThePeersClose() {
        let r = StraceReader.read(Array(Self.epoll.utf8))
        let rows = r.calls.map(row).filter { $0.contains("poll") }
        XCTAssertEqual(rows, [
            "20749 fd 5 s3 127.0.0.1:48177 127.0.0.1:51256 epoll_wait(EPOLLIN|EPOLLRDHUP) = 1 other 0 12779",
            "20749 fd 5 s3 127.0.0.1:48177 127.0.0.1:51256 poll(POLLIN|POLLRDHUP) = 1 other 0 9854",
        ])
        // The registration itself and plain readability are not rows; the reads and closes are.
        XCTAssertEqual(r.calls.count, 14)
        XCTAssertEqual(StraceReader.elements("[{fd=5, revents=POLLIN}, {fd=6<TCP:[1]>, revents=POLLHUP}]"),
                       ["fd=5, revents=POLLIN", "fd=6<TCP:[1]>, revents=POLLHUP"])
        XCTAssertEqual(StraceReader.field("data", in: "{events=EPOLLIN, data={u32=5, u64=5}}"), "{u32=5, u64=5}")
        XCTAssertEqual(StraceReader.elements("[{"), [])
        XCTAssertNil(StraceReader.field("fd", in: "{fd=\"}"))
    }

    /// What replay's correlation makes of them: each call on its side of its connection, the
    /// address-less ones (socket, connect) by their socket.
    func testCallsAttachToTheirConnection() {
        let r = StraceReader.read(Array(Self.linger.utf8))
        let client = Endpoint(address: IPAddress("127.0.0.1")!, port: 40032)
        let server = Endpoint(address: IPAddress("127.0.0.1")!, port: 44177)
        let bound = r.calls.filter { $0.socket == 2 }
        XCTAssertEqual(bound.count, 5)
        XCTAssertEqual(bound.filter { $0.local == client && $0.remote == server }.count, 3)
    }

    func testLines() {
        func parse(_ s: String) -> StraceLine? { StraceLine.parse(Array(s.utf8)) }
        XCTAssertEqual(parse("12 1.5 +++ killed by SIGSEGV (core dumped) +++"), .killed(pid: 12, time: Timestamp(nanoseconds: 1_500_000_000), signal: "SIGSEGV"))
        XCTAssertEqual(parse("12 1.000000001 +++ exited with 255 +++"), .exited(pid: 12, time: Timestamp(nanoseconds: 1_000_000_001), status: 255))
        XCTAssertEqual(parse("1.5 --- SIGPIPE {si_signo=SIGPIPE} ---"), .signal(pid: 0, time: Timestamp(nanoseconds: 1_500_000_000), name: "SIGPIPE"))
        guard case .call(_, _, let c)? = parse("7 2.0 read(3<TCP:[1.2.3.4:5->6.7.8.9:10]>, \"a) = 5 \\\", b\", 10) = ? ERESTARTSYS (To be restarted if SA_RESTART is set) <0.5>") else {
            return XCTFail("not a call")
        }
        XCTAssertEqual(c.arguments, ["3<TCP:[1.2.3.4:5->6.7.8.9:10]>", "\"a) = 5 \\\", b\"", "10"])
        XCTAssertNil(c.result)
        XCTAssertEqual(c.errno, "ERESTARTSYS")
        XCTAssertEqual(c.durationNanoseconds, 500_000_000)
        guard case .call(_, _, let p)? = parse("7 2.0 getsockname(3<TCP:[1]>, {sa_family=AF_INET, [128 => 16]}, [128 => 16]) = 0 <0.1>") else {
            return XCTFail("not a call")
        }
        XCTAssertEqual(p.arguments.count, 3)
        // Not strace's: nil, never a trap.
        for s in ["", "12", "12 x", "12 1.5", "12 1.5 read(", "12 1.5 read(3, \"", "12 1.5 read(3) =", "12 1.5 read(3) = x",
                  "99999999999999999999 1.5 read(3) = 1", "12 99999999999999999999.5 read(3) = 1", "12 1.5 +++ exited with x +++",
                  "12 1.5 <... read resumed> <unfinished ...>) = ?", "12 .5 read(3) = 1", "12 1. read(3) = 1", "-5 1.5 +++ foo +++"] {
            let parsed = parse(s)
            if case .call? = parsed { XCTFail("\(s) read as a call") }
        }
    }

    /// Lines that no strace writes, and every prefix of every real line: read without a trap,
    /// and a resumed half with no beginning counted as not understood.
    func testHostileLines() {
        var r = StraceReader()
        for text in [Self.ipv6, Self.linger] {
            for line in text.split(separator: "\n") {
                let bytes = Array(line.utf8)
                for n in 0...bytes.count { r.feed(bytes[0..<n]) }
            }
        }
        let hostile = [
            "1 1.0 <... accept4 resumed>) = 4<TCP:[1.1.1.1:1->2.2.2.2:2]> <0.1>",   // never begun
            "1 1.0 close(4<TCP:[1.1.1.1:1->2.2.2.2:2]>) = 0 <99999999999999999999.1>",
            "1 1.0 close(4<TCP:[1.1.1.1:99999->2.2.2.2:2]>) = 0",
            "1 1.0 close(4<TCP:[::1]:1->[zz]:2]>) = 0",
            "1 1.0 close(99999999999<TCP:[1.1.1.1:1->2.2.2.2:2]>) = 0",
            "1 1.0 read(4<TCP:[1.1.1.1:1->2.2.2.2:2]>, \"\\", 
            "1 1.0 socket(AF_INET) = 9223372036854775807<TCP:[1]>",
            "1 1.0 clone(flags=CLONE_THREAD) = 1", "1 1.0 clone(flags=CLONE_THREAD) = 2", "2 1.0 clone(flags=CLONE_THREAD) = 1",
            "1 1.0 dup2(4<TCP:[1.1.1.1:1->2.2.2.2:2]>, -3) = -3",
            "1 1.0 setsockopt(4<TCP:[1.1.1.1:1->2.2.2.2:2]>, SOL_SOCKET, SO_LINGER, {l_onoff=, l_linger=}, 8) = 0",
            "1 1.0 setsockopt(4<TCP:[1.1.1.1:1->2.2.2.2:2]>, SOL_SOCKET, SO_LINGER, {l_onoff=1,}, 8) = 0",
            "1 1.0 connect(4<TCP:[1]>, {sa_family=AF_INET, sin_port=htons(99999999), sin_addr=inet_addr(\"1\", 16) = 0",
            "1 1.0 execve(\"\", [], 0) = 0", "1 1.0 execve(\"/\", [], 0) = 0", "1 1.0 execve(\", [], 0) = 0",
            String(repeating: "(", count: 10_000), String(repeating: "1 1.0 x(", count: 1_000),
            "\u{0}\u{ff}\u{7f}", "1 1.0 splice(4<TCP:[1.1.1.1:1->2.2.2.2:2]>) = 5", "1 1.0 sendfile() = 5",
        ]
        for line in hostile { r.feed(Array(line.utf8)) }
        var bytes = Array(repeating: UInt8(0), count: 512)
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        let alphabet = Array("0123456789 .()<>[]{}=,\"\\-:TCPresumed+".utf8)
        for _ in 0..<2_000 {
            for i in bytes.indices {
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                bytes[i] = alphabet[Int(seed >> 33) % alphabet.count]
            }
            r.feed(bytes)
        }
        r.finish()
        XCTAssertGreaterThan(r.unreadLines, 2_000)
        // A thread cycle (1 made by 2 made by 1) does not hang the fold into processes.
        XCTAssertTrue([1, 2].contains(r.process(1)))
    }
}
