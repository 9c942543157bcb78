import TeardownModel
import TeardownWire

/// A traced program's socket calls, read from strace's output, as the records `run` makes of
/// the driver's (`RecordedCall`): the calls on TCP sockets, each with its time (strace's
/// absolute timestamp, CLOCK_REALTIME, the clock of pcap), duration, process, descriptor, the
/// socket's addresses (`-yy`), result, errno and bytes moved.
///
/// Calls a thread left `<unfinished ...>` are joined with their `<... resumed>` half and take
/// the time they began. A call on a descriptor strace did not show as TCP (a file, a pipe, a UDP
/// socket) is left out. Threads are folded into their process (a `clone` with CLONE_THREAD), so
/// that `pid` names the process, whose descriptor table the threads share.
public struct StraceReader {
    public private(set) var calls: [RecordedCall] = []
    /// How each process or thread ended, by the id strace printed.
    public private(set) var ends: [Int32: ProcessEnd] = [:]
    /// The first process in the output: the program strace started, or the one it attached to.
    public private(set) var firstPid: Int32?
    /// Lines read, and those that were not strace's syscall, signal or exit lines.
    public private(set) var lineCount = 0
    public private(set) var unreadLines = 0
    /// Calls begun and never finished (the process was killed inside one, or the file ends).
    public var unfinishedCalls: Int { pending.count }

    /// How a traced process ended.
    public enum ProcessEnd: Equatable, Sendable {
        case exited(Int32)
        case killed(String)
    }

    private struct Pending { var time: Timestamp; var name: String; var head: [UInt8] }
    private var pending: [Int32: Pending] = [:]
    private var lines: [(Int32, Timestamp, StraceLine.Call)] = []
    /// A thread's process: the thread that made it with CLONE_THREAD (followed to the root).
    private var threadOf: [Int32: Int32] = [:]
    /// (process, descriptor) -> socket id, while the descriptor is open.
    private var sockets: [DescriptorKey: Int] = [:]
    private var nextSocket = 1
    /// The program each process last exec'd: the calls' `actor`.
    private var programs: [Int32: String] = [:]

    private struct DescriptorKey: Hashable { var pid: Int32; var fd: Int32 }
    /// The last `-yy` annotation of each open TCP descriptor: the addresses of a readiness event,
    /// whose line names only the descriptor's number.
    private var annotations: [DescriptorKey: String] = [:]
    /// epoll_ctl's registrations: (process, epoll descriptor, the event's data) -> the descriptor.
    private var registered: [EpollKey: Int32] = [:]
    private struct EpollKey: Hashable { var pid: Int32; var epoll: Int32; var data: String }

    public init() {}

    /// Reads strace's whole output: lines separated by newlines.
    public static func read<Bytes: Collection>(_ text: Bytes) -> StraceReader where Bytes.Element == UInt8 {
        var r = StraceReader()
        var line: [UInt8] = []
        for b in text {
            if b == 0x0a { r.feed(line); line.removeAll(keepingCapacity: true) } else { line.append(b) }
        }
        if !line.isEmpty { r.feed(line) }
        r.finish()
        return r
    }

    /// Takes one line. Calls are made into records by `finish()`, once every line is in: a
    /// thread's calls can come before the `clone` that made it has returned in the output.
    public mutating func feed<Bytes: Collection>(_ line: Bytes) where Bytes.Element == UInt8 {
        lineCount += 1
        guard let parsed = StraceLine.parse(line) else {
            if !line.isEmpty { unreadLines += 1 }
            return
        }
        switch parsed {
        case let .call(pid, time, call):
            see(pid)
            lines.append((pid, time, call))
        case let .unfinished(pid, time, name, head):
            see(pid)
            pending[pid] = Pending(time: time, name: name, head: head)
        case let .resumed(pid, _, name, tail):
            see(pid)
            guard let p = pending[pid], p.name == name else { unreadLines += 1; return }
            pending[pid] = nil
            guard var call = StraceLine.parseCall(p.head + tail) else { unreadLines += 1; return }
            call.name = name
            lines.append((pid, p.time, call))
        case let .signal(pid, _, _):
            see(pid)
        case let .exited(pid, _, status):
            see(pid)
            ends[pid] = .exited(status)
        case let .killed(pid, _, signal):
            see(pid)
            ends[pid] = .killed(signal)
        }
    }

