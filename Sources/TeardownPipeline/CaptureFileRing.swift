import TeardownCapture
#if canImport(Glibc)
import Glibc
#endif

/// `live -w FILE` with tcpdump's file rotation (tcpdump(8): -C, -G, -W), named as tcpdump names
/// them:
/// - `-C MB`: before a packet is written, a file already larger than MB × 1,000,000 bytes is
///   closed and the next opened: FILE, then FILE1, FILE2, …;
/// - `-G S`: a file open S seconds or more (the wall clock, read as each packet arrives) is
///   closed and the next opened; FILE is a strftime(3) pattern, expanded in local time when
///   each file is opened (`-w 'trace-%Y%m%d-%H%M%S.pcap'`);
/// - `-W N`: with -C, at most N files, named FILE0 … FILE(N-1) with as many digits as N - 1
///   needs, the oldest overwritten (a ring); with -G alone, the capture stops once N files are
///   complete.
/// Without any of them it is one file, as before.
final class CaptureFileRing {
    typealias Limits = FileRotation

    private let pattern: String
    private let source: PacketSource
    private let limits: Limits
    private var writer: PcapWriter
    /// Bytes in the open file: the pcap file header, then a record header and the bytes of
    /// each packet.
    private var size: Int64
    /// The number the open file carries under -C (0 for the first).
    private var count = 0
    /// Files completed under -G (for -W without -C).
    private var completed = 0
    /// When the open file was opened (time(2)), for -G.
    private var opened: Int
    /// The files opened, in order (a name again when the ring came round).
    private(set) var names: [String] = []

    static let fileHeaderBytes: Int64 = 24
    static let recordHeaderBytes: Int64 = 16

    init(pattern: String, source: PacketSource, limits: Limits) throws {
        self.pattern = pattern
        self.source = source
        self.limits = limits
        opened = time(nil)
        let name = CaptureFileRing.name(pattern: pattern, count: 0, limits: limits, at: opened)
        writer = try PcapWriter(path: name, source: source)
        size = CaptureFileRing.fileHeaderBytes
        names = [name]
    }

    /// The path of file number `count`: the pattern (strftime-expanded under -G, for the time
    /// `at`), then `count` when it is not the first or -W asks for digits (with -C), zero-padded
    /// to as many digits as -W - 1 has (tcpdump's MakeFilename and its callers).
    static func name(pattern: String, count: Int, limits: Limits, at time: Int) -> String {
        var base = pattern
        if limits.seconds != nil { base = strftime(pattern, at: time) }
        // -W's digits number the files of -C only (with -G alone a file has no number).
        let digits = limits.bytes == nil ? 0 : limits.files.map { digitsFor($0) } ?? 0
        if count == 0 && digits == 0 { return base }
        var number = String(count)
        if number.count < digits { number = String(repeating: "0", count: digits - number.count) + number }
        return base + number
    }

    /// tcpdump's `ceil(log10(N))`: the digits of N - 1 (0 for N = 1).
    static func digitsFor(_ n: Int) -> Int {
        var digits = 0, reach = 1
        while reach < n { reach *= 10; digits += 1 }
        return digits
    }

    /// `pattern` expanded by strftime(3) in local time; the pattern itself if that fails.
    static func strftime(_ pattern: String, at time: Int) -> String {
        var t = time_t(time)
        var parts = tm()
        guard localtime_r(&t, &parts) != nil else { return pattern }
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = Glibc.strftime(&buffer, buffer.count, pattern, &parts)
        guard n > 0 else { return pattern }
        return String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    enum Outcome: Equatable {
        case written
        /// -G with -W: the files asked for are complete; the packet was not written.
        case filesComplete(Int)
    }

    /// Writes `packet`, first moving to the next file when a limit says so.
    func write(_ packet: CapturedPacket, nanosecondPrecision: Bool) throws -> Outcome {
        if limits.rotates {
            let now = time(nil)
            if let seconds = limits.seconds, now - opened >= seconds {
                completed += 1
                if let files = limits.files, limits.bytes == nil, completed >= files { return .filesComplete(completed) }
                count = 0
                try open(at: now)
            } else if let bytes = limits.bytes, size > bytes {
                count += 1
                if let files = limits.files, count >= files { count = 0 }
                try open(at: opened)
            }
        }
        writer.write(packet, nanosecondPrecision: nanosecondPrecision)
        size += CaptureFileRing.recordHeaderBytes + Int64(packet.bytes.count)
        return .written
    }

    private func open(at time: Int) throws {
        writer.close()
        let name = CaptureFileRing.name(pattern: pattern, count: count, limits: limits, at: time)
        writer = try PcapWriter(path: name, source: source)   // the old one closes as it goes
        size = CaptureFileRing.fileHeaderBytes
        opened = time
        names.append(name)
    }

    func flush() { writer.flush() }
    func close() { writer.close() }
}

/// tcpdump's -C, -G and -W for `live -w` (`CaptureFileRing`).
public struct FileRotation: Equatable, Sendable {
    /// -C, in bytes (MB × 1,000,000, as tcpdump counts them).
    public var bytes: Int64?
    /// -G, in seconds.
    public var seconds: Int64?
    /// -W.
    public var files: Int?
    var rotates: Bool { bytes != nil || seconds != nil }
    public init(bytes: Int64? = nil, seconds: Int64? = nil, files: Int? = nil) {
        self.bytes = bytes
        self.seconds = seconds
        self.files = files
    }
}
