import TeardownModel
import TeardownRender
#if canImport(Glibc)
import Glibc
#endif

/// The packet comments of `--annotate`, gathered as connections end (out of packet order) and
/// handed back in packet order for the copy.
///
/// They wait for the end of the input, so they are held compactly and in bounded memory: each
/// comment's bytes in one arena, and per comment its packet number and where its bytes lie (24
/// bytes), instead of a String each. Past `spillBytes`, what is held is sorted by packet number
/// and written to a temporary file (unlinked at once, so nothing is left behind) as a run; at
/// the end the runs are merged as the copy asks for packets in order, each read through a
/// buffer of its own: memory is then the arena, the runs' buffers, and nothing per packet.
public final class PacketCommentStore {
    private var arena: [UInt8] = []
    private var entries: [(number: Int, offset: Int, length: Int)] = []
    private var sorted = true
    /// The next entry `comment(for:)` looks at.
    private var cursor = 0
    /// How many bytes of comments are held before they are written to a run.
    let spillBytes: Int
    /// The temporary file holding the runs (-1: none yet), its size, and the runs' extents.
    private var spill: Int32 = -1
    private var spillSize = 0
    private var runs: [Run] = []
    /// Comments added, in memory and in runs.
    public private(set) var count = 0
    /// What went wrong writing or reading the temporary file; comments are then missing.
    public private(set) var failure: String?
    private var merging = false

    public init(spillBytes: Int = 4 << 20) {
        self.spillBytes = max(1, spillBytes)
    }

    deinit {
        if spill >= 0 { close(spill) }
    }

    /// Bytes held in memory (the arena, the entries and the runs' buffers), for measurements.
    public var bytes: Int { arena.capacity + entries.capacity * 24 + runs.count * Run.bufferSize }

    /// Runs written to the temporary file.
    public var runCount: Int { runs.count }

    /// Adds the comments of `record`'s packets.
    public func add(_ record: ConnectionRecord) {
        for (number, text) in PacketComments.comments(record) { add(number, text) }
    }

    /// Adds `text` as the comment of packet `number` (once per packet), in any order.
    func add(_ number: Int, _ text: String) {
        if let last = entries.last, last.number > number { sorted = false }
        var t = text
        t.withUTF8 { entries.append((number, arena.count, $0.count)); arena.append(contentsOf: $0) }
        count += 1
        if arena.count >= spillBytes && failure == nil { writeRun() }
    }

    /// The comment of packet `number`; numbers must be asked for in increasing order, as a
    /// copy reads them.
    public func comment(for number: Int) -> String? {
        if !merging {
            merging = true
            if !runs.isEmpty && !entries.isEmpty && failure == nil { writeRun() }
            if !sorted {
                entries.sort { $0.number < $1.number }
                sorted = true
            }
            // The runs' buffers share 16 MiB (at least 4 KiB each): memory stays bounded
            // however many runs a long input made.
            let chunk = max(4 << 10, min(Run.bufferSize, (16 << 20) / max(1, runs.count)))
            for r in runs {
                r.chunk = chunk
                r.load(from: spill, failure: &failure)
            }
        }
        if runs.isEmpty {
            while cursor < entries.count && entries[cursor].number < number { cursor += 1 }
            guard cursor < entries.count, entries[cursor].number == number else { return nil }
            let e = entries[cursor]
            cursor += 1
            return arena.withUnsafeBufferPointer { String(decoding: $0[e.offset..<e.offset + e.length], as: UTF8.self) }
        }
        for r in runs where r.head != nil && r.head!.number < number { r.skip(below: number, from: spill, failure: &failure) }
        for r in runs where r.head?.number == number {
            let text = r.head!.text
            r.advance(from: spill, failure: &failure)
            return text
        }
        return nil
    }

    /// Sorts what is held by packet number and appends it to the temporary file as a run.
    private func writeRun() {
        if !sorted { entries.sort { $0.number < $1.number } }
        sorted = true
        if spill < 0 {
            var template = Array("\(PacketCommentStore.temporaryDirectory)/teardown-comments.XXXXXX".utf8CString)
            spill = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            guard spill >= 0 else {
                failure = "cannot make a temporary file in \(PacketCommentStore.temporaryDirectory): \(String(cString: strerror(errno)))"
                return
            }
            template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        }
        var out: [UInt8] = []
        out.reserveCapacity(arena.count + entries.count * 12)
        for e in entries {
            withUnsafeBytes(of: UInt64(e.number).littleEndian) { out.append(contentsOf: $0) }
            withUnsafeBytes(of: UInt32(e.length).littleEndian) { out.append(contentsOf: $0) }
            out.append(contentsOf: arena[e.offset..<e.offset + e.length])
        }
        var written = 0
        while written < out.count {
            let n = out.withUnsafeBytes { pwrite(spill, $0.baseAddress! + written, $0.count - written, off_t(spillSize + written)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                failure = "cannot write a temporary file in \(PacketCommentStore.temporaryDirectory): \(String(cString: strerror(errno)))"
                return
            }
            written += n
        }
        runs.append(Run(start: spillSize, end: spillSize + out.count))
        spillSize += out.count
        arena.removeAll(keepingCapacity: true)
        entries.removeAll(keepingCapacity: true)
    }

    /// `TMPDIR`, or /tmp.
    static var temporaryDirectory: String {
        if let d = getenv("TMPDIR"), d.pointee != 0 { return String(cString: d) }
        return "/tmp"
    }

    /// One run of the temporary file, read in order through a buffer.
    final class Run {
        static let bufferSize = 64 << 10
        /// Bytes read at a time.
        var chunk = Run.bufferSize
        /// Where its next unread byte and its end lie in the file.
        private var position: Int
        private let end: Int
        private var buffer: [UInt8] = []
        private var at = 0
        /// The comment at the front of the run, nil once it is used up.
        private(set) var head: (number: Int, text: String)?

        init(start: Int, end: Int) {
            position = start
            self.end = end
        }

        func load(from fd: Int32, failure: inout String?) { advance(from: fd, failure: &failure) }

        func skip(below number: Int, from fd: Int32, failure: inout String?) {
            while let h = head, h.number < number { advance(from: fd, failure: &failure) }
        }

        /// Reads the next comment into `head`.
        func advance(from fd: Int32, failure: inout String?) {
            head = nil
            guard fill(12, fd, &failure) else { return }
            let number = buffer.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: UInt64.self))) }
            let length = buffer.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: at + 8, as: UInt32.self))) }
            at += 12
            guard fill(length, fd, &failure) else { return }
            head = (number, String(decoding: buffer[at..<at + length], as: UTF8.self))
            at += length
        }

        /// Makes `n` bytes readable at `buffer[at...]`; false at the run's end or on an error.
        private func fill(_ n: Int, _ fd: Int32, _ failure: inout String?) -> Bool {
            if buffer.count - at >= n { return true }
            buffer.removeSubrange(0..<at)
            at = 0
            let want = min(max(n - buffer.count, chunk), end - position)
            guard want > 0 else { return false }
            let old = buffer.count
            buffer.append(contentsOf: repeatElement(0, count: want))
            var got = 0
            while got < want {
                let r = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + old + got, want - got, off_t(position + got)) }
                if r < 0 && errno == EINTR { continue }
                guard r > 0 else {
                    failure = "cannot read back a temporary file: \(r < 0 ? String(cString: strerror(errno)) : "it ends early")"
                    buffer.removeSubrange(old...)
                    return false
                }
                got += r
            }
            position += want
            return buffer.count - at >= n
        }
    }
}