    private mutating func see(_ pid: Int32) { if firstPid == nil { firstPid = pid } }

    /// Makes the records of the calls read, in the order made.
    public mutating func finish() {
        for (pid, _, call) in lines where ["clone", "clone3"].contains(call.name) {
            guard let child = call.result, child > 0, let c = Int32(exactly: child) else { continue }
            let flags = call.arguments.joined(separator: ",")
            if flags.contains("CLONE_THREAD") { threadOf[c] = pid }
        }
        for (tid, time, call) in lines { record(tid: tid, time: time, call) }
        lines.removeAll()
        calls.sort { $0.time < $1.time }
    }

    /// The process a thread belongs to.
    func process(_ tid: Int32) -> Int32 {
        var p = tid
        var hops = 0
        while let parent = threadOf[p], parent != p, hops < 10_000 { p = parent; hops += 1 }
        return p
    }

    private mutating func record(tid: Int32, time: Timestamp, _ c: StraceLine.Call) {
        let pid = process(tid)
        let name = c.name
        let failed = (c.result ?? -1) < 0
        switch name {
        case "execve", "execveat":
            if !failed, let path = c.arguments.first.flatMap(Self.unquoted) {
                programs[pid] = String(path.split(separator: "/").last ?? Substring(path))
            }
            return
        case "clone", "clone3", "fork", "vfork":
            if let child = c.result, child > 0, let ch = Int32(exactly: child), threadOf[ch] == nil,
               let program = programs[pid] {
                programs[ch] = program
            }
            return
        case "epoll_ctl":
            registerEpoll(pid: pid, c)
            return
        case "poll", "ppoll", "epoll_wait", "epoll_pwait", "epoll_pwait2":
            readiness(pid: pid, time: time, c)
            return
        case "dup", "dup2", "dup3":
            guard let old = c.arguments.first.flatMap(Self.descriptor), Self.isTCP(old.annotation),
                  let r = c.result, let new = Int32(exactly: r), new >= 0 else { return }
            sockets[DescriptorKey(pid: pid, fd: new)] = socketID(pid: pid, fd: old.fd, fresh: false)
            return
        default: break
        }
        // Which descriptor the call is about, and whether it is a TCP socket.
        var target: (fd: Int32, annotation: String?)?
        var fresh = false
        switch name {
        case "socket":
            guard let r = c.result, let fd = Int32(exactly: r), fd >= 0 else { return }
            target = (fd, c.resultAnnotation)
            fresh = true
        case "accept", "accept4":
            if let r = c.result, let fd = Int32(exactly: r), fd >= 0 {
                target = (fd, c.resultAnnotation)
                fresh = true
            } else {
                target = c.arguments.first.flatMap(Self.descriptor)
            }
        case "sendfile":
            target = c.arguments.first.flatMap(Self.descriptor)
        case "splice":
            let output = c.arguments.count > 2 ? Self.descriptor(c.arguments[2]) : nil
            target = Self.isTCP(output?.annotation) ? output : c.arguments.first.flatMap(Self.descriptor)
        default:
            guard Self.described[name] != nil else { return }
            target = c.arguments.first.flatMap(Self.descriptor)
        }
        guard let (fd, annotation) = target, Self.isTCP(annotation) else { return }
        guard let (text, kind) = describe(c, fd: fd) else { return }
        let socket = socketID(pid: pid, fd: fd, fresh: fresh)
        let (local, remote) = Self.addresses(annotation)
        let result = c.result ?? -1
        let bytes: Int64 = (kind == .other || result < 0) ? 0 : result
        calls.append(RecordedCall(time: time, durationNanoseconds: max(0, c.durationNanoseconds ?? 0), pid: pid, fd: fd,
                                  local: local, remote: remote, actor: programs[pid] ?? "pid \(pid)", call: text,
                                  result: result, errno: c.errno ?? (c.result == nil ? "?" : nil), bytes: bytes, kind: kind,
                                  socket: socket))
        let key = DescriptorKey(pid: pid, fd: fd)
        if name == "close" { sockets[key] = nil; annotations[key] = nil } else { annotations[key] = annotation }
    }

