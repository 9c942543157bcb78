import Foundation
import TeardownCapture
import TeardownModel
import TeardownWire
#if canImport(Glibc)
import Glibc
#endif

/// A TCP socket whose every call is recorded with its time (CLOCK_REALTIME, the clock of the
/// packet timestamps), duration, arguments, result and errno name.
public final class DriverSocket {
    public let fd: Int32
    public let actor: String
    /// Unique per socket object within the process (fd numbers are reused).
    public let id: Int
    let log: CallLog
    public private(set) var local: Endpoint?
    public private(set) var remote: Endpoint?
    public private(set) var isClosed = false

    init(fd: Int32, actor: String, log: CallLog) {
        self.fd = fd; self.actor = actor; self.log = log
        self.id = DriverSocket.nextID.add()
    }

    private static let nextID = Counter()

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func add() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
    }

    /// socket(AF_INET or AF_INET6, SOCK_STREAM, 0).
    public static func tcp(actor: String, log: CallLog, ipv6: Bool = false) throws -> DriverSocket {
        let start = PacketClock.now(), t0 = monotonic()
        let fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw DriverError.call("socket", errno) }
        let s = DriverSocket(fd: fd, actor: actor, log: log)
        s.record("socket(\(ipv6 ? "AF_INET6" : "AF_INET"), SOCK_STREAM)", start: start, t0: t0, result: Int64(fd), err: 0)
        return s
    }

    @discardableResult
    func record(_ call: String, start: Timestamp, t0: Int64, result: Int64, err: Int32,
                kind: RecordedCall.Kind = .other, note: String? = nil) -> RecordedCall {
        let c = RecordedCall(time: start, durationNanoseconds: monotonic() - t0, pid: getpid(), fd: fd,
                             local: local, remote: remote, actor: actor, call: call + (note.map { " " + $0 } ?? ""),
                             result: result, errno: result < 0 ? errnoName(err) : nil,
                             bytes: result > 0 && (kind == .write || kind == .read || kind == .peek) ? result : 0, kind: kind,
                             socket: id)
        log.append(c)
        return c
    }

    /// Runs `body` (a raw syscall returning -1 on error), records it, retries EINTR.
    @discardableResult
    func call(_ text: String, kind: RecordedCall.Kind = .other, _ body: () -> Int) -> (result: Int, errno: Int32) {
        let start = PacketClock.now(), t0 = monotonic()
        let pipes = SigPipe.count
        var r: Int
        repeat { r = body() } while r < 0 && errno == EINTR
        let e = r < 0 ? errno : 0
        let raised = SigPipe.count != pipes
        record(text, start: start, t0: t0, result: Int64(r), err: e, kind: kind, note: raised ? "(SIGPIPE raised)" : nil)
        return (r, e)
    }

    func refreshAddresses() {
        local = DriverSocket.address(fd, peer: false)
        remote = DriverSocket.address(fd, peer: true)
    }

    static func address(_ fd: Int32, peer: Bool) -> Endpoint? {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { peer ? getpeername(fd, $0, &len) : getsockname(fd, $0, &len) }
        }
        guard rc == 0 else { return nil }
        return SocketAddress.endpoint(storage)
    }

    // MARK: - Options

    /// setsockopt(SO_LINGER, {onoff, seconds}) (socket(7)).
    public func setLinger(on: Bool, seconds: Int32) {
        var l = linger(l_onoff: on ? 1 : 0, l_linger: seconds)
        call("setsockopt(SO_LINGER, {\(on ? "on" : "off"), \(seconds) s})") {
            Int(setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size)))
        }
    }

    public func setReceiveBuffer(_ bytes: Int32) {
        var v = bytes
        call("setsockopt(SO_RCVBUF, \(bytes))") { Int(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, 4)) }
    }

    public func setSendBuffer(_ bytes: Int32) {
        var v = bytes
        call("setsockopt(SO_SNDBUF, \(bytes))") { Int(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, 4)) }
    }

    public func setReuseAddress() {
        var v: Int32 = 1
        call("setsockopt(SO_REUSEADDR, 1)") { Int(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &v, 4)) }
    }

    public func setNoDelay() {
        var v: Int32 = 1
        call("setsockopt(TCP_NODELAY, 1)") { Int(setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &v, 4)) }
    }

    /// SO_RCVTIMEO (socket(7)): a blocking read() gives up with EAGAIN after `ms`, as a
    /// server's keep-alive timeout does.
    public func setReceiveTimeout(ms: Int) {
        var tv = timeval(tv_sec: ms / 1000, tv_usec: (ms % 1000) * 1000)
        call("setsockopt(SO_RCVTIMEO, \(ms) ms)") { Int(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))) }
    }

    /// TCP_USER_TIMEOUT (tcp(7)): how long transmitted data may stay unacknowledged before the
    /// kernel gives the connection up with ETIMEDOUT.
    public func setUserTimeout(ms: UInt32) {
        var v = ms
        call("setsockopt(TCP_USER_TIMEOUT, \(ms) ms)") { Int(setsockopt(fd, Int32(IPPROTO_TCP), 18, &v, 4)) }   // TCP_USER_TIMEOUT = 18
    }

    /// TCP_DEFER_ACCEPT (tcp(7)) on a listener: the handshake's bare ACK is dropped and the
    /// connection is created only when data arrives (or after `seconds`).
    public func setDeferAccept(seconds: Int32) {
        var v = seconds
        call("setsockopt(TCP_DEFER_ACCEPT, \(seconds) s)") { Int(setsockopt(fd, Int32(IPPROTO_TCP), 9, &v, 4)) }   // TCP_DEFER_ACCEPT = 9
    }

    /// O_NONBLOCK on or off (fcntl(2)).
    public func setNonBlocking(_ on: Bool) {
        let flags = fcntl(fd, F_GETFL)
        call("fcntl(O_NONBLOCK \(on ? "on" : "off"))") { Int(fcntl(fd, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK)) }
    }

    // MARK: - Connection

    public func bind(_ ep: Endpoint) throws {
        let r = SocketAddress.withSockaddr(ep) { sa, len in call("bind(\(ep))") { Int(Glibc.bind(fd, sa, len)) } }
        if r.result != 0 { throw DriverError.call("bind \(ep)", r.errno) }
        refreshAddresses()
    }

    public func listen(backlog: Int32 = 16) throws {
        let r = call("listen(\(backlog))") { Int(Glibc.listen(fd, backlog)) }
        if r.result != 0 { throw DriverError.call("listen", r.errno) }
    }

    /// accept(2); the new socket belongs to the same actor.
    public func accept() throws -> DriverSocket {
        let start = PacketClock.now(), t0 = monotonic()
        var r: Int32
        repeat { r = Glibc.accept(fd, nil, nil) } while r < 0 && errno == EINTR
        let e = errno
        if r < 0 {
            record("accept()", start: start, t0: t0, result: Int64(r), err: e)
            throw DriverError.call("accept", e)
        }
        let s = DriverSocket(fd: r, actor: actor, log: log)
        s.refreshAddresses()
        s.record("accept()", start: start, t0: t0, result: Int64(r), err: 0)
        return s
    }

    /// connect(2); returns the errno name on failure (ECONNREFUSED is an outcome, not an error).
    @discardableResult
    public func connect(_ ep: Endpoint) -> String? {
        let r = SocketAddress.withSockaddr(ep) { sa, len -> (Int, Int32) in
            let start = PacketClock.now(), t0 = monotonic()
            var rc: Int32
            repeat { rc = Glibc.connect(fd, sa, len) } while rc < 0 && errno == EINTR
            let e = rc < 0 ? errno : 0
            refreshAddresses()
            if remote == nil && rc != 0 { remote = ep }
            record("connect(\(ep))", start: start, t0: t0, result: Int64(rc), err: e)
            return (Int(rc), e)
        }
        return r.0 == 0 ? nil : errnoName(r.1)
    }

    /// connect(2) where failing to connect means the experiment cannot go on.
    public func connectOrFail(_ ep: Endpoint) throws {
        if let e = connect(ep) { throw DriverError.setup("connect failed: \(e)") }
    }

    // MARK: - Data

    /// One write(2) of `count` bytes of `pattern`; returns bytes written or -1 (errno in `lastErrno`).
    @discardableResult
    public func write(count: Int, pattern: [UInt8] = Array("hel".utf8)) -> Int {
        let data = DriverSocket.fill(count, pattern)
        let r = call("write(\(count))", kind: .write) { data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, count) } }
        lastErrno = r.errno
        return r.result
    }

    /// write(2) in a loop until `count` bytes are written or a call fails; each call is recorded.
    @discardableResult
    public func writeAll(count: Int, pattern: [UInt8] = Array("hel".utf8)) -> Int {
        var done = 0
        while done < count {
            let n = write(count: count - done, pattern: pattern)
            if n <= 0 { break }
            done += n
        }
        return done
    }

    public private(set) var lastErrno: Int32 = 0

    /// One read(2) of up to `max` bytes: the byte count, 0 at EOF, or -1.
    @discardableResult
    public func read(max: Int = 65536) -> Int {
        var buf = [UInt8](repeating: 0, count: max)
        let r = call("read(\(max))", kind: .read) { buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, max) } }
        lastErrno = r.errno
        return r.result
    }

    /// Reads until EOF or an error; returns total bytes and the final result (0 or -1).
    @discardableResult
    public func readToEnd(chunk: Int = 65536) -> (bytes: Int, last: Int) {
        var total = 0
        while true {
            let n = read(max: chunk)
            if n <= 0 { return (total, n) }
            total += n
        }
    }

    /// recv(MSG_PEEK [| MSG_DONTWAIT]) (recv(2)): looks without consuming.
    @discardableResult
    public func peek(max: Int = 1024, dontWait: Bool = true) -> Int {
        var buf = [UInt8](repeating: 0, count: max)
        let flags = Int32(MSG_PEEK) | (dontWait ? Int32(MSG_DONTWAIT) : 0)
        let r = call("recv(\(max), MSG_PEEK\(dontWait ? "|MSG_DONTWAIT" : ""))", kind: .peek) {
            buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, max, flags) }
        }
        lastErrno = r.errno
        return r.result
    }

    public enum ShutdownHow: String { case read = "SHUT_RD", write = "SHUT_WR", both = "SHUT_RDWR" }

    @discardableResult
    public func shutdown(_ how: ShutdownHow) -> Int {
        let h: Int32 = how == .read ? Int32(SHUT_RD) : how == .write ? Int32(SHUT_WR) : Int32(SHUT_RDWR)
        let r = call("shutdown(\(how.rawValue))") { Int(Glibc.shutdown(fd, h)) }
        lastErrno = r.errno
        return r.result
    }

    /// close(2); returns the result and how long it took (SO_LINGER can make it block).
    @discardableResult
    public func close() -> (result: Int, nanoseconds: Int64, errno: String?) {
        let t0 = monotonic()
        let r = call("close()") { Int(Glibc.close(fd)) }
        isClosed = true
        return (r.result, monotonic() - t0, r.result < 0 ? errnoName(r.errno) : nil)
    }

    /// Bytes waiting in the receive queue (SIOCINQ) and not yet sent in the send queue (SIOCOUTQ), tcp(7).
    public func queues() -> (receive: Int32, send: Int32) {
        var inq: Int32 = 0, outq: Int32 = 0
        _ = ioctl(fd, UInt(0x541B), &inq)    // SIOCINQ = FIONREAD
        _ = ioctl(fd, UInt(0x5411), &outq)   // SIOCOUTQ = TIOCOUTQ
        return (inq, outq)
    }

    static func fill(_ count: Int, _ pattern: [UInt8]) -> [UInt8] {
        guard !pattern.isEmpty else { return [UInt8](repeating: 0, count: count) }
        var out = [UInt8]()
        out.reserveCapacity(count)
        while out.count < count { out.append(contentsOf: pattern.prefix(count - out.count)) }
        return out
    }
}
