import Foundation
import TeardownCapture
import TeardownKernel
import TeardownModel
import TeardownPipeline
import TeardownRender
import TeardownStrace
import TeardownWire
#if canImport(Glibc)
import Glibc
#endif

/// `teardown trace`: any program's socket calls, recorded by strace(1) as a child
/// (`strace -f -yy`), its packets captured with libpcap and, as root, the kernel's account
/// (the tracefs lane `run` uses), saved as a capture with its two sidecars (NAME.events.jsonl,
/// NAME.kernel.jsonl) so that `replay` of them prints what trace printed. docs/trace.md says why
/// strace, what it costs, and what it cannot see.
public enum Tracer {
    public struct Request: Sendable {
        /// The program and its arguments to start, or nil with `pid`.
        public var command: [String]?
        /// A running process to attach to (and its threads, and what it forks from then on).
        public var pid: Int32?
        /// The interface to capture on: `any` (every interface, loopback included) by default.
        public var interface: String
        public var snapshotLength: Int32
        public var bufferSize: Int32
        public init(command: [String]?, pid: Int32?, interface: String = "any", snapshotLength: Int32 = 262_144,
                    bufferSize: Int32 = 64 << 20) {
            self.command = command; self.pid = pid; self.interface = interface
            self.snapshotLength = snapshotLength; self.bufferSize = bufferSize
        }
    }

    /// What a trace left: the capture and its sidecars, and how the program ended.
    public struct Outcome: Sendable {
        /// The program's exit status, or 128 + the signal that killed it (a shell's convention).
        public var status: Int32
        public var calls: Int
        public var packets: Int
        public var connections: Int
    }

