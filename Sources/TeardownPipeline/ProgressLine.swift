import Dispatch
import Synchronization
import TeardownRender
#if canImport(Glibc)
import Glibc
#endif

/// The line on stderr that says how far a long replay has come, redrawn in place: the bytes of
/// the files read (and of how many, with the share, when their sizes are known), the
/// connections reported so far, and the rate. Only when stderr is a terminal, from about a
/// second on, a few times a second; cleared at the end, so that nothing of it stays on the
/// screen or goes into a pipe or a file (`replay --quiet` turns it off).
///
/// When standard output is the same terminal, what is printed there and the messages on stderr
/// first clear the line (`withLineCleared`), and it is drawn again at the next tick.
final class ProgressLine: @unchecked Sendable {
    /// The line on screen now, if any: what `withLineCleared` consults (one atomic load when
    /// there is none, as for every replay in a pipe).
    private static let current = Mutex<ProgressLine?>(nil)
    private static let active = Atomic<Bool>(false)

    private struct State {
        /// Descriptors of the files being read, with their sizes (0: not a regular file).
        var reading: [Int32: Int64] = [:]
        /// Bytes of the files finished.
        var done: Int64 = 0
        var shown = false
        var stopped = false
    }
    private let state = Mutex(State())
    private let connections = Atomic<Int>(0)
    /// The sizes of all the regular files named, 0 when one is not (standard input, a FIFO).
    private let total: Int64
    private let started: Int64
    private let finished = DispatchSemaphore(value: 0)
    /// Seconds before the line first appears.
    static let delayNanoseconds: Int64 = 1_000_000_000
    static let periodMicroseconds: UInt32 = 200_000

    private init(total: Int64) {
        self.total = total
        started = ProgressLine.now()
    }

    /// A progress line for replaying `files`, when stderr is a terminal (not `dumb`) and the
    /// user did not ask for quiet; nil otherwise.
    static func start(files: [String], quiet: Bool) -> ProgressLine? {
        guard !quiet, isatty(STDERR_FILENO) == 1 else { return nil }
        if let t = getenv("TERM"), String(cString: t) == "dumb" { return nil }
        var total: Int64 = 0
        for f in files {
            var st = stat()
            guard f != "-", stat(f, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { total = 0; break }
            total += Int64(st.st_size)
        }
        let line = ProgressLine(total: total)
        current.withLock { $0 = line }
        active.store(true, ordering: .releasing)
        var thread = pthread_t()
        let box = Unmanaged.passRetained(line)
        let made = pthread_create(&thread, nil, { raw in
            let line = Unmanaged<ProgressLine>.fromOpaque(raw!).takeRetainedValue()
            line.loop()
            return nil
        }, box.toOpaque())
        guard made == 0 else {
            box.release()
            active.store(false, ordering: .releasing)
            current.withLock { $0 = nil }
            return nil
        }
        pthread_detach(thread)
        return line
    }

    /// `fd` is being read (its size, for the share of a file seen part way).
    func reading(_ fd: Int32) {
        var st = stat()
        let size: Int64 = fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG ? Int64(st.st_size) : 0
        state.withLock { $0.reading[fd] = size }
    }

    /// `fd` has been read to its end (or given up on).
    func finished(_ fd: Int32) {
        state.withLock { s in
            if let size = s.reading.removeValue(forKey: fd) { s.done += size }
        }
    }

    func connectionReported() { connections.add(1, ordering: .relaxed) }

    /// Stops redrawing and clears the line; returns once the drawing thread is done.
    func stop() {
        state.withLock { $0.stopped = true }
        finished.wait()
        ProgressLine.active.store(false, ordering: .releasing)
        ProgressLine.current.withLock { line in
            if let shown = line?.state.withLock({ $0.shown }), shown { ProgressLine.writeStderr("\r\u{1B}[K") }
            line = nil
        }
    }

    /// Runs `body` (which writes to the terminal) with the line off the screen: cleared first
    /// if it was drawn, and not drawn again until `body` is done.
    static func withLineCleared(_ body: () -> Void) {
        guard active.load(ordering: .acquiring) else { body(); return }
        current.withLock { line in
            if let line {
                let wasShown = line.state.withLock { s -> Bool in
                    defer { s.shown = false }
                    return s.shown
                }
                if wasShown { writeStderr("\r\u{1B}[K") }
            }
            body()
        }
    }

    private func loop() {
        while true {
            usleep(ProgressLine.periodMicroseconds)
            if state.withLock({ $0.stopped }) { break }
            let elapsed = ProgressLine.now() - started
            guard elapsed >= ProgressLine.delayNanoseconds else { continue }
            let text = self.text(elapsed: elapsed)
            ProgressLine.current.withLock { _ in
                guard !state.withLock({ $0.stopped }) else { return }
                ProgressLine.writeStderr("\r" + text + "\u{1B}[K")
                state.withLock { $0.shown = true }
            }
        }
        finished.signal()
    }

    /// `teardown: 1.2 GB of 2.6 GB read (46%) · 12,345 connections · 250 MB/s`
    func text(elapsed: Int64) -> String {
        let (read, known) = state.withLock { s -> (Int64, Bool) in
            var read = s.done
            var known = true
            for (fd, size) in s.reading {
                let at = lseek(fd, 0, SEEK_CUR)
                if at < 0 || size == 0 { known = false } else { read += min(Int64(at), size) }
            }
            return (read, known)
        }
        let n = connections.load(ordering: .relaxed)
        var parts: [String] = []
        if known && total > 0 {
            parts.append("\(ProgressLine.bytes(read)) of \(ProgressLine.bytes(total)) read (\(min(100, read * 100 / total))%)")
        } else if known {
            parts.append("\(ProgressLine.bytes(read)) read")
        }
        parts.append("\(Format.thousands(n)) connection\(n == 1 ? "" : "s")")
        let seconds = Double(elapsed) / 1e9
        if known && read > 0 { parts.append("\(ProgressLine.bytes(Int64(Double(read) / seconds)))/s") }
        else { parts.append(String(format1: seconds) + " s") }
        return "teardown: " + parts.joined(separator: " · ")
    }

    /// `950 KB`, `12.3 MB`, `2.6 GB` (decimal units, as file managers and `ls -h --si` count).
    static func bytes(_ n: Int64) -> String {
        let units: [(Double, String)] = [(1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "KB")]
        for (scale, unit) in units where Double(n) >= scale {
            let v = Double(n) / scale
            return (v < 100 ? String(format1: v) : String(Int(v.rounded()))) + " " + unit
        }
        return "\(n) B"
    }

    static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    static func writeStderr(_ s: String) {
        var s = s
        s.withUTF8 { p in _ = Glibc.write(STDERR_FILENO, p.baseAddress, p.count) }
    }
}

extension String {
    /// `v` with one decimal.
    init(format1 v: Double) {
        let tenths = Int((v * 10).rounded())
        self = "\(tenths / 10).\(tenths % 10)"
    }
}
