import CCaptureStream
import CPcap
import TeardownCaptureFile
import TeardownWire
#if canImport(Glibc)
import Glibc
#endif

/// One packet as libpcap hands it over. `bytes` is valid only inside the callback that receives it.
public struct CapturedPacket {
    public var time: Timestamp
    /// Bytes captured (may be fewer than `originalLength` when cut by snaplen).
    public var bytes: UnsafeRawBufferPointer
    /// The packet's length on the wire.
    public var originalLength: Int
    /// 1-based packet number within this source.
    public var number: Int
    /// How to read `bytes`: the source's link type, or, in a pcapng file with several
    /// interfaces, the link type of the interface the packet came from.
    public var linkType: LinkType

    public init(time: Timestamp, bytes: UnsafeRawBufferPointer, originalLength: Int, number: Int, linkType: LinkType) {
        self.time = time; self.bytes = bytes; self.originalLength = originalLength; self.number = number
        self.linkType = linkType
    }
}

/// How a read loop ended.
public enum ReadOutcome: Equatable, Sendable {
    /// End of file.
    case endOfInput
    /// `stop()` was called (signal handler, `| head`, ...).
    case stopped
    /// The callback asked to stop.
    case stoppedByCallback
}

/// A capture file or a live interface, read packet by packet.
///
/// The only type in the project that owns a `pcap_t`. Files are recognised by their content:
/// pcap is read by libpcap, as tcpdump reads it; pcapng by teardown's own reader
/// (`PcapngReader`), which reads what libpcap cannot (interfaces of several link types and
/// snapshot lengths) and hands each packet over with its interface's link type; a gzip, zstd or
/// LZ4 file is decompressed as it is read, and what it holds is read as above (libpcap reads
/// decompressed pcap from a stdio stream teardown fills). Offline captures are read with
/// nanosecond timestamp precision (pcap(3PCAP) `pcap_open_offline_with_tstamp_precision`), so
/// microsecond and nanosecond files both arrive as nanoseconds.
public final class PacketSource {
    /// libpcap's handle: reading, or, for a file teardown reads itself, a dead handle of its
    /// first interface's link type (for the filter's first compilation).
    let handle: OpaquePointer
    /// The file path, `-`, or the interface name; used in messages.
    public let name: String
    public let isLive: Bool
    public internal(set) var packetCount = 0
    /// Nanosecond precision is in effect (always for files; for live, when the device supports it).
    public let nanosecondPrecision: Bool
    /// The link type libpcap reads (the first interface's for a pcapng file).
    public let linkType: LinkType
    /// The file's compression, if it is compressed.
    public private(set) var compression: Compression?
    /// The descriptor a file opened by `openFile` is read from (standard input's for `-`):
    /// where it stands (lseek(2)) is how much of the file has been read, for a progress line.
    public private(set) var fileDescriptor: Int32?
    /// A pcap file's timestamps count nanoseconds (its magic number is 0xa1b23c4d), not
    /// microseconds; false for everything else.
    public private(set) var nanosecondFile = false

    /// The stdio buffer of a file opened by `openFile` (freed after `pcap_close` closes the file).
    private var fileBuffer: UnsafeMutableRawPointer?
    /// The bytes libpcap reads through a stdio stream teardown fills (decompressed, or standard
    /// input after its first bytes were looked at), and what went wrong reading them.
    private var stream: StreamCookie?
    /// teardown's own reader of a pcapng file, with the filter per interface and what each
    /// interface held.
    var pcapng: PcapngFile?

    init(handle: OpaquePointer, name: String, isLive: Bool, nanosecondPrecision: Bool) {
        self.handle = handle; self.name = name; self.isLive = isLive
        self.nanosecondPrecision = nanosecondPrecision
        linkType = LinkType(rawValue: pcap_datalink(handle))
    }

    /// A pcapng file read by `reader` (past its headers), `handle` a dead one for its first interface.
    private init(handle: OpaquePointer, name: String, pcapng: PcapngFile) {
        self.handle = handle; self.name = name; self.isLive = false
        nanosecondPrecision = true
        linkType = LinkType(rawValue: pcap_datalink(handle))
        self.pcapng = pcapng
    }

    deinit {
        pcap_close(handle)
        fileBuffer?.deallocate()
    }

    /// The stdio buffer a capture file is read through. libpcap reads a file with two `fread`s
    /// a packet; with stdio's default buffer (the file system's block size, 4 KiB here) that is
    /// a `read` system call every few packets: 600,000 for a 2.4 GB capture, which cost more
    /// than the copying itself (the bench's bare libpcap loop: 0.65 s with 4 KiB, 0.31 s with
    /// 1 MiB, the system time 0.40 s → 0.10 s).
    static let fileBufferSize = 1 << 20

