import Synchronization
import TeardownKernel
import TeardownWire
#if canImport(Glibc)
import Glibc
#endif

/// Why the kernel lane cannot be recorded: one line for the user, saying what is missing and why.
public struct KernelTraceUnavailable: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// A private tracefs instance recording the tracepoints of how connections end:
/// tcp:tcp_send_reset, tcp:tcp_receive_reset, sock:inet_sock_set_state and
/// sock:inet_sk_error_report. Needs root. The instance (`instances/teardown-PID-N`) has its own
/// ring buffers and events, so other tracing on the machine is left alone; it is removed when the
/// session stops, on SIGINT, SIGTERM or SIGHUP, and (if a crash left it) by the next session.
///
/// The instance's `trace_clock` is `mono` (CLOCK_MONOTONIC, ktime_get_mono_fast_ns): its times
/// become packet times (CLOCK_REALTIME, the clock of pcap timestamps) by adding the difference
/// of the two clocks, measured by reading MONOTONIC, REALTIME, MONOTONIC and keeping the
/// tightest of several brackets. Each CPU's buffer is read from `per_cpu/cpuN/trace_pipe_raw`,
/// a ring-buffer page at a time (`TracePage`), on a thread of its own.
public final class KernelTrace: @unchecked Sendable {
    public static let events: [KernelEventName] = [.sendReset, .receiveReset, .stateChange, .errorReport]

    let instance: String
    let header: TracePage.Header
    let decoder: KernelRecordDecoder
    let fds: [Int32]
    let offset: (value: Int64, uncertainty: Int64)
    let stopping = Atomic<Bool>(false)
    var thread: pthread_t?
    // Filled by the reader thread, read after it has been joined.
    var events: [KernelEvent] = []
    var recordErrors: [KernelRecordError] = []
    var pageErrors: [TracePageError] = []
    var pagesAfterLoss = 0
    let missing: [String]
    let formatErrors: [(file: String, error: TraceFormatError)]

    /// Where tracefs is: mounted at /sys/kernel/tracing (mounting it there if it is not), or the
    /// older /sys/kernel/debug/tracing.
    static func tracefsRoot() throws(KernelTraceUnavailable) -> String {
        let standard = "/sys/kernel/tracing"
        if access(standard + "/instances", F_OK) == 0 { return standard }
        if mount("nodev", standard, "tracefs", 0, nil) == 0, access(standard + "/instances", F_OK) == 0 { return standard }
        let mountErrno = errno
        if access("/sys/kernel/debug/tracing/instances", F_OK) == 0 { return "/sys/kernel/debug/tracing" }
        throw KernelTraceUnavailable("no tracefs: /sys/kernel/tracing is not mounted and mounting it failed (\(String(cString: strerror(mountErrno))))")
    }

    /// Starts a session, or says in one line why it cannot.
    public static func start() -> Result<KernelTrace, KernelTraceUnavailable> {
        guard geteuid() == 0 else {
            return .failure(KernelTraceUnavailable("not root: the kernel's events (tracefs) need root"))
        }
        do {
            return .success(try KernelTrace())
        } catch {
            return .failure(error)
        }
    }

