import TeardownWire
#if canImport(Glibc)
import Glibc
#endif

/// Reads a pcapng file (draft-ietf-opsawg-pcapng) block by block, as Wireshark reads it: any
/// number of sections, each in its own byte order, and in each any number of interfaces, each
/// with its own link type, snapshot length, timestamp resolution (`if_tsresol`, a power of 10
/// or of 2) and offset (`if_tsoffset`). libpcap stops at an interface whose link type or
/// snapshot length differs from the first's; this reader does not.
///
/// Packets come from Enhanced Packet Blocks, Simple Packet Blocks and the obsolete Packet
/// Block; Interface Description Blocks describe the interfaces; every other block (Name
/// Resolution, Interface Statistics, Decryption Secrets, custom, unknown) is skipped, as §3.1
/// asks of a reader. Every length is checked before it is used: a block shorter than its own
/// fields, a trailer that disagrees with the header, a packet longer than its block or than
/// 262,144 bytes (libpcap's and Wireshark's limit), a packet on an interface never described
/// is an error, thrown after every packet before it was returned. Memory is bounded by the
/// largest block accepted (16 MiB, libpcap's limit).
public final class PcapngReader {
    /// One packet; `bytes` is valid until the next call to `next()`.
    public struct Packet {
        public var linkType: LinkType
        /// The interface's index within its section (an Enhanced Packet Block's Interface ID).
        public var interface: Int
        public var time: Timestamp
        public var bytes: UnsafeRawBufferPointer
        /// The packet's length on the wire (`bytes` may be fewer: cut by the snapshot length).
        public var originalLength: Int
    }

    /// An Interface Description Block.
    public struct Interface: Sendable, Equatable {
        public var linkType: LinkType
        /// 0: no limit.
        public var snapLength: Int
        public var resolution: Resolution
        /// `if_tsoffset`: seconds added to every timestamp.
        public var offsetSeconds: Int64
        /// The section it was described in (1 for the first) and its index there.
        public var section: Int
        public var index: Int
    }

    /// `if_tsresol`: a timestamp counts units of 10^-n or 2^-n seconds (10^-6 by default).
    public enum Resolution: Sendable, Equatable {
        case decimal(Int)
        case binary(Int)
    }

    /// Every block must fit in this (libpcap's largest block: its INITIAL_MAX_BLOCKSIZE).
    public static let maximumBlockLength = 16 << 20
    /// A packet's captured bytes (libpcap's and Wireshark's largest snapshot length).
    public static let maximumCapturedLength = 262_144
    /// Interfaces one section may describe; a file describing more is refused.
    public static let maximumInterfaces = 65_536

    /// The interfaces of the current section.
    public private(set) var interfaces: [Interface] = []
    /// Sections read so far (the Section Header Block opens one).
    public private(set) var sections = 0

    private let input: ByteInput
    private var buffer: UnsafeMutableRawPointer
    private var capacity: Int
    /// Unread bytes are `buffer[start..<end]`.
    private var start = 0
    private var end = 0
    private var inputEnded = false
    /// Offset in the file of `buffer[start]`, for messages.
    private var offset: UInt64 = 0
    /// The current section is in the other byte order than this machine's.
    public private(set) var swapped = false
    /// The last packet's time: a Simple Packet Block carries none and is given this.
    private var lastTime = Timestamp(nanoseconds: 0)

    /// Starts reading `input`, whose first block must be a Section Header Block.
    public init(_ input: ByteInput) throws {
        self.input = input
        capacity = 1 << 20
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        let first = try fill(4)
        guard first >= 4, buffer.loadUnaligned(as: UInt32.self) == PcapngReader.sectionHeader else {
            throw CaptureFileError(first < 4 ? .cut : .notACapture,
                                   first < 4 ? "file ends inside its header (\(first) bytes)" : "not a pcapng capture")
        }
    }

    deinit { buffer.deallocate() }

    static let sectionHeader: UInt32 = 0x0A0D_0D0A
    static let byteOrderMagic: UInt32 = 0x1A2B_3C4D

    /// The next packet, or nil at the end of the file.
    public func next() throws -> Packet? {
        while let (type, length) = try nextBlock() {
            if let packet = try consume(type, length) { return packet }
        }
        return nil
    }

    /// One block as it lies in the file, for a copier: its type, all its bytes (header, body,
    /// trailer, in its section's byte order: `swapped`), and the packet it holds, if it holds
    /// one. `bytes` and the packet's bytes are valid until the next call.
    public struct RawBlock {
        public var type: UInt32
        public var bytes: UnsafeRawBufferPointer
        public var packet: Packet?
    }

