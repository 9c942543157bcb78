import TeardownRender
#if canImport(Glibc)
import Glibc
#endif

/// Buffered writes to a file descriptor, or output kept in memory. A closed pipe
/// (`teardown replay big.pcap | head`) ends the program quietly with status 0, as the reader
/// asked for no more.
///
/// The buffer is raw memory that renderers write into through a `ByteCursor` (`render`), so a
/// line goes from the record to the buffer with no array in between.
public final class OutputWriter {
    private var storage: UnsafeMutableRawBufferPointer
    /// Bytes of `storage` holding output not yet written.
    private var count = 0
    /// Nil when the output is kept in memory (`kept`), never written.
    private let fd: Int32?
    /// Whether `fd` is closed with the writer (a file opened by `open`).
    private var ownsDescriptor = false
    /// Output is written once this many bytes are buffered.
    private let limit: Int
    /// The output is a terminal: a progress line on it is cleared before each write (`ProgressLine`).
    private let terminal: Bool

    /// `limit` bytes are buffered before a write; the buffer has room past it for the
    /// line being rendered (a longer one grows it).
    public init(fd: Int32 = STDOUT_FILENO, limit: Int = 1 << 16, ownsDescriptor: Bool = false) {
        self.fd = fd
        self.ownsDescriptor = ownsDescriptor
        self.limit = max(limit, 1)
        terminal = isatty(fd) == 1
        storage = .allocate(byteCount: self.limit + (1 << 16), alignment: 16)
    }

    /// A writer to `path` (created, or emptied), or to standard output when nil; nil, with the
    /// error said, when the file cannot be opened.
    public static func open(_ path: String?) -> OutputWriter? {
        guard let path else { return OutputWriter() }
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 {
            Diagnostics.error("cannot write \(path): \(String(cString: strerror(errno)))")
            return nil
        }
        return OutputWriter(fd: fd, ownsDescriptor: true)
    }

    /// Makes a closed pipe show up as EPIPE from write(2), which `flush` turns into a quiet
    /// exit, instead of SIGPIPE killing the process mid-output (signal(7)).
    public static func ignoreSIGPIPE() { signal(SIGPIPE, SIG_IGN) }

    /// A writer that keeps everything in memory, for `kept`.
    public init(keepingInMemory: ()) {
        fd = nil
        limit = Int.max
        terminal = false
        storage = .allocate(byteCount: 1 << 16, alignment: 16)
    }

    /// What a writer that keeps its output in memory holds (valid until its next write).
    var kept: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: storage[..<count]) }

    public func write(_ s: String) {
        var s = s
        s.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    public func line(_ s: String) {
        write(s)
        render { $0.write(0x0a) }
    }

    /// Copies `bytes` into the buffer, flushing when it fills.
    public func append(_ bytes: UnsafeRawBufferPointer) {
        render { $0.write(bytes) }
    }

    /// Lets `body` write bytes straight into the buffer through a cursor. When they do not fit
    /// in the room left, the buffer is flushed (or, when empty or kept in memory, doubled) and
    /// `body` writes them again: it must write the same bytes each time.
    public func render(_ body: (inout ByteCursor) -> Void) {
        while true {
            if var cursor = ByteCursor(UnsafeMutableRawBufferPointer(rebasing: storage[count...])) {
                body(&cursor)
                if !cursor.overflowed {
                    count += cursor.count
                    break
                }
            }
            if count > 0 && fd != nil { flush() } else { grow() }
        }
        if count >= limit { flush() }
    }

    private func grow() {
        let (doubled, overflow) = storage.count.multipliedReportingOverflow(by: 2)
        if overflow {
            Diagnostics.error("cannot buffer output: more than half the address space")
            exit(1)
        }
        let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: doubled, alignment: 16)
        bigger.copyMemory(from: UnsafeRawBufferPointer(rebasing: storage[..<count]))
        storage.deallocate()
        storage = bigger
    }

    public func flush() {
        guard let fd, let base = storage.baseAddress else { return }
        var failure: Int32 = 0
        if terminal { ProgressLine.withLineCleared { failure = write(fd, base) } } else { failure = write(fd, base) }
        // Said outside `withLineCleared`, which the message would enter again.
        if failure == EPIPE { exit(0) }
        if failure != 0 {
            Diagnostics.error("cannot write output: \(String(cString: strerror(failure)))")
            exit(1)
        }
    }

    /// Writes what is buffered; returns 0, or the errno that stopped it.
    private func write(_ fd: Int32, _ base: UnsafeMutableRawPointer) -> Int32 {
        var off = 0
        while off < count {
            let n = Glibc.write(fd, base + off, count - off)
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            off += n
        }
        count = 0
        return 0
    }

    deinit {
        flush()
        if ownsDescriptor, let fd { close(fd) }
        storage.deallocate()
    }
}