    /// The readiness a peer's close or an error causes: `POLLRDHUP`, `POLLHUP`, `POLLERR` and
    /// their `EPOLL` names. Plain readability (`POLLIN`) is left out: it is data as often as a FIN.
    static func revealsClose(_ events: String) -> Bool {
        events.split(separator: "|").contains { ["POLLRDHUP", "POLLHUP", "POLLERR", "EPOLLRDHUP", "EPOLLHUP", "EPOLLERR"].contains(String($0)) }
    }

    /// `epoll_ctl(6<anon_inode:[eventpoll]>, EPOLL_CTL_ADD, 5<TCP:[...]>, {events=EPOLLIN, data={u32=5, u64=5}})`:
    /// which descriptor the data of a later epoll_wait event names.
    private mutating func registerEpoll(pid: Int32, _ c: StraceLine.Call) {
        guard c.result == 0, c.arguments.count >= 4, let ep = Self.descriptor(c.arguments[0]),
              let target = Self.descriptor(c.arguments[2]) else { return }
        let op = c.arguments[1]
        let data = Self.field("data", in: c.arguments[3]) ?? ""
        if op == "EPOLL_CTL_DEL" {
            registered = registered.filter { !($0.key.pid == pid && $0.key.epoll == ep.fd && $0.value == target.fd) }
        } else if Self.isTCP(target.annotation) {
            registered[EpollKey(pid: pid, epoll: ep.fd, data: data)] = target.fd
        }
    }

    /// poll/ppoll (`= 1 ([{fd=5, revents=POLLIN|POLLRDHUP}])`) and epoll_wait (`[{events=EPOLLIN|EPOLLRDHUP,
    /// data={u32=5, u64=5}}]`): a row for each TCP descriptor whose readiness reveals a close.
    private mutating func readiness(pid: Int32, time: Timestamp, _ c: StraceLine.Call) {
        guard let result = c.result, result > 0 else { return }
        let isEpoll = c.name.hasPrefix("epoll")
        let list = isEpoll ? (c.arguments.count > 1 ? c.arguments[1] : "") : (c.resultDetail ?? "")
        for element in Self.elements(list) {
            let events = Self.field(isEpoll ? "events" : "revents", in: element) ?? ""
            guard Self.revealsClose(events) else { continue }
            var fd: Int32?
            if isEpoll {
                if let ep = c.arguments.first.flatMap(Self.descriptor), let data = Self.field("data", in: element) {
                    fd = registered[EpollKey(pid: pid, epoll: ep.fd, data: data)]
                }
            } else {
                fd = Self.field("fd", in: element).flatMap(Self.descriptor)?.fd
            }
            guard let fd, let annotation = annotations[DescriptorKey(pid: pid, fd: fd)], Self.isTCP(annotation) else { continue }
            let (local, remote) = Self.addresses(annotation)
            calls.append(RecordedCall(time: time, durationNanoseconds: max(0, c.durationNanoseconds ?? 0), pid: pid, fd: fd,
                                      local: local, remote: remote, actor: programs[pid] ?? "pid \(pid)",
                                      call: "\(c.name)(\(Self.short(events)))", result: result, errno: nil, bytes: 0, kind: .other,
                                      socket: socketID(pid: pid, fd: fd, fresh: false)))
        }
    }

    /// `[{a}, {b}]` -> the elements' insides, `a` and `b`.
    static func elements(_ list: String) -> [String] {
        guard list.hasPrefix("["), list.hasSuffix("]"), list.count >= 2 else { return [] }
        let inner = Array(list.dropFirst().dropLast().utf8) + [UInt8(ascii: ")")]
        guard let (parts, _) = StraceLine.splitArguments(inner, from: 0) else { return [] }
        return parts.compactMap { p in
            guard p.hasPrefix("{"), p.hasSuffix("}"), p.count >= 2 else { return nil }
            return String(p.dropFirst().dropLast())
        }
    }

    /// The value of `key=` among an element's top-level fields (`fd=5<TCP:[...]>, events=POLLIN`).
    static func field(_ key: String, in element: String) -> String? {
        var inner = element
        if inner.hasPrefix("{") && inner.hasSuffix("}") && inner.count >= 2 { inner = String(inner.dropFirst().dropLast()) }
        guard let (parts, _) = StraceLine.splitArguments(Array(inner.utf8) + [UInt8(ascii: ")")], from: 0) else { return nil }
        for p in parts where p.hasPrefix(key + "=") { return String(p.dropFirst(key.count + 1)) }
        return nil
    }

