import Foundation
import TeardownCapture
import TeardownModel
import TeardownWire
#if canImport(Glibc)
import Glibc
#endif

/// What a forked child does with the socket it shares with its parent.
///
/// After fork(2) in a multithreaded process the child may only make async-signal-safe calls
/// (signal-safety(7)): close, shutdown, clock_gettime, write, getpid and _exit are on that list,
/// and the child's loop touches only memory prepared before the fork. So the child cannot use
/// the recording machinery of `DriverSocket`; instead it writes one fixed-size `ChildRecord`
/// per call into a pipe, and the parent turns them into `RecordedCall`s with the child's pid.
public enum ChildStep {
    /// close(fd) on the shared socket.
    case close
    /// shutdown(fd, how) on the shared socket.
    case shutdown(DriverSocket.ShutdownHow)
    /// usleep (not recorded as a socket call).
    case sleep(ms: Int)
    /// _exit(code) without closing anything: the kernel releases the child's descriptors.
    case exit(code: Int32)

    /// The plain-old-data form the child reads (no Swift enums with payloads, no allocation).
    var raw: ChildOp {
        switch self {
        case .close: return ChildOp(op: 1, arg: 0)
        case .shutdown(let how): return ChildOp(op: 2, arg: how == .read ? Int32(SHUT_RD) : how == .write ? Int32(SHUT_WR) : Int32(SHUT_RDWR))
        case .sleep(let ms): return ChildOp(op: 3, arg: Int32(clamping: ms))
        case .exit(let code): return ChildOp(op: 4, arg: code)
        }
    }
}

struct ChildOp { var op: Int32; var arg: Int32 }

/// One call made by the child, written whole into the pipe (well under PIPE_BUF, so atomic).
struct ChildRecord {
    var op: Int32 = 0
    var arg: Int32 = 0
    var pid: Int32 = 0
    var errnoValue: Int32 = 0
    var result: Int64 = 0
    var realtimeNanoseconds: Int64 = 0
    var durationNanoseconds: Int64 = 0
}

/// A child process forked while holding a shared socket; `wait()` reaps it and files its calls.
public final class ForkedChild {
    public let pid: pid_t
    let readFD: Int32
    let socket: DriverSocket
    let actor: String
    let log: CallLog
    public private(set) var exitStatus: Int32?

    init(pid: pid_t, readFD: Int32, socket: DriverSocket, actor: String, log: CallLog) {
        self.pid = pid; self.readFD = readFD; self.socket = socket; self.actor = actor; self.log = log
    }

    /// waitpid(2) for the child (SIGKILL after `timeout` seconds), then decodes the records it
    /// wrote and appends them to the call log. Returns the calls, in order.
    @discardableResult
    public func wait(timeout: Double = 10) -> [RecordedCall] {
        let deadline = monotonic() + Int64(timeout * 1e9)
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0 && errno != EINTR { break }
            if monotonic() > deadline { kill(pid, SIGKILL); _ = waitpid(pid, &status, 0); break }
            usleep(1000)
        }
        // WIFEXITED / WEXITSTATUS (wait(2)): low 7 bits zero, status in bits 8-15.
        exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1
        var out: [RecordedCall] = []
        var rec = ChildRecord()
        let size = MemoryLayout<ChildRecord>.size
        while true {
            let n = withUnsafeMutableBytes(of: &rec) { Glibc.read(readFD, $0.baseAddress, size) }
            if n < 0 && errno == EINTR { continue }
            guard n == size else { break }
            out.append(call(from: rec, closedBefore: out.contains { $0.call.hasPrefix("close()") }))
        }
        Glibc.close(readFD)
        for c in out { log.append(c) }
        return out
    }

    func call(from r: ChildRecord, closedBefore: Bool) -> RecordedCall {
        let text: String
        switch r.op {
        case 1: text = "close()"
        case 2: text = "shutdown(\(r.arg == Int32(SHUT_RD) ? "SHUT_RD" : r.arg == Int32(SHUT_WR) ? "SHUT_WR" : "SHUT_RDWR"))"
        case 4: text = "_exit(\(r.arg))" + (closedBefore ? "" : " without close()")
        default: text = "op \(r.op)"
        }
        return RecordedCall(time: Timestamp(nanoseconds: r.realtimeNanoseconds), durationNanoseconds: r.durationNanoseconds,
                            pid: r.pid, fd: socket.fd, local: socket.local, remote: socket.remote,
                            actor: actor, call: text + " [child pid \(r.pid)]", result: r.result,
                            errno: r.result < 0 ? errnoName(r.errnoValue) : nil, bytes: 0, kind: .other,
                            socket: socket.id)
    }
}