    /// Opens a capture file; `-` reads standard input. pcap (libpcap), pcapng (teardown's
    /// reader), or either compressed with gzip, zstd or LZ4, told apart by their first bytes.
    /// With `forCopying`, a pcapng file's blocks are all left for `copyAnnotated` to read.
    public static func openFile(_ path: String, filter: String? = nil, forCopying: Bool = false) throws -> PacketSource {
        if path != "-" {
            var st = stat()
            if stat(path, &st) != 0 {
                throw CaptureError(.open, source: path, message: "cannot open: \(String(cString: strerror(errno)))")
            }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                throw CaptureError(.open, source: path, message: "is a directory, not a capture file")
            }
            if (st.st_mode & S_IFMT) == S_IFREG && st.st_size == 0 {
                throw CaptureError(.open, source: path, message: "is empty (0 bytes), not a capture file")
            }
            if access(path, R_OK) != 0 {
                throw CaptureError(.open, source: path, message: "cannot open: \(String(cString: strerror(errno)))")
            }
        }
        let input: ByteInput
        if path == "-" {
            input = FileDescriptorInput(descriptor: STDIN_FILENO, closesDescriptor: false)
        } else {
            // Opened here, not by libpcap, to give the stream a large buffer (`fileBufferSize`).
            guard let file = fopen(path, "rb") else {
                throw CaptureError(.open, source: path, message: "cannot open: \(String(cString: strerror(errno)))")
            }
            // The first bytes, looked at without moving the stream; a pipe or a FIFO cannot be
            // looked at so (ESPIPE), and is read as a stream below.
            var magic = [UInt8](repeating: 0, count: CaptureFormat.magicLength)
            let n = pread(fileno(file), &magic, magic.count, 0)
            if n >= 0 && CaptureFormat(magic: magic.prefix(n)) == .other {
                let source = try openWithLibpcap(file, path: path, filter: filter, magic: magic)
                source.fileDescriptor = fileno(file)
                return source
            }
            let fd = dup(fileno(file))
            fclose(file)
            guard fd >= 0 else {
                throw CaptureError(.open, source: path, message: "cannot open: \(String(cString: strerror(errno)))")
            }
            input = FileDescriptorInput(descriptor: fd, closesDescriptor: true)
        }
        let source = try openStream(input, path: path, filter: filter, forCopying: forCopying)
        source.fileDescriptor = (input as? FileDescriptorInput)?.descriptor
        return source
    }

    /// A pcap file (or anything libpcap may tell is not a capture) read by libpcap from `file`.
    private static func openWithLibpcap(_ file: UnsafeMutablePointer<FILE>, path: String, filter: String?,
                                        magic: [UInt8], stream: StreamCookie? = nil) throws -> PacketSource {
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        let buffer = giveLargeBuffer(file)
        // This stream is read by one thread at a time (the replay thread reading this file), so
        // its reads need no lock.
        ctd_stream_lock_by_caller(file)
        guard let h = pcap_fopen_offline_with_tstamp_precision(file, UInt32(PCAP_TSTAMP_PRECISION_NANO), &errbuf) else {
            fclose(file)   // libpcap closes the stream only once it has taken it
            buffer?.deallocate()
            let msg = errbuf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw CaptureError(.open, source: path, message: stream?.words(libpcap: PacketSource.explainOpenError(msg))
                                                                 ?? PacketSource.explainOpenError(msg))
        }
        let source = PacketSource(handle: h, name: path, isLive: false, nanosecondPrecision: true)
        source.fileBuffer = buffer
        source.stream = stream
        source.compression = stream?.compression
        // pcap's nanosecond magic, in either byte order (pcap(5)).
        source.nanosecondFile = magic == [0x4D, 0x3C, 0xB2, 0xA1] || magic == [0xA1, 0xB2, 0x3C, 0x4D]
        if let filter, !filter.isEmpty { try source.setFilter(filter) }
        return source
    }

    /// A file read as a stream of bytes: decompressed if it is compressed, then read by
    /// teardown's pcapng reader or by libpcap.
    private static func openStream(_ base: ByteInput, path: String, filter: String?, forCopying: Bool) throws -> PacketSource {
        var compression: Compression?
        func failed(_ e: CaptureFileError) -> CaptureError {
            CaptureError(.open, source: path, message: compression?.words(e) ?? e.message)
        }
        do {
            var input = base
            var magic = try input.readPrefix(CaptureFormat.magicLength)
            if case .compressed(let c) = CaptureFormat(magic: magic) {
                compression = c
                let decompressed = try c.decompressing(PrefixedInput(magic, then: input))
                input = ReadAheadInput(decompressed) ?? decompressed
                magic = try input.readPrefix(CaptureFormat.magicLength)
            }
            input = PrefixedInput(magic, then: input)
            if CaptureFormat(magic: magic) == .pcapng {
                let file = try PcapngFile(PcapngReader(input), filter: filter, source: path, readingHeaders: !forCopying)
                let first = file.reader.interfaces.first
                guard let dead = pcap_open_dead_with_tstamp_precision(
                    dataLinkType(first?.linkType ?? .ethernet), Int32(clamping: PcapngFile.snapLength(first)),
                    UInt32(PCAP_TSTAMP_PRECISION_NANO)) else {
                    throw CaptureError(.open, source: path, message: "cannot create a pcap handle for the filter")
                }
                let source = PacketSource(handle: dead, name: path, pcapng: file)
                source.compression = compression
                return source
            }
            let cookie = StreamCookie(input, compression: compression)
            guard let file = cookie.open() else {
                throw CaptureError(.open, source: path, message: "cannot open a stream: \(String(cString: strerror(errno)))")
            }
            return try openWithLibpcap(file, path: path, filter: filter, magic: magic, stream: cookie)
        } catch let e as CaptureFileError {
            throw failed(e)
        }
    }

    /// Gives `stream` a `fileBufferSize` buffer; returns it (the caller frees it after the
    /// stream is closed), or nil when stdio refused it and keeps its own.
    private static func giveLargeBuffer(_ stream: UnsafeMutablePointer<FILE>) -> UnsafeMutableRawPointer? {
        let b = UnsafeMutableRawPointer.allocate(byteCount: fileBufferSize, alignment: 64)
        guard setvbuf(stream, b.assumingMemoryBound(to: CChar.self), _IOFBF, fileBufferSize) == 0 else {
            b.deallocate()
            return nil
        }
        return b
    }

    /// Turns libpcap's open errors into words a user can act on.
    static func explainOpenError(_ msg: String) -> String {
        if msg.contains("unknown file format") {
            return "not a pcap or pcapng capture (\(msg))"
        }
        if msg.contains("only got 0") && msg.contains("file header") {
            // pcap-common: nothing at all could be read (an empty pipe or standard input).
            return "is empty, not a capture (\(msg))"
        }
        if msg.contains("truncated dump file") || msg.contains("truncated pcapng") {
            return "file ends inside its header (\(msg))"
        }
        return msg
    }

    /// The snapshot length the file or device was captured with (the first interface's).
    public var snapshotLength: Int { Int(pcap_snapshot(handle)) }

    /// Whether packets may come with other link types than `linkType` (a pcapng file, whose
    /// interfaces each have their own).
    public var linkTypeMayChange: Bool { pcapng != nil }

    /// The interfaces of a pcapng file and what each held, in the order they were described.
    public var interfaces: [InterfaceReport] { pcapng?.reports ?? [] }

    /// Compiles and installs a BPF filter (pcap-filter(7)).
    public func setFilter(_ expression: String) throws {
        var program = bpf_program()
        let netmask: bpf_u_int32 = 0xffff_ffff  // PCAP_NETMASK_UNKNOWN
        if pcap_compile(handle, &program, expression, 1, netmask) != 0 {
            throw CaptureError(.filter, source: name,
                               message: "bad filter '\(expression)': \(String(cString: pcap_geterr(handle)))")
        }
        defer { pcap_freecode(&program) }
        if pcap_setfilter(handle, &program) != 0 {
            throw CaptureError(.filter, source: name,
                               message: "cannot install filter '\(expression)': \(String(cString: pcap_geterr(handle)))")
        }
    }

    /// Reads packets until the input ends, `stop()` is called, or `body` returns false.
    ///
    /// A read error (a record cut short, a corrupt block) is thrown after every packet before
    /// it was delivered, naming the packet number it happened at.
    /// - Parameter idle: called when a live read times out with no packet (every
    ///   `LiveOptions.timeoutMilliseconds`), so callers can act on wall-clock time.
    @discardableResult
    public func read(idle: () -> Void = {}, _ body: (CapturedPacket) throws -> Bool) throws -> ReadOutcome {
        if isLive { return try readLive(idle: idle, body) }
        if let pcapng { return try readPcapng(pcapng, body) }
        var header: UnsafeMutablePointer<pcap_pkthdr>? = nil
        var data: UnsafePointer<UInt8>? = nil
        while true {
            let rc = pcap_next_ex(handle, &header, &data)
            switch rc {
            case 1:
                guard let h = header, let d = data else { continue }
                if try !body(nextPacket(h, d)) { return .stoppedByCallback }
            case 0:
                if stopRequested { return .stopped }
                idle()  // live timeout with no packet
            case PCAP_ERROR_BREAK:
                return isLive ? .stopped : (stopRequested ? .stopped : .endOfInput)
            default:
                // A stream teardown fills (decompressed bytes) says what went wrong itself.
                let msg = PacketSource.explainReadError(String(cString: pcap_geterr(handle)))
                throw CaptureError(.read, source: name, packetNumber: packetCount + 1, message: stream?.words(libpcap: msg) ?? msg)
            }
        }
    }

    /// The packet libpcap just returned (`pcap_next_ex`'s header and data), counted and numbered.
    @inline(__always)
    private func nextPacket(_ header: UnsafeMutablePointer<pcap_pkthdr>, _ data: UnsafePointer<UInt8>) -> CapturedPacket {
        packetCount += 1
        let h = header.pointee
        let t = Timestamp(seconds: Int64(h.ts.tv_sec), nanoseconds: Int64(h.ts.tv_usec) &* (nanosecondPrecision ? 1 : 1000))
        return CapturedPacket(time: t, bytes: UnsafeRawBufferPointer(start: data, count: Int(h.caplen)),
                              originalLength: Int(h.len), number: packetCount, linkType: linkType)
    }

    /// Reads a pcapng file with teardown's reader: each packet with its interface's link type,
    /// the filter compiled for that link type.
    private func readPcapng(_ file: PcapngFile, _ body: (CapturedPacket) throws -> Bool) throws -> ReadOutcome {
        while true {
            if stopRequested { return .stopped }
            let p: PcapngReader.Packet
            do {
                guard let next = try file.reader.next() else { return .endOfInput }
                p = next
            } catch let e as CaptureFileError {
                throw CaptureError(.read, source: name, packetNumber: packetCount + 1, message: compression?.words(e) ?? e.message)
            }
            guard file.accepts(p) else { continue }
            packetCount += 1
            let packet = CapturedPacket(time: p.time, bytes: p.bytes, originalLength: p.originalLength,
                                        number: packetCount, linkType: p.linkType)
            if try !body(packet) { return .stoppedByCallback }
        }
    }

    /// How long a live read waits for a packet before calling `idle`.
    var idleMilliseconds: Int32 = 100

    /// Live reads: libpcap in immediate mode waits in poll() without a timeout, so the handle is
    /// made non-blocking and the wait is ours: poll(2) on pcap_get_selectable_fd with a timeout,
    /// then drain. A signal that called pcap_breakloop ends the loop at the next pcap_next_ex.
    private func readLive(idle: () -> Void, _ body: (CapturedPacket) throws -> Bool) throws -> ReadOutcome {
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        let fd = pcap_get_selectable_fd(handle)
        guard fd >= 0, pcap_setnonblock(handle, 1, &errbuf) == 0 else {
            throw CaptureError(.read, source: name, message: "cannot wait for packets on this interface (no selectable descriptor)")
        }
        var header: UnsafeMutablePointer<pcap_pkthdr>? = nil
        var data: UnsafePointer<UInt8>? = nil
        while true {
            // In non-blocking mode pcap_next_ex does not report a break while no frame waits, so
            // the loop asks for itself whether a stop was requested (stop() or a stop signal).
            if stopRequested || StopSignals.requested(handle) { return .stopped }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, idleMilliseconds)
            if ready == 0 { idle() }
            if ready < 0 && errno != EINTR {
                throw CaptureError(.read, source: name, message: "poll: \(String(cString: strerror(errno)))")
            }
            // Drain what is there (after EINTR too: a stop request shows up as PCAP_ERROR_BREAK).
            while true {
                let rc = pcap_next_ex(handle, &header, &data)
                if rc == 0 { break }
                if rc == PCAP_ERROR_BREAK { return .stopped }
                guard rc == 1, let h = header, let d = data else {
                    throw CaptureError(.read, source: name, packetNumber: packetCount + 1,
                                       message: String(cString: pcap_geterr(handle)))
                }
                if try !body(nextPacket(h, d)) { return .stoppedByCallback }
            }
        }
    }

    static func explainReadError(_ msg: String) -> String {
        if msg.contains("truncated dump file") || msg.contains("truncated pcapng") {
            return "file ends in the middle of a packet record (\(msg))"
        }
        return msg
    }

    private var stopRequested = false

    /// Makes `read` return after the packet being processed (pcap_breakloop). Safe from a signal handler.
    public func stop() {
        stopRequested = true
        pcap_breakloop(handle)
    }
}
