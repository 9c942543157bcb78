#if canImport(Glibc)
import Glibc
#endif

/// Buffered writes to a file descriptor. A closed pipe (`teardown replay big.pcap | head`)
/// ends the program quietly with status 0, as the reader asked for no more.
final class OutputWriter {
    private var buffer: [UInt8] = []
    private let fd: Int32
    private let limit: Int

    init(fd: Int32 = STDOUT_FILENO, limit: Int = 1 << 16) {
        self.fd = fd
        self.limit = limit
        buffer.reserveCapacity(limit + 4096)
    }

    func write(_ s: String) {
        var s = s
        s.withUTF8 { buffer.append(contentsOf: $0) }
        if buffer.count >= limit { flush() }
    }

    func line(_ s: String) {
        write(s)
        buffer.append(0x0a)
    }

    /// Lets `body` append bytes straight to the buffer (no String in between).
    func append(_ body: (inout [UInt8]) -> Void) {
        body(&buffer)
        if buffer.count >= limit { flush() }
    }

    func flush() {
        var off = 0
        while off < buffer.count {
            let n = buffer.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + off, $0.count - off) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE { exit(0) }
                Diagnostics.error("cannot write output: \(String(cString: strerror(errno)))")
                exit(1)
            }
            off += n
        }
        buffer.removeAll(keepingCapacity: true)
    }

    deinit { flush() }
}

/// Messages to stderr, prefixed with the program name, as tcpdump does.
enum Diagnostics {
    static func error(_ message: String) { emit("teardown: " + message) }
    static func warning(_ message: String) { emit("teardown: warning: " + message) }
    static func info(_ message: String) { emit(message) }
    private static func emit(_ s: String) {
        var line = s + "\n"
        line.withUTF8 { p in _ = Glibc.write(STDERR_FILENO, p.baseAddress, p.count) }
    }
}
