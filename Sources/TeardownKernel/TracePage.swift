/// One sub-buffer ("page") of the kernel's ring buffer, as `per_cpu/cpuN/trace_pipe_raw` hands
/// it out: a header (`events/header_page`: u64 `timestamp`, then `commit`, a local_t of 8 bytes
/// on 64-bit kernels, whose low bits count the bytes of data and whose bit 31 says events were
/// lost before this page), then events, each behind a 32-bit header (`events/header_event`:
/// `type_len` in the low 5 bits, `time_delta` in the other 27). kernel/trace/ring_buffer.c;
/// libtraceevent's kbuffer.c reads it the same way.
///
///   type_len 1...28   a record of type_len × 4 bytes follows
///   type_len 0        a u32 length (counting itself) follows, then the record
///   type_len 29       padding: a u32 length follows; the bytes it covers are skipped
///   type_len 30       time extend: a u32 follows; (u32 << 27) + time_delta is added to the time
///   type_len 31       absolute time stamp: the same sum replaces the time
///
/// Every record's time is the page's timestamp plus the deltas up to it, in the instance's
/// `trace_clock`. Host byte order throughout.
public enum TracePage {
    /// What reading a page found besides its records.
    public struct Summary: Hashable, Sendable {
        public var records = 0
        /// The kernel lost events before this page (the buffer was full).
        public var missedEvents = false
        /// Why reading stopped before the end of the data, if it did; the records before it were
        /// delivered.
        public var error: TracePageError?
    }

    /// Where a page's header puts its fields, read from `events/header_page`: `commit` is a
    /// `local_t`, 8 bytes on a 64-bit kernel and 4 on a 32-bit one, and the data follows it.
    public struct Header: Hashable, Sendable {
        /// Offset and size of `commit` (the timestamp is always the u64 at 0).
        public var commitOffset: Int
        public var commitSize: Int
        /// Where the events begin, and how many bytes of them a page can hold.
        public var dataOffset: Int
        public var dataSize: Int
        /// The bytes of one page as `trace_pipe_raw` hands it out.
        public var pageSize: Int { dataOffset + dataSize }

        public init(commitOffset: Int, commitSize: Int, dataOffset: Int, dataSize: Int) {
            self.commitOffset = commitOffset; self.commitSize = commitSize
            self.dataOffset = dataOffset; self.dataSize = dataSize
        }

        /// A 64-bit kernel's header with 4 KiB pages (the file on this machine's 6.18).
        public static let standard = Header(commitOffset: 8, commitSize: 8, dataOffset: 16, dataSize: 4080)

        /// Reads `events/header_page`: `field: u64 timestamp; offset:0; size:8; ...`, then
        /// `local_t commit`, `int overwrite` and `char data`. Nil when `timestamp`, `commit` or
        /// `data` is missing or placed where a page cannot hold it.
        public static func parse(_ text: String) -> Header? {
            var fields: [String: TraceField] = [:]
            for raw in text.split(separator: "\n") {
                let line = raw.drop { $0 == " " || $0 == "\t" }
                guard line.hasPrefix("field:"), let f = TraceEventFormat.parseField(line) else { continue }
                if fields[f.name] == nil { fields[f.name] = f }
            }
            guard let ts = fields["timestamp"], ts.offset == 0, ts.size == 8,
                  let commit = fields["commit"], commit.size == 4 || commit.size == 8, commit.offset >= 8,
                  let data = fields["data"], data.offset >= commit.offset + commit.size,
                  data.size >= 8, data.offset + data.size <= TraceEventFormat.fieldLimit else { return nil }
            return Header(commitOffset: commit.offset, commitSize: commit.size, dataOffset: data.offset, dataSize: data.size)
        }
    }

    static let missedEventsBit: UInt64 = 1 << 31
    /// The bits of `commit` that count bytes (ring_buffer.c keeps flags at bit 30 and up).
    static let commitMask: UInt64 = (1 << 30) - 1

    /// Calls `body` with each record of `page` and its time (nanoseconds on the trace clock).
    /// Never reads outside `page`, whatever it holds.
    @discardableResult
    public static func records(in page: UnsafeRawBufferPointer, header: Header = .standard,
                               _ body: (_ time: UInt64, _ record: UnsafeRawBufferPointer) -> Void) -> Summary {
        var summary = Summary()
        let headerSize = header.dataOffset
        guard page.count >= headerSize else { summary.error = .shortHeader(available: page.count); return summary }
        var time = page.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
        let commit = header.commitSize == 8 ? page.loadUnaligned(fromByteOffset: header.commitOffset, as: UInt64.self)
            : UInt64(page.loadUnaligned(fromByteOffset: header.commitOffset, as: UInt32.self))
        summary.missedEvents = commit & missedEventsBit != 0
        let size = Int(commit & commitMask)
        guard size <= page.count - headerSize else {
            summary.error = .commitPastPage(commit: size, available: page.count - headerSize)
            return summary
        }
        let end = headerSize + size
        var offset = headerSize
        func u32(_ o: Int) -> UInt32? { o <= end - 4 ? page.loadUnaligned(fromByteOffset: o, as: UInt32.self) : nil }
        while offset < end {
            guard let header = u32(offset) else { summary.error = .cutShort(offset: offset); return summary }
            let typeLen = header & 31
            let delta = UInt64(header >> 5)
            offset += 4
            switch typeLen {
            case 29:
                guard let length = u32(offset) else { summary.error = .cutShort(offset: offset); return summary }
                // A padding with no delta ends the page's data (ring_buffer.c rb_event_is_padding).
                if delta == 0 && length == 0 { return summary }
                time &+= delta
                guard Int(length) <= end - offset else { summary.error = .cutShort(offset: offset); return summary }
                offset += max(4, Int(length))
            case 30, 31:
                guard let extend = u32(offset) else { summary.error = .cutShort(offset: offset); return summary }
                let value = UInt64(extend) << 27 &+ delta
                if typeLen == 30 {
                    time &+= value
                } else {
                    // An absolute stamp holds the low 59 bits; the rest are the page's
                    // (ring_buffer.c rb_fix_abs_ts).
                    let high = time & ~((1 << 59) - 1)
                    var absolute = value | high
                    if high != 0, absolute < time { absolute &+= 1 << 59 }
                    time = absolute
                }
                offset += 4
            default:
                var length = Int(typeLen) * 4
                if typeLen == 0 {
                    guard let stored = u32(offset), stored >= 4 else { summary.error = .cutShort(offset: offset); return summary }
                    length = (Int(stored) - 4 + 3) & ~3
                    offset += 4
                }
                guard length <= end - offset else { summary.error = .cutShort(offset: offset); return summary }
                time &+= delta
                body(time, UnsafeRawBufferPointer(rebasing: page[offset..<offset + length]))
                summary.records += 1
                offset += length
            }
        }
        return summary
    }
}

/// Why a ring-buffer page could not be read to its end.
public enum TracePageError: Error, Hashable, Sendable {
    /// Fewer bytes than the page header (16 on a 64-bit kernel).
    case shortHeader(available: Int)
    /// The header's commit counts more data than the page holds.
    case commitPastPage(commit: Int, available: Int)
    /// An event header or its record runs past the committed data (the byte offset of the event).
    case cutShort(offset: Int)
}