extension DriverSocket {
    /// fork(2): the child shares this socket (the open file's reference count goes up by one),
    /// runs `steps` on it, and ends with `_exit(0)` unless a step exits first.
    ///
    /// The fork itself is recorded in the parent as `fork() = <child pid>` on this socket. The
    /// child first closes every other descriptor it inherited (the listener, the capture, the
    /// peer's sockets in this same process): housekeeping, not recorded, so that this socket is
    /// the only thing the two processes share.
    public func fork(actor childActor: String, steps: [ChildStep]) throws -> ForkedChild {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw DriverError.call("pipe", errno) }
        let (readFD, writeFD) = (fds[0], fds[1])
        let ops = UnsafeMutablePointer<ChildOp>.allocate(capacity: steps.count + 1)
        defer { ops.deallocate() }
        for (i, s) in steps.enumerated() { ops[i] = s.raw }
        ops[steps.count] = ChildStep.exit(code: 0).raw
        let highest = DriverSocket.highestOpenFD() + 64
        let keep = fd
        let start = PacketClock.now(), t0 = monotonic()
        let pid = Glibc.fork()
        if pid == 0 {
            DriverSocket.childMain(ops: ops, keep: keep, pipeFD: writeFD, highestFD: highest)
        }
        let e = errno
        Glibc.close(writeFD)
        record("fork()", start: start, t0: t0, result: Int64(pid), err: e)
        guard pid > 0 else { Glibc.close(readFD); throw DriverError.call("fork", e) }
        return ForkedChild(pid: pid, readFD: readFD, socket: self, actor: childActor, log: log)
    }

    /// The child's whole life. Async-signal-safe calls only; no allocation, no locks.
    static func childMain(ops: UnsafeMutablePointer<ChildOp>, keep: Int32, pipeFD: Int32, highestFD: Int32) -> Never {
        var fd: Int32 = 3
        while fd <= highestFD {
            if fd != keep && fd != pipeFD { _ = Glibc.close(fd) }
            fd += 1
        }
        let me = getpid()
        var i = 0
        while true {
            let op = ops[i]
            var rec = ChildRecord()
            rec.op = op.op; rec.arg = op.arg; rec.pid = me
            var ts = timespec(), m0 = timespec(), m1 = timespec()
            clock_gettime(CLOCK_REALTIME, &ts)
            clock_gettime(CLOCK_MONOTONIC, &m0)
            rec.realtimeNanoseconds = Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec)
            switch op.op {
            case 1: rec.result = Int64(Glibc.close(keep))
            case 2: rec.result = Int64(Glibc.shutdown(keep, op.arg))
            case 3: _ = usleep(useconds_t(op.arg) * 1000); i += 1; continue
            default:
                withUnsafeBytes(of: &rec) { _ = Glibc.write(pipeFD, $0.baseAddress, $0.count) }
                _exit(op.arg)
            }
            rec.errnoValue = rec.result < 0 ? errno : 0
            clock_gettime(CLOCK_MONOTONIC, &m1)
            rec.durationNanoseconds = (Int64(m1.tv_sec) - Int64(m0.tv_sec)) &* 1_000_000_000 &+ (Int64(m1.tv_nsec) - Int64(m0.tv_nsec))
            withUnsafeBytes(of: &rec) { _ = Glibc.write(pipeFD, $0.baseAddress, $0.count) }
            i += 1
        }
    }

    /// The highest descriptor open in this process now (from /proc/self/fd), before a fork.
    static func highestOpenFD() -> Int32 {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return names.compactMap { Int32($0) }.max() ?? 1024
    }
}