    /// The next block, whatever it is, read and checked as `next()` reads it; nil at the end.
    public func nextRawBlock() throws -> RawBlock? {
        guard let (type, length) = try nextBlock() else { return nil }
        let bytes = UnsafeRawBufferPointer(start: buffer + start, count: length)
        return RawBlock(type: type, bytes: bytes, packet: try consume(type, length))
    }

    /// Reads the blocks before the first interface is described (the section header, blocks
    /// to skip), so that it is known before any packet is read; a packet block stays unread.
    public func readHeaders() throws {
        while interfaces.isEmpty, let (type, length) = try nextBlock() {
            if type == 6 || type == 2 || type == 3 { return }
            _ = try consume(type, length)
        }
    }

    /// Reads the block `nextBlock` made readable; its packet, if it holds one.
    private func consume(_ type: UInt32, _ length: Int) throws -> Packet? {
        let body = UnsafeRawBufferPointer(start: buffer + start + 8, count: length - 12)
        let at = offset
        // Consumed now; the body stays where it is until the next call.
        start += length
        offset += UInt64(length)
        switch type {
        case PcapngReader.sectionHeader:
            try sectionHeader(body, at: at)
        case 1:
            try interfaceDescription(body, at: at)
        case 6:
            return try packet(body, at: at, enhanced: true)
        case 2:
            return try packet(body, at: at, enhanced: false)
        case 3:
            return try simplePacket(body, at: at)
        default:
            break
        }
        return nil
    }

    // MARK: blocks

    /// Makes the next whole block readable at `buffer[start...]` and checks its lengths;
    /// returns its type and total length, or nil at the end of the file.
    private func nextBlock() throws -> (UInt32, Int)? {
        let available = try fill(8)
        if available == 0 { return nil }
        guard available >= 8 else {
            throw CaptureFileError(.cut, "file ends in the middle of a block header (\(available) of 8 bytes, at byte \(offset))")
        }
        let isSection = buffer.loadUnaligned(fromByteOffset: start, as: UInt32.self) == PcapngReader.sectionHeader
        if isSection {
            // A new section may change the byte order: its byte-order magic says how to read its length.
            guard try fill(12) >= 12 else {
                throw CaptureFileError(.cut, sections == 0 ? "file ends inside its header (the section header block)"
                                       : "file ends in the middle of a section header block (at byte \(offset))")
            }
            switch buffer.loadUnaligned(fromByteOffset: start + 8, as: UInt32.self) {
            case PcapngReader.byteOrderMagic: swapped = false
            case PcapngReader.byteOrderMagic.byteSwapped: swapped = true
            case let m:
                throw CaptureFileError(sections == 0 ? .notACapture : .corrupt,
                                       "\(sections == 0 ? "not a pcapng capture: its" : "the") section header block at byte \(offset) has byte-order magic 0x\(String(m, radix: 16)), not 0x1a2b3c4d")
            }
        }
        let type = isSection ? PcapngReader.sectionHeader : u32(buffer + start)
        let length = Int(u32(buffer + start + 4))
        guard length >= 12, length % 4 == 0, length <= PcapngReader.maximumBlockLength else {
            let why = length < 12 ? "fewer than the 12 of a block's header and trailer"
                : length % 4 != 0 ? "not a multiple of 4" : "more than the \(PcapngReader.maximumBlockLength >> 20) MiB teardown accepts"
            throw CaptureFileError(.corrupt, "block of type 0x\(String(type, radix: 16)) at byte \(offset) claims \(length) bytes, \(why)")
        }
        let got = try fill(length)
        guard got >= length else {
            throw CaptureFileError(.cut, sections == 0 && isSection ? "file ends inside its header (the section header block)"
                                   : "file ends in the middle of a block (\(got) of its \(length) bytes, at byte \(offset))")
        }
        guard u32(buffer + start + length - 4) == UInt32(length) else {
            // libpcap's words, which replay has always printed for this.
            throw CaptureFileError(.corrupt, "block total length in header and trailer don't match")
        }
        return (type, length)
    }