    /// The socket behind (pid, fd): a new one for a descriptor just made, else the one
    /// recorded, else a new one (opened before the trace began, or by a call not traced).
    private mutating func socketID(pid: Int32, fd: Int32, fresh: Bool) -> Int {
        let key = DescriptorKey(pid: pid, fd: fd)
        if !fresh, let s = sockets[key] { return s }
        let s = nextSocket
        nextSocket += 1
        sockets[key] = s
        return s
    }

    /// The calls recorded with the descriptor as their first argument, and the kind each is.
    static let described: [String: RecordedCall.Kind] = [
        "connect": .other, "bind": .other, "listen": .other, "setsockopt": .other, "getsockopt": .other,
        "shutdown": .other, "close": .other,
        "read": .read, "readv": .read, "recvfrom": .read, "recvmsg": .read,
        "write": .write, "writev": .write, "sendto": .write, "sendmsg": .write,
    ]

    /// The call as the timeline shows it, in the driver's words where it has them
    /// (`write(30000)`, `setsockopt(SO_LINGER, {on, 0 s})`, `shutdown(SHUT_WR)`, `close()`).
    func describe(_ c: StraceLine.Call, fd: Int32) -> (String, RecordedCall.Kind)? {
        let a = c.arguments
        func arg(_ i: Int) -> String { i < a.count ? Self.short(a[i]) : "?" }
        switch c.name {
        case "socket":
            return ("socket(\(arg(0)), \(arg(1)))", .other)
        case "accept", "accept4":
            return ("\(c.name)()", .other)
        case "connect", "bind":
            return ("\(c.name)(\(a.count > 1 ? Self.sockaddr(a[1]) ?? Self.short(a[1]) : "?"))", .other)
        case "listen":
            return ("listen(\(arg(1)))", .other)
        case "setsockopt":
            return ("setsockopt(\(arg(2)), \(a.count > 3 ? Self.optionValue(a[3]) : "?"))", .other)
        case "getsockopt":
            return ("getsockopt(\(arg(2)), \(a.count > 3 ? Self.optionValue(a[3]) : "?"))", .other)
        case "shutdown":
            return ("shutdown(\(arg(1)))", .other)
        case "close":
            return ("close()", .other)
        case "read", "write":
            return ("\(c.name)(\(arg(2)))", c.name == "read" ? .read : .write)
        case "readv", "writev":
            return ("\(c.name)(\(arg(2)) iov)", c.name == "readv" ? .read : .write)
        case "recvfrom", "sendto":
            let flags = arg(3)
            let peek = c.name == "recvfrom" && flags.contains("MSG_PEEK")
            return ("\(c.name)(\(arg(2))\(flags == "0" ? "" : ", " + flags))", peek ? .peek : c.name == "recvfrom" ? .read : .write)
        case "recvmsg", "sendmsg":
            let flags = arg(2)
            let peek = c.name == "recvmsg" && flags.contains("MSG_PEEK")
            return ("\(c.name)(\(flags == "0" ? "" : flags))", peek ? .peek : c.name == "recvmsg" ? .read : .write)
        case "sendfile":
            return ("sendfile(\(arg(3)))", .write)
        case "splice":
            let output = a.count > 2 ? Self.descriptor(a[2]) : nil
            let writes = output?.fd == fd && isTCP(output?.annotation)
            return ("splice(\(arg(4)))", writes ? .write : .read)
        default:
            return nil
        }
    }

    func isTCP(_ annotation: String?) -> Bool { Self.isTCP(annotation) }

    /// `TCP:[...]` or `TCPv6:[...]`: what `-yy` shows for a TCP socket.
    static func isTCP(_ annotation: String?) -> Bool {
        guard let a = annotation else { return false }
        return a.hasPrefix("TCP:[") || a.hasPrefix("TCPv6:[")
    }

    /// `3<TCP:[127.0.0.1:40000->127.0.0.1:8000]>` -> (3, "TCP:[...]"); a bare `3` -> (3, nil).
    static func descriptor(_ arg: String) -> (fd: Int32, annotation: String?)? {
        let u = Array(arg.utf8)
        let digits = u.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        guard let n = StraceLine.parseInt(digits), let fd = Int32(exactly: n) else { return nil }
        let rest = u.dropFirst(digits.count)
        guard rest.first == UInt8(ascii: "<"), rest.last == UInt8(ascii: ">"), rest.count >= 2 else { return rest.isEmpty ? (fd, nil) : nil }
        return (fd, String(decoding: rest.dropFirst().dropLast(), as: UTF8.self))
    }

