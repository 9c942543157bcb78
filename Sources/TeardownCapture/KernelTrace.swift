import CTeardownSys
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
/// A process that gives up root keeps reading through the descriptors opened before, and has
/// the instance removed by a child that kept root (`keepRemovable`).
///
/// The instance's `trace_clock` is `mono` (CLOCK_MONOTONIC, ktime_get_mono_fast_ns): its times
/// become packet times (CLOCK_REALTIME, the clock of pcap timestamps) by adding the difference
/// of the two clocks, measured by reading MONOTONIC, REALTIME, MONOTONIC and keeping the
/// tightest of several brackets. Each CPU's buffer is read from `per_cpu/cpuN/trace_pipe_raw`,
/// a ring-buffer page at a time (`TracePage`), on a thread of its own, and also on the caller's
/// when it drains the events read so far (`drain(readingNow:)`, live).
public final class KernelTrace: @unchecked Sendable {
    public static let events: [KernelEventName] = [.sendReset, .receiveReset, .stateChange, .errorReport]

    /// The instance's directory (`…/instances/teardown-PID-N`).
    public let instance: String
    let header: TracePage.Header
    let decoder: KernelRecordDecoder
    let fds: [Int32]
    /// `tracing_on`, opened at the start so tracing can be stopped after a drop of privileges.
    let tracingOn: Int32
    let offset: (value: Int64, uncertainty: Int64)
    let stopping = Atomic<Bool>(false)
    var thread: pthread_t?
    /// The child that removes the instance when this process can no longer (`keepRemovable`):
    /// its pid and the pipe end whose closing tells it to.
    var remover: (pid: pid_t, release: Int32)?
    /// What the reading passes collected, and the page they read into: a pass holds the lock
    /// from its first read to its last, so the reader thread and `drain(readingNow:)` never
    /// read at once.
    let collected = Mutex(Collected())
    let missing: [String]
    let formatErrors: [(file: String, error: TraceFormatError)]

    struct Collected: ~Copyable {
        var events: [KernelEvent] = []
        var recordErrors: [KernelRecordError] = []
        var pageErrors: [TracePageError] = []
        var pagesAfterLoss = 0
        var page: UnsafeMutableRawBufferPointer?
    }