    private func sectionHeader(_ body: UnsafeRawBufferPointer, at: UInt64) throws {
        guard body.count >= 16 else {
            throw CaptureFileError(.corrupt, "section header block at byte \(at) is \(body.count + 12) bytes, too short for its fields")
        }
        let major = u16(body, 4), minor = u16(body, 6)
        // Version 1.0; 1.2 was written by some early writers and reads as 1.0 (libpcap, Wireshark).
        guard major == 1, minor == 0 || minor == 2 else {
            throw CaptureFileError(sections == 0 ? .notACapture : .corrupt, "pcapng version \(major).\(minor) is not supported (1.0 is)")
        }
        sections += 1
        interfaces.removeAll(keepingCapacity: true)
    }

    private func interfaceDescription(_ body: UnsafeRawBufferPointer, at: UInt64) throws {
        guard sections > 0 else { throw CaptureFileError(.corrupt, "interface description block before any section header") }
        guard body.count >= 8 else {
            throw CaptureFileError(.corrupt, "interface description block at byte \(at) is \(body.count + 12) bytes, too short for its fields")
        }
        guard interfaces.count < PcapngReader.maximumInterfaces else {
            throw CaptureFileError(.corrupt, "more than \(PcapngReader.maximumInterfaces) interfaces in one section")
        }
        var interface = Interface(linkType: LinkType(rawValue: Int32(u16(body, 0))), snapLength: Int(u32(body, 4)),
                                  resolution: .decimal(6), offsetSeconds: 0, section: sections, index: interfaces.count)
        // Options (§3.5): code, length, value padded to 4 bytes; opt_endofopt (0) ends them.
        var o = 8
        while o + 4 <= body.count {
            let code = u16(body, o), length = Int(u16(body, o + 2))
            o += 4
            if code == 0 { break }
            guard length <= body.count - o else {
                throw CaptureFileError(.corrupt, "interface \(interface.index)'s option \(code) runs past the end of its block (at byte \(at))")
            }
            switch code {
            case 9:   // if_tsresol
                guard length == 1 else {
                    throw CaptureFileError(.corrupt, "interface \(interface.index)'s if_tsresol option is \(length) bytes, not 1")
                }
                let v = Int(body[o])
                if v & 0x80 != 0 {
                    guard v & 0x7F <= 63 else {
                        throw CaptureFileError(.corrupt, "interface \(interface.index)'s if_tsresol 2^-\(v & 0x7F) is finer than 64-bit timestamps can count")
                    }
                    interface.resolution = .binary(v & 0x7F)
                } else {
                    guard v <= 19 else {
                        throw CaptureFileError(.corrupt, "interface \(interface.index)'s if_tsresol 10^-\(v) is finer than 64-bit timestamps can count")
                    }
                    interface.resolution = .decimal(v)
                }
            case 14:  // if_tsoffset
                guard length == 8 else {
                    throw CaptureFileError(.corrupt, "interface \(interface.index)'s if_tsoffset option is \(length) bytes, not 8")
                }
                let v = body.baseAddress!.loadUnaligned(fromByteOffset: o, as: UInt64.self)
                interface.offsetSeconds = Int64(bitPattern: swapped ? v.byteSwapped : v)
            default:
                break
            }
            o += (length + 3) & ~3
        }
        interfaces.append(interface)
    }

    /// An Enhanced Packet Block (type 6), or the obsolete Packet Block (type 2), whose
    /// Interface ID is 16 bits followed by a 16-bit drops count.
    private func packet(_ body: UnsafeRawBufferPointer, at: UInt64, enhanced: Bool) throws -> Packet {
        let name = enhanced ? "enhanced packet block" : "packet block"
        guard body.count >= 20 else {
            throw CaptureFileError(.corrupt, "\(name) at byte \(at) is \(body.count + 12) bytes, too short for its fields")
        }
        let id = enhanced ? Int(u32(body, 0)) : Int(u16(body, 0))
        guard id < interfaces.count else {
            throw CaptureFileError(.corrupt, "packet on interface \(id), but its section describes \(interfaces.count) interface\(interfaces.count == 1 ? "" : "s")")
        }
        let units = UInt64(u32(body, 4)) << 32 | UInt64(u32(body, 8))
        let captured = Int(u32(body, 12)), original = Int(u32(body, 16))
        try checkCaptured(captured, room: body.count - 20, name: name, at: at)
        let interface = interfaces[id]
        let time = interface.time(units)
        lastTime = time
        return Packet(linkType: interface.linkType, interface: id, time: time,
                      bytes: UnsafeRawBufferPointer(rebasing: body[20..<20 + captured]), originalLength: original)
    }

