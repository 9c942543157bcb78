#if canImport(Glibc)
import Glibc
#endif

/// Writes a pcapng file (draft-ietf-opsawg-pcapng) to a file descriptor, block by block,
/// through a buffer of its own: a Section Header Block and Interface Description Blocks made
/// here, Enhanced Packet Blocks made here or copied from another pcapng file, and a packet
/// comment (`opt_comment`, §3.5) added to a copied packet block after the options it has.
///
/// Every block is written in one byte order, `swapped` or this machine's, so that a section
/// copied from a file is copied in its own and its options, whose values this writer does not
/// know, stay readable.
public final class PcapngWriter {
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    /// The blocks written now are in the other byte order than this machine's.
    public var swapped = false
    /// Bytes handed to the file so far.
    public private(set) var written: UInt64 = 0

    static let flushAt = 1 << 20
    /// An option's value is at most this long (its length is 16 bits); a longer comment is cut.
    public static let maximumOptionLength = 65_532

    /// Writes to `descriptor` (which the caller opened and closes).
    public init(descriptor: Int32) {
        self.descriptor = descriptor
        buffer.reserveCapacity(PcapngWriter.flushAt + 65_536)
    }

    // MARK: blocks made here

    /// A Section Header Block (§4.1): version 1.0, section length unknown, `shb_userappl`.
    public func sectionHeader(application: String) throws {
        let start = begin(PcapngReader.sectionHeader)
        u32(PcapngReader.byteOrderMagic)
        u16(1); u16(0)
        u32(0xFFFF_FFFF); u32(0xFFFF_FFFF)   // section length -1: not given
        option(4, Array(application.utf8))
        endOfOptions()
        try end(start)
    }

    /// An Interface Description Block (§4.2): `linkType` (a LINKTYPE_ value), `snapLength`, and
    /// `if_tsresol` when timestamps count other units than microseconds.
    public func interfaceDescription(linkType: UInt16, snapLength: UInt32, decimalDigits: Int) throws {
        let start = begin(1)
        u16(linkType); u16(0)
        u32(snapLength)
        if decimalDigits != 6 {
            option(9, [UInt8(truncatingIfNeeded: decimalDigits)])
            endOfOptions()
        }
        try end(start)
    }

    /// An Enhanced Packet Block (§4.3) of interface `interface` at `units` (of its resolution),
    /// with `comment` as its `opt_comment` if there is one.
    public func enhancedPacket(interface: UInt32, units: UInt64, bytes: UnsafeRawBufferPointer, originalLength: UInt32,
                               comment: String?) throws {
        let start = begin(6)
        u32(interface)
        u32(UInt32(truncatingIfNeeded: units >> 32)); u32(UInt32(truncatingIfNeeded: units))
        u32(UInt32(bytes.count)); u32(originalLength)
        buffer.append(contentsOf: bytes)
        pad()
        if let comment {
            commentOption(comment)
            endOfOptions()
        }
        try end(start)
    }

    // MARK: blocks copied

    /// Writes `block` (a whole block as it lies in a file of this writer's byte order) as it is.
    public func copy(_ block: UnsafeRawBufferPointer) throws {
        buffer.append(contentsOf: block)
        try flushIfFull()
    }

    /// Writes `block`, an Enhanced Packet Block (type 6) or Packet Block (type 2) as it lies in
    /// a file of this writer's byte order, with `comment` added after the options it already
    /// has (its own comments are kept). Returns false, writing nothing, when its options cannot
    /// be walked to their end (the caller then copies it as it is).
    public func copy(_ block: UnsafeRawBufferPointer, type: UInt32, adding comment: String) throws -> Bool {
        // Header (8), the fixed fields (20 in both types), the packet padded to 4, options, trailer (4).
        guard block.count >= 32 else { return false }
        let captured = Int(load32(block, 8 + 12))
        let optionsStart = 28 + ((captured + 3) & ~3)
        let optionsEnd = block.count - 4
        guard optionsStart <= optionsEnd else { return false }
        // The options before opt_endofopt (or the block's end), each padded to 4.
        var o = optionsStart
        while o + 4 <= optionsEnd {
            let code = load16(block, o), length = Int(load16(block, o + 2))
            if code == 0 { break }
            let next = o + 4 + ((length + 3) & ~3)
            guard next <= optionsEnd else { return false }
            o = next
        }
        guard o == optionsEnd || o + 4 <= optionsEnd else { return false }
        let start = begin(type)
        buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: block[8..<o]))
        commentOption(comment)
        endOfOptions()
        try end(start)
        return true
    }

    /// Hands what is buffered to the file.
    public func flush() throws {
        var offset = 0
        while offset < buffer.count {
            let n = buffer.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw CaptureFileError(.io, "cannot write: \(String(cString: strerror(errno)))")
            }
            offset += n
        }
        written += UInt64(buffer.count)
        buffer.removeAll(keepingCapacity: true)
    }

    // MARK: bytes

    private func flushIfFull() throws {
        if buffer.count >= PcapngWriter.flushAt { try flush() }
    }

    /// Starts a block of `type`; returns where it starts (its length is filled in by `end`).
    private func begin(_ type: UInt32) -> Int {
        let start = buffer.count
        u32(type)
        u32(0)
        return start
    }

    /// Ends the block begun at `start`: its total length in header and trailer.
    private func end(_ start: Int) throws {
        let length = UInt32(buffer.count - start + 4)
        u32(length)
        withUnsafeBytes(of: swapped ? length.byteSwapped : length) { raw in
            for i in 0..<4 { buffer[start + 4 + i] = raw[i] }
        }
        try flushIfFull()
    }

    private func u16(_ v: UInt16) {
        withUnsafeBytes(of: swapped ? v.byteSwapped : v) { buffer.append(contentsOf: $0) }
    }

    private func u32(_ v: UInt32) {
        withUnsafeBytes(of: swapped ? v.byteSwapped : v) { buffer.append(contentsOf: $0) }
    }

    private func pad() {
        while buffer.count % 4 != 0 { buffer.append(0) }
    }

    private func option(_ code: UInt16, _ value: [UInt8]) {
        u16(code)
        u16(UInt16(value.count))
        buffer.append(contentsOf: value)
        pad()
    }

    /// `opt_comment` (code 1): UTF-8, cut at a character's start to fit an option.
    private func commentOption(_ comment: String) {
        var bytes = Array(comment.utf8)
        if bytes.count > PcapngWriter.maximumOptionLength {
            var cut = PcapngWriter.maximumOptionLength
            while cut > 0 && bytes[cut] & 0xC0 == 0x80 { cut -= 1 }
            bytes.removeSubrange(cut...)
        }
        option(1, bytes)
    }

    private func endOfOptions() {
        u16(0); u16(0)
    }

    private func load16(_ b: UnsafeRawBufferPointer, _ at: Int) -> UInt16 {
        let v = b.baseAddress!.loadUnaligned(fromByteOffset: at, as: UInt16.self)
        return swapped ? v.byteSwapped : v
    }

    private func load32(_ b: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
        let v = b.baseAddress!.loadUnaligned(fromByteOffset: at, as: UInt32.self)
        return swapped ? v.byteSwapped : v
    }
}
