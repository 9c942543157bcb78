#if canImport(Glibc)
import Glibc
#endif

/// Messages to stderr, prefixed with the program name, as tcpdump does.
public enum Diagnostics {
    /// Says nothing while set: a file read again, whose problems were said the first time.
    nonisolated(unsafe) static var quiet = false
    public static func error(_ message: String) { emit("teardown: " + message) }
    public static func warning(_ message: String) { emit("teardown: warning: " + message) }
    public static func info(_ message: String) { emit(message) }
    private static func emit(_ s: String) {
        if quiet { return }
        var line = s + "\n"
        ProgressLine.withLineCleared {
            line.withUTF8 { p in _ = Glibc.write(STDERR_FILENO, p.baseAddress, p.count) }
        }
    }
}