    private init() throws(KernelTraceUnavailable) {
        let root = try Self.tracefsRoot()
        Self.removeStaleInstances(root + "/instances")
        let name = "teardown-\(getpid())-\(Self.sequence.add(1, ordering: .relaxed).newValue)"
        let path = root + "/instances/" + name
        if mkdir(path, 0o750) != 0 {
            let e = errno
            throw KernelTraceUnavailable("cannot create the tracefs instance \(path): \(String(cString: strerror(e)))"
                                         + (e == EROFS ? " (tracefs is read-only)" : e == EBUSY ? " (tracefs is busy)" : ""))
        }
        instance = path
        var ok = false
        defer { if !ok { rmdir(path) } }
        guard let headerText = Self.read(path + "/events/header_page"), let header = TracePage.Header.parse(headerText) else {
            throw KernelTraceUnavailable("\(path)/events/header_page: not a ring-buffer page header teardown can read")
        }
        self.header = header
        var formats: [TraceEventFormat] = []
        var missing: [String] = []
        var formatErrors: [(file: String, error: TraceFormatError)] = []
        for event in Self.events {
            let file = "\(path)/events/\(event.group)/\(event.rawValue)/format"
            guard let text = Self.read(file) else { missing.append("\(event.group):\(event.rawValue)"); continue }
            switch TraceEventFormat.parse(text) {
            case .success(let f): formats.append(f)
            case .failure(let e): formatErrors.append((file, e))
            }
        }
        let decoder = KernelRecordDecoder(formats: formats)
        self.decoder = decoder
        self.missing = missing
        self.formatErrors = formatErrors
        guard !decoder.events.isEmpty else {
            throw KernelTraceUnavailable(missing.count == Self.events.count
                ? "this kernel has none of the tracepoints \(missing.joined(separator: ", ")) (they came in Linux 4.15-5.15)"
                : "no event format of this kernel could be read")
        }
        if let e = Self.write("mono", to: path + "/trace_clock") {
            throw KernelTraceUnavailable("cannot set \(path)/trace_clock to mono: \(String(cString: strerror(e)))")
        }
        _ = Self.write("1024", to: path + "/buffer_size_kb")
        for event in decoder.events {
            if let e = Self.write("1", to: "\(path)/events/\(event.group)/\(event.rawValue)/enable") {
                throw KernelTraceUnavailable("cannot enable \(event.group):\(event.rawValue): \(String(cString: strerror(e)))")
            }
        }
        var fds: [Int32] = []
        let cpus = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_CONF))))
        for cpu in 0..<cpus {
            let fd = open("\(path)/per_cpu/cpu\(cpu)/trace_pipe_raw", O_RDONLY | O_NONBLOCK | O_CLOEXEC)
            if fd >= 0 { fds.append(fd) }
        }
        guard !fds.isEmpty else {
            throw KernelTraceUnavailable("cannot open \(path)/per_cpu/cpu*/trace_pipe_raw: \(String(cString: strerror(errno)))")
        }
        self.fds = fds
        offset = Self.clockOffset()
        _ = Self.write("1", to: path + "/tracing_on")
        Cleanup.register(path: path, fds: fds)
        ok = true
        let box = Unmanaged.passRetained(self).toOpaque()
        var tid = pthread_t()
        if pthread_create(&tid, nil, { p in
            let trace = Unmanaged<KernelTrace>.fromOpaque(p!).takeRetainedValue()
            trace.readLoop()
            return nil
        }, box) == 0 {
            thread = tid
        } else {
            Unmanaged<KernelTrace>.fromOpaque(box).release()
        }
    }

    /// Stops the session: tracing off, the buffers drained, the instance removed. The events are
    /// on the packet clock.
    public func stop() -> KernelRecording {
        _ = Self.write("0", to: instance + "/tracing_on")
        stopping.store(true, ordering: .releasing)
        if let thread { pthread_join(thread, nil) } else { readLoop() }
        let end = Self.clockOffset()
        for fd in fds { close(fd) }
        rmdir(instance)
        Cleanup.clear()
        let moved = events.map { e -> KernelEvent in
            var e = e
            e.time = Timestamp(nanoseconds: e.time.nanoseconds &+ offset.value)
            return e
        }
        return KernelRecording(events: moved, tracesEveryReset: decoder.tracesEveryReset, clock: "mono",
                               offsetNanoseconds: offset.value, offsetUncertaintyNanoseconds: offset.uncertainty,
                               driftNanoseconds: end.value &- offset.value, pagesAfterLoss: pagesAfterLoss,
                               recordErrors: recordErrors, pageErrors: pageErrors, missing: missing,
                               layoutErrors: decoder.unusable, formatErrors: formatErrors)
    }

    /// Reads every CPU's pages until stopped, then what is left.
    func readLoop() {
        let page = UnsafeMutableRawBufferPointer.allocate(byteCount: header.pageSize, alignment: 8)
        defer { page.deallocate() }
        var polls = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        while true {
            let last = stopping.load(ordering: .acquiring)
            var any = true
            // Read each buffer until it is empty; after the stop, until every one is.
            while any {
                any = false
                for fd in fds {
                    let n = Glibc.read(fd, page.baseAddress, page.count)
                    guard n > 0 else { continue }
                    any = true
                    take(UnsafeRawBufferPointer(rebasing: page[0..<n]))
                }
            }
            if last { return }
            _ = poll(&polls, nfds_t(polls.count), 20)
        }
    }

    func take(_ page: UnsafeRawBufferPointer) {
        let summary = TracePage.records(in: page, header: header) { time, record in
            switch decoder.decode(record, time: Timestamp(nanoseconds: Int64(truncatingIfNeeded: time))) {
            case .success(let e): events.append(e)
            case .failure(let e): if recordErrors.count < 100 { recordErrors.append(e) }
            }
        }
        if summary.missedEvents { pagesAfterLoss += 1 }
        if let e = summary.error, pageErrors.count < 100 { pageErrors.append(e) }
    }

    // MARK: Clocks and files

    /// CLOCK_REALTIME − CLOCK_MONOTONIC from the tightest of 16 brackets MONOTONIC, REALTIME,
    /// MONOTONIC, and half that bracket's width.
    static func clockOffset() -> (value: Int64, uncertainty: Int64) {
        func now(_ clock: clockid_t) -> Int64 {
            var ts = timespec()
            clock_gettime(clock, &ts)
            return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
        }
        var best: (value: Int64, width: Int64) = (0, .max)
        for _ in 0..<16 {
            let a = now(CLOCK_MONOTONIC), r = now(CLOCK_REALTIME), b = now(CLOCK_MONOTONIC)
            if b - a < best.width { best = (r - (a + (b - a) / 2), b - a) }
        }
        return (best.value, best.width / 2)
    }

    static let sequence = Atomic<Int>(0)

    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 1 << 20 {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes `text` to a tracefs file; the errno on failure.
    static func write(_ text: String, to path: String) -> Int32? {
        let fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        return n == bytes.count ? nil : errno
    }

    /// Removes instances a session of a process that no longer exists left behind (a crash).
    static func removeStaleInstances(_ dir: String) {
        guard let d = opendir(dir) else { return }
        defer { closedir(d) }
        while let entry = readdir(d) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            let parts = name.split(separator: "-")
            guard parts.count == 3, parts[0] == "teardown", let pid = pid_t(parts[1]), pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { rmdir(dir + "/" + name) }
        }
    }

    /// Removes the instance of a session still running; safe in a signal handler (close and
    /// rmdir only). `StopSignals` calls it before it exits at once.
    public static func emergencyCleanup() { Cleanup.run() }
}