    /// Where tracefs is: the directory TEARDOWN_TRACEFS names when it is set (nothing else is
    /// tried and nothing mounted), or else /sys/kernel/tracing (mounting it there if it is not),
    /// or the older /sys/kernel/debug/tracing.
    static func tracefsRoot() throws(KernelTraceUnavailable) -> String {
        if let value = getenv("TEARDOWN_TRACEFS"), value.pointee != 0 {
            var chosen = String(cString: value)
            while chosen.count > 1 && chosen.hasSuffix("/") { chosen.removeLast() }
            guard access(chosen + "/instances", F_OK) == 0 else {
                throw KernelTraceUnavailable("no tracefs at \(chosen) (TEARDOWN_TRACEFS): \(chosen)/instances: \(String(cString: strerror(errno)))")
            }
            return chosen
        }
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
        tracingOn = open(path + "/tracing_on", O_WRONLY | O_CLOEXEC)
        collected.withLock { $0.page = UnsafeMutableRawBufferPointer.allocate(byteCount: header.pageSize, alignment: 8) }
        offset = Self.clockOffset()
        if tracingOn >= 0 { _ = Glibc.write(tracingOn, "1", 1) }
        Cleanup.register(path: path, fds: fds + (tracingOn >= 0 ? [tracingOn] : []))
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

    /// tcp_send_reset is read with the layout of Linux 6.10 and later, which traces every RST.
    public var tracesEveryReset: Bool { decoder.tracesEveryReset }

    /// CLOCK_REALTIME − CLOCK_MONOTONIC when the session began (what moves event times to the
    /// packet clock), and half the width of the bracket it was measured in.
    public var clockOffset: (nanoseconds: Int64, uncertainty: Int64) { (offset.value, offset.uncertainty) }

    /// Makes sure the instance is removed even after this process gives up root (live's -Z): a
    /// child keeps root for that one rmdir(2), done when `stop()` asks or this process exits,
    /// however it exits. Call it before dropping privileges; false (and the instance is left
    /// to the next session run as root) when the child cannot be started.
    public func keepRemovable() -> Bool {
        var release: Int32 = -1
        let pid = ctd_rmdir_watch(instance, &release)
        guard pid > 0 else { return false }
        remover = (pid, release)
        return true
    }

    /// The events read since the last drain, on the packet clock, in the order read (each CPU's
    /// in time order). With `readingNow`, every CPU's buffer is read first on the calling
    /// thread, so events the kernel recorded before the call are among them.
    public func drain(readingNow: Bool) -> [KernelEvent] {
        let taken = collected.withLock { c -> [KernelEvent] in
            if readingNow { pass(&c) }
            defer { c.events = [] }
            return c.events
        }
        return taken.map(onPacketClock)
    }

    func onPacketClock(_ e: KernelEvent) -> KernelEvent {
        var e = e
        e.time = Timestamp(nanoseconds: e.time.nanoseconds &+ offset.value)
        return e
    }

    /// Stops the session: tracing off, the buffers drained, the instance removed. The events
    /// (those not drained before) are on the packet clock.
    public func stop() -> KernelRecording {
        if tracingOn >= 0 { _ = Glibc.write(tracingOn, "0", 1) }
        stopping.store(true, ordering: .releasing)
        if let thread { pthread_join(thread, nil) } else { readLoop() }
        let end = Self.clockOffset()
        for fd in fds { close(fd) }
        if tracingOn >= 0 { close(tracingOn) }
        var left: String?
        if rmdir(instance) != 0, errno != ENOENT {
            left = "cannot remove \(instance): \(String(cString: strerror(errno)))"
        }
        if let remover {
            // It removes the instance now (or finds it gone) and says how that went.
            close(remover.release)
            var status: Int32 = 0
            while waitpid(remover.pid, &status, 0) < 0 && errno == EINTR {}
            let code = (status >> 8) & 0xff
            left = (status & 0x7f) == 0 && code == 0 ? nil
                : "cannot remove \(instance): \((status & 0x7f) == 0 ? String(cString: strerror(code)) : "its remover died")"
        }
        Cleanup.clear()
        let c = collected.withLock { c -> (events: [KernelEvent], records: [KernelRecordError], pages: [TracePageError], lost: Int) in
            c.page?.deallocate()
            c.page = nil
            return (c.events, c.recordErrors, c.pageErrors, c.pagesAfterLoss)
        }
        var recording = KernelRecording(events: c.events.map(onPacketClock), tracesEveryReset: decoder.tracesEveryReset, clock: "mono",
                                        offsetNanoseconds: offset.value, offsetUncertaintyNanoseconds: offset.uncertainty,
                                        driftNanoseconds: end.value &- offset.value, pagesAfterLoss: c.lost,
                                        recordErrors: c.records, pageErrors: c.pages, missing: missing,
                                        layoutErrors: decoder.unusable, formatErrors: formatErrors)
        recording.instanceLeft = left
        return recording
    }

    /// Reads every CPU's pages until stopped, then what is left.
    func readLoop() {
        var polls = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        while true {
            let last = stopping.load(ordering: .acquiring)
            collected.withLock { pass(&$0) }
            if last { return }
            _ = poll(&polls, nfds_t(polls.count), 20)
        }
    }

    /// Reads each buffer until it is empty, until every one is.
    func pass(_ c: inout Collected) {
        guard let page = c.page else { return }
        var any = true
        while any {
            any = false
            for fd in fds {
                let n = Glibc.read(fd, page.baseAddress, page.count)
                guard n > 0 else { continue }
                any = true
                take(UnsafeRawBufferPointer(rebasing: page[0..<n]), into: &c)
            }
        }
    }

    func take(_ page: UnsafeRawBufferPointer, into c: inout Collected) {
        let summary = TracePage.records(in: page, header: header) { time, record in
            switch decoder.decode(record, time: Timestamp(nanoseconds: Int64(truncatingIfNeeded: time))) {
            case .success(let e): c.events.append(e)
            case .failure(let e): if c.recordErrors.count < 100 { c.recordErrors.append(e) }
            }
        }
        if summary.missedEvents { c.pagesAfterLoss += 1 }
        if let e = summary.error, c.pageErrors.count < 100 { c.pageErrors.append(e) }
    }

    // MARK: Clocks and files

    /// CLOCK_REALTIME − CLOCK_MONOTONIC from the tightest of 16 brackets MONOTONIC, REALTIME,
    /// MONOTONIC, and half that bracket's width.
    static func clockOffset() -> (value: Int64, uncertainty: Int64) {
        let now = SystemClock.nanoseconds
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
