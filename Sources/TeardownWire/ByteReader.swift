/// A bounds-checked, read-only view of one packet's captured bytes.
///
/// Every read returns `nil` when the bytes run out instead of trapping (the swift-nio
/// `ByteBuffer.getInteger` contract). Multi-byte integers are read unaligned in network byte
/// order (big-endian), as every header this module decodes stores them (RFC 1700 "Data Notations").
///
/// Offsets are absolute: they count from the first captured byte of the packet, so a header's
/// decoder adds its own start offset to the field offsets named in its layout.
@usableFromInline
struct ByteReader {
    @usableFromInline let bytes: UnsafeRawBufferPointer

    @inline(__always) @usableFromInline
    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// Number of captured bytes.
    @inline(__always) @usableFromInline
    var count: Int { bytes.count }

    /// Whether `length` bytes starting at `offset` were captured.
    ///
    /// Written so that it cannot overflow for any `offset` and any `length >= 0`:
    /// `bytes.count - length` is at least `-length`, never below `Int.min`.
    @inline(__always) @usableFromInline
    func has(_ length: Int, at offset: Int) -> Bool {
        offset >= 0 && length >= 0 && offset <= bytes.count &- length
    }

    @inline(__always) @usableFromInline
    func u8(at offset: Int) -> UInt8? {
        guard has(1, at: offset) else { return nil }
        return bytes.loadUnaligned(fromByteOffset: offset, as: UInt8.self)
    }

    @inline(__always) @usableFromInline
    func u16(at offset: Int) -> UInt16? {
        guard has(2, at: offset) else { return nil }
        return UInt16(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    @inline(__always) @usableFromInline
    func u32(at offset: Int) -> UInt32? {
        guard has(4, at: offset) else { return nil }
        return UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    @inline(__always) @usableFromInline
    func u64(at offset: Int) -> UInt64? {
        guard has(8, at: offset) else { return nil }
        return UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
}