/// What a signal handler needs to remove a session's instance: its path as a C string and its
/// descriptors, in memory allocated once, written before the handler can see them.
enum Cleanup {
    nonisolated(unsafe) static var path = UnsafeMutablePointer<CChar>.allocate(capacity: 4096)
    nonisolated(unsafe) static var fds = UnsafeMutablePointer<Int32>.allocate(capacity: 1024)
    nonisolated(unsafe) static var count: Int32 = 0
    nonisolated(unsafe) static var armed: sig_atomic_t = 0
    nonisolated(unsafe) static var installed = false

    static func register(path p: String, fds list: [Int32]) {
        armed = 0
        let bytes = Array(p.utf8.prefix(4095))
        for (i, b) in bytes.enumerated() { path[i] = CChar(bitPattern: b) }
        path[bytes.count] = 0
        count = Int32(min(list.count, 1024))
        for i in 0..<Int(count) { fds[i] = list[i] }
        armed = 1
        guard !installed else { return }
        installed = true
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            var old = sigaction()
            sigaction(sig, nil, &old)
            // A handler someone else installed (live's StopSignals) stays; it calls run() itself.
            guard old.__sigaction_handler.sa_handler == nil else { continue }
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { sig in
                Cleanup.run()
                signal(sig, SIG_DFL)
                raise(sig)
            }
            sigemptyset(&action.sa_mask)
            sigaction(sig, &action, nil)
        }
    }

    static func clear() { armed = 0 }

    static func run() {
        guard armed != 0 else { return }
        armed = 0
        for i in 0..<Int(count) { close(fds[i]) }
        rmdir(path)
    }
}
