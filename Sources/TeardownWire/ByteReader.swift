/// The captured bytes of one packet, and the one place where a header is checked against them.
///
/// Decoding follows smoltcp's `new_checked` (and gopacket's `DecodeFromBytes`): each header has
/// a view whose checked initialiser asks `has(_:at:)` for the bytes its fields need and checks
/// the fields that bound the others (header length, IP length against the wire, data offset);
/// it then takes the header's bytes with `header(at:length:)`, and every accessor of the view
/// reads a named `Field` of them without checking again. Nothing read from the wire can trap:
/// every read lies inside bytes that a checked initialiser confirmed were captured.
///
/// Offsets here are absolute: they count from the first captured byte of the packet.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    /// Number of captured bytes (`bytes.count`, kept apart so that it is worked out once).
    let count: Int

    @inline(__always)
    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        count = bytes.count
    }

    /// Whether `length` bytes starting at `offset` were captured.
    ///
    /// Cannot overflow for any `offset` and any `length >= 0`: `count - length` is at least
    /// `-length`, never below `Int.min`.
    @inline(__always)
    func has(_ length: Int, at offset: Int) -> Bool {
        offset >= 0 && length >= 0 && offset <= count - length
    }

    /// The `length` bytes at `offset`, which a checked initialiser has confirmed with
    /// `has(length, at: offset)` (asserted in debug builds); `length` is at least 1.
    @inline(__always)
    func header(at offset: Int, length: Int) -> HeaderBytes {
        assert(length > 0 && has(length, at: offset), "a header taken without its check")
        return HeaderBytes(UnsafeRawBufferPointer(start: bytes.baseAddress.unsafelyUnwrapped + offset, count: length))
    }
}

/// The captured bytes of one header, all of which its view's checked initialiser confirmed.
///
/// Reads are not checked again in release builds; debug builds (the tests) still check each
/// read against `count`, so an accessor that strays past its header fails its test.
/// Multi-byte fields are in network byte order (big-endian), as every header this module
/// decodes stores them (RFC 1700 "Data Notations").
struct HeaderBytes {
    let bytes: UnsafeRawBufferPointer

    @inline(__always)
    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// How many bytes of the header were captured and checked.
    @inline(__always)
    var count: Int { bytes.count }

    /// The value of `field`.
    @inline(__always)
    subscript<Value: FixedWidthInteger & BitwiseCopyable>(_ field: Field<Value>) -> Value {
        read(Value.self, at: field.offset)
    }

    /// The value of `field` of a structure that starts `base` bytes into the header, for
    /// structures whose place depends on the header (a TCP option, a SACK block).
    @inline(__always)
    subscript<Value: FixedWidthInteger & BitwiseCopyable>(_ field: Field<Value>, from base: Int) -> Value {
        read(Value.self, at: base + field.offset)
    }

    /// A big-endian `Value` at `offset` from the header's first byte.
    @inline(__always)
    func read<Value: FixedWidthInteger & BitwiseCopyable>(_: Value.Type, at offset: Int) -> Value {
        Value(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Value.self))
    }
}

/// A fixed-width field of a header: where it starts, counted from the header's first byte;
/// its width is its type's (`Field<UInt16>` is two bytes).
struct Field<Value: FixedWidthInteger & BitwiseCopyable> {
    let offset: Int

    @inline(__always)
    init(at offset: Int) { self.offset = offset }

    /// The offset just past the field.
    @inline(__always)
    var end: Int { offset + MemoryLayout<Value>.size }
}

/// A header's checked view: where the header starts in the packet, and its bytes, which its
/// checked initialiser confirmed were captured.
protocol HeaderView {
    /// The header's first byte, from the first captured byte of the packet.
    var start: Int { get }
    var bytes: HeaderBytes { get }
}

extension HeaderView {
    /// Just past the header's checked bytes.
    @inline(__always)
    var end: Int { start + bytes.count }
}

/// A link header of fixed length, whose one check is that all of it was captured.
protocol FixedLengthHeader: HeaderView {
    static var length: Int { get }
    /// The reason a packet whose bytes end inside this header is truncated.
    static var truncatedReason: StaticString { get }
    init(start: Int, bytes: HeaderBytes)
}

extension FixedLengthHeader {
    /// Checks that the whole header was captured.
    @inline(__always)
    init(checking reader: ByteReader, at start: Int) throws(DecodeError) {
        guard reader.has(Self.length, at: start) else {
            throw DecodeError(.truncated, .link, Self.truncatedReason)
        }
        self.init(start: start, bytes: reader.header(at: start, length: Self.length))
    }
}

/// A link header that names what it carries by EtherType (Ethernet, Linux cooked).
protocol EtherTypeHeader: FixedLengthHeader {
    var etherType: EtherType { get }
}