    /// A Simple Packet Block (type 3): interface 0, no timestamp (it is given the previous
    /// packet's time, so that it does not move the clock), and a captured length that is the
    /// smallest of the original length, the block's room and the interface's snapshot length.
    private func simplePacket(_ body: UnsafeRawBufferPointer, at: UInt64) throws -> Packet {
        guard body.count >= 4 else {
            throw CaptureFileError(.corrupt, "simple packet block at byte \(at) is \(body.count + 12) bytes, too short for its fields")
        }
        guard let interface = interfaces.first else {
            throw CaptureFileError(.corrupt, "simple packet block, but its section describes no interface")
        }
        let original = Int(u32(body, 0))
        var captured = min(original, body.count - 4)
        if interface.snapLength > 0 { captured = min(captured, interface.snapLength) }
        try checkCaptured(captured, room: body.count - 4, name: "simple packet block", at: at)
        return Packet(linkType: interface.linkType, interface: 0, time: lastTime,
                      bytes: UnsafeRawBufferPointer(rebasing: body[4..<4 + captured]), originalLength: original)
    }

    private func checkCaptured(_ captured: Int, room: Int, name: String, at: UInt64) throws {
        guard captured <= PcapngReader.maximumCapturedLength else {
            throw CaptureFileError(.corrupt, "invalid packet capture length \(captured), bigger than the maximum of \(PcapngReader.maximumCapturedLength)")
        }
        guard captured <= room else {
            throw CaptureFileError(.corrupt, "\(name) at byte \(at) claims \(captured) captured bytes, but holds \(room)")
        }
    }

    // MARK: bytes

    /// Makes at least `n` bytes readable at `buffer[start...]` if the input has them; returns
    /// how many are.
    private func fill(_ n: Int) throws -> Int {
        if end - start >= n { return end - start }
        if start + n > capacity {
            // Move what is left to the front, and grow if a block is larger than the buffer.
            let left = end - start
            if n > capacity {
                let grown = UnsafeMutableRawPointer.allocate(byteCount: n, alignment: 16)
                grown.copyMemory(from: buffer + start, byteCount: left)
                buffer.deallocate()
                buffer = grown
                capacity = n
            } else if left > 0 {
                memmove(buffer, buffer + start, left)
            }
            start = 0
            end = left
        }
        while end - start < n && !inputEnded {
            let got = try input.read(into: UnsafeMutableRawBufferPointer(start: buffer + end, count: capacity - end))
            if got == 0 { inputEnded = true } else { end += got }
        }
        return end - start
    }

    @inline(__always) private func u32(_ p: UnsafeRawPointer) -> UInt32 {
        let v = p.loadUnaligned(as: UInt32.self)
        return swapped ? v.byteSwapped : v
    }

    @inline(__always) private func u32(_ body: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
        u32(body.baseAddress! + at)
    }

    @inline(__always) private func u16(_ body: UnsafeRawBufferPointer, _ at: Int) -> UInt16 {
        let v = body.baseAddress!.loadUnaligned(fromByteOffset: at, as: UInt16.self)
        return swapped ? v.byteSwapped : v
    }
}

extension PcapngReader.Interface {
    /// A timestamp of this interface (`units` of its resolution since its offset) as
    /// nanoseconds since the epoch, the fraction cut (not rounded) to nanoseconds as libpcap
    /// and Wireshark cut it. Arithmetic wraps: a damaged timestamp gives a wrong time, no trap.
    public func time(_ units: UInt64) -> Timestamp {
        var seconds: UInt64, nanoseconds: UInt64
        switch resolution {
        case .decimal(let n):
            let scale = PcapngReader.powersOf10[n]
            seconds = units / scale
            let fraction = units % scale
            nanoseconds = n <= 9 ? fraction * PcapngReader.powersOf10[9 - n] : fraction / PcapngReader.powersOf10[n - 9]
        case .binary(let n):
            seconds = units >> UInt64(n)
            let fraction = n == 0 ? 0 : units & (UInt64.max >> UInt64(64 - n))
            // fraction × 10^9 / 2^n, in 128 bits.
            let (high, low) = fraction.multipliedFullWidth(by: 1_000_000_000)
            nanoseconds = n == 0 ? 0 : (high << UInt64(64 - n)) | (low >> UInt64(n))
        }
        return Timestamp(seconds: Int64(bitPattern: seconds) &+ offsetSeconds, nanoseconds: Int64(nanoseconds))
    }
}

extension PcapngReader {
    static let powersOf10: [UInt64] = (0...19).map { n in (0..<n).reduce(1) { r, _ in r * 10 } }
}