    /// Why a trace could not start; each says what to do, and carries the exit status.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public var status: Int32
    }

    /// The system calls traced: the socket families, the read/write families (with byte
    /// counts), poll and epoll (the readiness that reveals a peer's close), descriptors duplicated, and the process calls that say which thread belongs to
    /// which process and which program it runs.
    static let syscalls = [
        "socket", "connect", "accept", "accept4", "bind", "listen", "setsockopt", "getsockopt", "shutdown", "close",
        "read", "write", "readv", "writev", "recvfrom", "sendto", "recvmsg", "sendmsg", "sendfile", "splice",
        "poll", "ppoll", "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2",
        "dup", "dup2", "dup3", "clone", "clone3", "fork", "vfork", "execve", "execveat",
    ]

    /// The strace to run: `TEARDOWN_STRACE` if set, else `strace` on PATH.
    static func straceExecutable() throws -> String {
        if let p = ProcessInfo.processInfo.environment["TEARDOWN_STRACE"] {
            guard access(p, X_OK) == 0 else {
                throw Failure(description: "TEARDOWN_STRACE=\(p) is not an executable strace", status: 69)
            }
            return p
        }
        guard let p = which("strace") else {
            throw Failure(description: "trace runs the program under strace, which is not installed (Debian: apt-get install strace)",
                          status: 69)
        }
        return p
    }

    /// `name` looked up as a shell does: a path when it has a slash, else each PATH directory.
    static func which(_ name: String) -> String? {
        if name.contains("/") { return access(name, F_OK) == 0 ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (dir.isEmpty ? "." : String(dir)) + "/" + name
            var st = stat()
            if stat(candidate, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG && access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// Checks what can be checked before anything starts: strace, the program, the process.
    static func check(_ request: Request) throws -> String {
        if let command = request.command {
            guard let program = command.first, !program.isEmpty else { throw Failure(description: "name a program to trace", status: 2) }
            guard let path = which(program) else {
                throw Failure(description: program.contains("/") ? "\(program): no such file" : "\(program): command not found (not on PATH)",
                              status: 127)
            }
            var st = stat()
            if stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
                throw Failure(description: "\(program): is a directory", status: 126)
            }
            guard access(path, X_OK) == 0 else { throw Failure(description: "\(program): permission denied (not executable)", status: 126) }
        }
        if let pid = request.pid {
            guard pid > 0 else { throw Failure(description: "--pid \(pid): not a process id", status: 2) }
            if kill(pid, 0) != 0 {
                if errno == ESRCH { throw Failure(description: "--pid \(pid): no such process", status: 66) }
                if errno == EPERM { throw Failure(description: "--pid \(pid): not permitted to trace it (it belongs to another user; run with sudo)", status: 77) }
            }
            if pid == getpid() { throw Failure(description: "--pid \(pid): teardown cannot trace itself", status: 2) }
        }
        return try straceExecutable()
    }

    /// Runs the trace: capture and kernel lane first, then strace with the program, until the
    /// program (or, with --pid, strace) ends; then the capture drained, the calls read, and the
    /// capture, its calls and the kernel's events written to `pcapPath` and beside it, keeping
    /// the packets of the program's own connections only.
    public static func run(_ request: Request, pcapPath: String) throws -> Outcome {
        let strace = try check(request)
        guard Privileges.isRoot || canCapture(request.interface) else {
            throw Failure(description: "trace captures the program's packets, which needs the privilege to capture: run it with sudo, "
                          + "or grant it once with sudo setcap cap_net_raw,cap_net_admin=eip \"$(command -v teardown)\"", status: 77)
        }
        var template = Array((NSTemporaryDirectory() + "/teardown-trace.XXXXXX").utf8CString)
        guard let dir = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }).map({ String(cString: $0) }) else {
            throw Failure(description: "cannot make a temporary directory: \(String(cString: strerror(errno)))", status: 73)
        }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let rawPath = dir + "/all.pcap"
        let callsPath = dir + "/strace.txt"

        let capture: TraceCapture
        do {
            capture = try TraceCapture(interface: request.interface, path: rawPath, snapshotLength: request.snapshotLength,
                                       bufferSize: request.bufferSize)
        } catch let e as CaptureError where e.kind == .permission {
            throw Failure(description: "\(e)", status: 77)
        } catch {
            throw Failure(description: "\(error)", status: 1)
        }
        var kernel: KernelTrace?
        var kernelLines: [String] = []
        switch KernelTrace.start() {
        case .success(let t): kernel = t
        case .failure(let why): kernelLines.append("no kernel lane: \(why)")
        }

        var args = [strace, "-f", "-yy", "-q", "--absolute-timestamps=format:unix,precision:ns", "--syscall-times=ns",
                    "-e", "trace=" + syscalls.joined(separator: ","), "-o", callsPath]
        if let pid = request.pid { args += ["-p", String(pid)] } else { args += ["--"] + (request.command ?? []) }

        TraceSignals.install()
        defer { TraceSignals.restore() }
        let child: pid_t
        do { child = try spawn(args) } catch {
            _ = capture.stop(after: 0, quietMs: 0)
            _ = kernel?.stop()
            throw error
        }
        let waitStatus = supervise(strace: child, attached: request.pid, callsPath: callsPath)

        let (packetCount, readError) = capture.stop()
        if let readError { Diagnostics.warning("capture on \(request.interface): \(readError); the packets before it are kept") }
        if let st = capture.statistics, st.dropped > 0 {
            Diagnostics.warning("the kernel dropped \(st.dropped) of \(st.received) packets: a larger --buffer-size keeps them")
        }
        let recording = kernel?.stop()
        if let recording { kernelLines += KernelWording.problems(recording) }
        for line in kernelLines { Diagnostics.warning(line) }

        // The calls.
        let text = FileManager.default.contents(atPath: callsPath) ?? Data()
        let reader = StraceReader.read(text)
        if reader.unreadLines > 0 {
            Diagnostics.warning("\(reader.unreadLines) of strace's \(reader.lineCount) lines were not understood and are left out")
        }
        let status = exitStatus(waitStatus, reader: reader, attached: request.pid)
        if reader.firstPid == nil {
            // strace said why on stderr (it could not attach, or start the program).
            throw Failure(description: "strace recorded nothing" + (request.pid != nil ? "; see its message above" : ""),
                          status: status == 0 ? 1 : status)
        }

        // The program's own connections: the 4-tuples its calls name.
        var tuples = Set<TuplePair>()
        for c in reader.calls { if let l = c.local, let r = c.remote { tuples.insert(TuplePair(l, r)) } }
        let kept = try keep(rawPath, in: tuples, to: pcapPath, linkType: capture.linkType, snapshotLength: request.snapshotLength)
        _ = packetCount
        try CallLogFile.write(reader.calls, to: CallLogFile.sidecarPath(for: pcapPath) ?? pcapPath + ".events.jsonl")
        let kernelFile = KernelEventFile.sidecarPath(for: pcapPath) ?? pcapPath + ".kernel.jsonl"
        if let recording {
            let events = KernelJoin.resolved(recording.events).filter { e in
                guard let s = e.source, let d = e.destination else { return false }
                return tuples.contains(TuplePair(s, d))
            }
            let header = KernelEventFile.Header(clock: recording.clock, offsetNanoseconds: recording.offsetNanoseconds,
                                                offsetUncertaintyNanoseconds: recording.offsetUncertaintyNanoseconds,
                                                driftNanoseconds: recording.driftNanoseconds, tracesEveryReset: recording.tracesEveryReset)
            try KernelEventFile.write(header, events, to: kernelFile)
        } else if FileManager.default.fileExists(atPath: kernelFile) {
            // A lane from an earlier trace would be joined to packets it was not recorded with.
            try FileManager.default.removeItem(atPath: kernelFile)
        }
        return Outcome(status: status, calls: reader.calls.count, packets: kept, connections: tuples.count)
    }

    /// A connection's two endpoints, in either order.
    struct TuplePair: Hashable {
        var a: Endpoint, b: Endpoint
        init(_ x: Endpoint, _ y: Endpoint) {
            if (x.address, x.port) < (y.address, y.port) { a = x; b = y } else { a = y; b = x }
        }
    }

    /// Copies the packets of `tuples` from the capture at `raw` to `path`; returns how many.
    static func keep(_ raw: String, in tuples: Set<TuplePair>, to path: String, linkType: LinkType, snapshotLength: Int32) throws -> Int {
        let writer: PcapWriter
        do { writer = try PcapWriter(path: path, linkType: linkType, snapshotLength: snapshotLength) } catch {
            throw Failure(description: "\(error)", status: 73)
        }
        var kept = 0
        do {
            let source = try PacketSource.openFile(raw)
            _ = try source.read { p in
                if let s = PacketDecoder.segment(p.bytes, linkType: p.linkType, originalLength: p.originalLength),
                   tuples.contains(TuplePair(s.source, s.destination)) {
                    writer.write(p)
                    kept += 1
                }
                return true
            }
        } catch {
            Diagnostics.warning("reading back the capture: \(error); the \(kept) packets before it are kept")
        }
        writer.close()
        return kept
    }

    /// Whether this process may open `interface` for capture (a capability granted with setcap).
    static func canCapture(_ interface: String) -> Bool {
        (try? PacketSource.openLive(interface: interface, options: LiveOptions())) != nil
    }

    /// Starts strace with `args`: signals the program should see at their defaults (teardown
    /// ignores SIGPIPE, and an ignored signal stays ignored across exec), none blocked.
    static func spawn(_ args: [String]) throws -> pid_t {
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGINT, SIGTERM, SIGPIPE, SIGQUIT, SIGHUP] { sigaddset(&defaults, s) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        var cargs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        defer { for p in cargs { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, args[0], nil, &attr, &cargs, environ)
        guard rc == 0 else { throw Failure(description: "cannot start \(args[0]): \(String(cString: strerror(rc)))", status: 126) }
        return pid
    }

    /// Waits for strace to end, passing on stop signals: SIGTERM, and a SIGINT someone sent
    /// with kill(2), go to the program (with --pid, to strace, which detaches); a SIGINT from
    /// the terminal reached the program already (same process group), and teardown waits for
    /// the program to act on it. A third SIGINT kills the program (SIGKILL): what it recorded
    /// is kept. Returns strace's wait status.
    static func supervise(strace: pid_t, attached: Int32?, callsPath: String) -> Int32 {
        var status: Int32 = 0
        var handled = TraceSignals.Counts()
        var program: pid_t?
        while true {
            let r = waitpid(strace, &status, WNOHANG)
            if r == strace { return status }
            if r < 0 && errno != EINTR { return status }
            let now = TraceSignals.counts
            if now != handled {
                if attached != nil {
                    // strace -p detaches on SIGINT/SIGTERM and exits.
                    kill(strace, SIGINT)
                } else {
                    if program == nil { program = firstPid(callsPath) }
                    if let p = program {
                        if now.terms > handled.terms { kill(p, SIGTERM) }
                        if now.userInts > handled.userInts { kill(p, SIGINT) }
                        if now.ints >= 3 && handled.ints < 3 {
                            Diagnostics.warning("third interrupt: killing \(p) (SIGKILL); what was recorded is kept")
                            kill(p, SIGKILL)
                        }
                    } else {
                        kill(strace, SIGKILL)
                    }
                }
                handled = now
            }
            usleep(10_000)
        }
    }

    /// The program's process id: the first in strace's output.
    static func firstPid(_ path: String) -> pid_t? {
        guard let h = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? h.close() }
        let head = h.readData(ofLength: 4096)
        guard let nl = head.firstIndex(of: 0x0a) else { return nil }
        switch StraceLine.parse(head[..<nl]) {
        case .call(let pid, _, _), .unfinished(let pid, _, _, _), .resumed(let pid, _, _, _), .signal(let pid, _, _),
             .exited(let pid, _, _), .killed(let pid, _, _):
            return pid > 0 ? pid : nil
        case nil:
            return nil
        }
    }

    /// The program's exit status: as strace's output says it ended, else as strace did (strace
    /// exits with its program's status, and dies of the signal that killed it). 128 + the signal
    /// for a program killed, as a shell says it. With --pid, what strace says the process did.
    static func exitStatus(_ wait: Int32, reader: StraceReader, attached: Int32?) -> Int32 {
        if let first = reader.firstPid, let end = reader.ends[first] {
            switch end {
            case .exited(let code): return code
            case .killed(let name): if let n = signalNumber(name) { return 128 + n }
            }
        }
        if attached != nil { return 0 }
        if (wait & 0x7f) == 0 { return (wait >> 8) & 0xff }
        return 128 + (wait & 0x7f)
    }

    /// `SIGKILL` -> 9: Linux's numbering of the standard signals (signal(7), x86 and ARM).
    static func signalNumber(_ name: String) -> Int32? {
        let names = ["HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM",
                     "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF",
                     "WINCH", "IO", "PWR", "SYS"]
        guard name.hasPrefix("SIG"), let i = names.firstIndex(of: String(name.dropFirst(3))) else { return nil }
        return Int32(i + 1)
    }
}

/// Stop signals while a traced program runs: counted in the handler (plain stores only), acted
/// on by `Tracer.supervise`.
enum TraceSignals {
    struct Counts: Equatable { var ints = 0, userInts = 0, terms = 0 }
    static var counts: Counts { Counts(ints: Int(traceInts), userInts: Int(traceUserInts), terms: Int(traceTerms)) }

    static func install() {
        traceInts = 0; traceUserInts = 0; traceTerms = 0
        var action = sigaction()
        action.__sigaction_handler.sa_sigaction = { sig, info, _ in
            if sig == SIGTERM { traceTerms += 1; return }
            traceInts += 1
            // SI_USER: sent with kill(2), not by the terminal (which signals the whole group).
            if let info, info.pointee.si_code == SI_USER { traceUserInts += 1 }
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_SIGINFO | SA_RESTART
        sigaction(SIGINT, &action, nil)
        sigaction(SIGTERM, &action, nil)
        StopSignals.unblock()
    }

    static func restore() {
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}

nonisolated(unsafe) private var traceInts: sig_atomic_t = 0
nonisolated(unsafe) private var traceUserInts: sig_atomic_t = 0
nonisolated(unsafe) private var traceTerms: sig_atomic_t = 0