    /// The socket's own address and its peer's from its annotation: `TCP:[l->r]` both,
    /// `TCP:[l]` (bound or listening) the local one, `TCP:[inode]` neither. IPv4 addresses
    /// mapped into IPv6 (`[::ffff:127.0.0.1]`) are given as IPv4, as the packets carry them.
    static func addresses(_ annotation: String?) -> (Endpoint?, Endpoint?) {
        guard let a = annotation, let open = a.firstIndex(of: "["), a.hasSuffix("]") else { return (nil, nil) }
        let inner = a[a.index(after: open)..<a.index(before: a.endIndex)]
        guard let arrow = inner.firstRange(of: "->") else { return (endpoint(inner), nil) }
        return (endpoint(inner[..<arrow.lowerBound]), endpoint(inner[arrow.upperBound...]))
    }

    /// `127.0.0.1:80`, `[::1]:80`.
    static func endpoint(_ s: Substring) -> Endpoint? {
        guard let colon = s.lastIndex(of: ":"), let port = UInt16(s[s.index(after: colon)...]) else { return nil }
        var host = s[..<colon]
        if host.hasPrefix("[") && host.hasSuffix("]") && host.count >= 2 { host = host.dropFirst().dropLast() }
        guard let address = IPAddress(String(host)) else { return nil }
        return Endpoint(address: unmapped(address), port: port)
    }

    static func unmapped(_ a: IPAddress) -> IPAddress {
        guard a.isIPv6, a.high == 0, a.low >> 32 == 0xffff else { return a }
        return IPAddress(ipv4: UInt32(truncatingIfNeeded: a.low))
    }

    /// `{sa_family=AF_INET, sin_port=htons(8000), sin_addr=inet_addr("127.0.0.1")}` -> `127.0.0.1:8000`;
    /// AF_INET6 (`inet_pton(AF_INET6, "::1", &sin6_addr)`) -> `[::1]:8000`.
    static func sockaddr(_ s: String) -> String? {
        guard let portStart = s.firstRange(of: "_port=htons(") else { return nil }
        let afterPort = s[portStart.upperBound...]
        guard let close = afterPort.firstIndex(of: ")"), let port = UInt16(afterPort[..<close]) else { return nil }
        if let a = s.firstRange(of: "inet_addr(\"") {
            let rest = s[a.upperBound...]
            guard let q = rest.firstIndex(of: "\"") else { return nil }
            return "\(rest[..<q]):\(port)"
        }
        if let a = s.firstRange(of: "inet_pton(AF_INET6, \"") {
            let rest = s[a.upperBound...]
            guard let q = rest.firstIndex(of: "\"") else { return nil }
            return "[\(rest[..<q])]:\(port)"
        }
        return nil
    }

    /// A socket option's value as the driver writes it: `{l_onoff=1, l_linger=0}` ->
    /// `{on, 0 s}`, `[1]` -> `1`.
    static func optionValue(_ s: String) -> String {
        if s.hasPrefix("{l_onoff="), let comma = s.firstIndex(of: ","), let eq = s.lastIndex(of: "="), s.hasSuffix("}") {
            let on = s[s.index(s.startIndex, offsetBy: 9)..<comma]
            let seconds = s[s.index(after: eq)..<s.index(before: s.endIndex)]
            return "{\(on == "0" ? "off" : "on"), \(short(String(seconds))) s}"
        }
        if s.hasPrefix("["), s.hasSuffix("]"), s.count >= 2 { return short(String(s.dropFirst().dropLast())) }
        return short(s)
    }

    /// An argument cut to 40 characters (a string's bytes are not the timeline's business).
    static func short(_ s: String) -> String {
        s.count <= 40 ? s : String(s.prefix(39)) + "…"
    }

    /// `"/usr/bin/curl"` -> `/usr/bin/curl`.
    static func unquoted(_ s: String) -> String? {
        guard s.hasPrefix("\""), s.count >= 2 else { return nil }
        var inner = s.dropFirst()
        if let q = inner.lastIndex(of: "\"") { inner = inner[..<q] }
        return String(inner)
    }
}
