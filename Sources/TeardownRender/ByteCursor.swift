/// Writes bytes into memory lent to it for one rendering, and never past the end of it.
///
/// The line renderers run once per connection of captures with hundreds of thousands of them;
/// appending to a `[UInt8]` field by field cost a uniqueness check, a capacity check and often
/// a generic call per field. A cursor is three pointers: each write is one bounds check and a
/// store or a `memcpy`. A write that does not fit sets `overflowed` and writes nothing; the
/// owner of the memory then renders again with more room (`append(to:_:)` and
/// `OutputWriter.render` do), so output is never cut and nothing traps.
public struct ByteCursor {
    let start: UnsafeMutablePointer<UInt8>
    var position: UnsafeMutablePointer<UInt8>
    let end: UnsafeMutablePointer<UInt8>
    /// True once a write did not fit: what was written is incomplete and must be thrown away.
    public private(set) var overflowed = false

    /// A cursor at the start of `memory`; nil when it has no memory at all.
    public init?(_ memory: UnsafeMutableRawBufferPointer) {
        guard let base = memory.baseAddress else { return nil }
        start = base.bindMemory(to: UInt8.self, capacity: memory.count)
        position = start
        end = start + memory.count
    }

    /// Bytes written so far.
    public var count: Int { position - start }

    /// Takes `n` bytes for the caller to fill, or returns nil (and records the overflow) when
    /// they do not fit.
    mutating func claim(_ n: Int) -> UnsafeMutablePointer<UInt8>? {
        guard n >= 0, n <= end - position else { overflowed = true; return nil }
        let p = position
        position += n
        return p
    }

    public mutating func write(_ byte: UInt8) {
        guard position < end else { overflowed = true; return }
        position.pointee = byte
        position += 1
    }

    /// Two bytes (a gutter, `":`), with one bounds check.
    public mutating func write(_ a: UInt8, _ b: UInt8) {
        guard let p = claim(2) else { return }
        p[0] = a
        p[1] = b
    }

    @inline(__always)
    public mutating func write(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, let p = claim(bytes.count) else { return }
        ByteCursor.copy(bytes.count, from: source, to: UnsafeMutableRawPointer(p))
    }

    /// Copies `n` bytes. Most of what the renderers copy (keys, states, numbers, addresses) is
    /// 16 bytes or less: that is done in line with at most two loads and two stores (which
    /// may overlap each other), cheaper than a call to `memcpy`. Every load comes before any
    /// store, so source and destination may overlap too.
    @inline(__always)
    static func copy(_ n: Int, from s: UnsafeRawPointer, to d: UnsafeMutableRawPointer) {
        switch n {
        case 8...16:
            let head = s.loadUnaligned(as: UInt64.self)
            let tail = s.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
            d.storeBytes(of: head, as: UInt64.self)
            d.storeBytes(of: tail, toByteOffset: n - 8, as: UInt64.self)
        case 4..<8:
            let head = s.loadUnaligned(as: UInt32.self)
            let tail = s.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
            d.storeBytes(of: head, as: UInt32.self)
            d.storeBytes(of: tail, toByteOffset: n - 4, as: UInt32.self)
        case 1..<4:
            let first = s.load(as: UInt8.self)
            let middle = s.load(fromByteOffset: n / 2, as: UInt8.self)
            let last = s.load(fromByteOffset: n - 1, as: UInt8.self)
            d.storeBytes(of: first, as: UInt8.self)
            d.storeBytes(of: middle, toByteOffset: n / 2, as: UInt8.self)
            d.storeBytes(of: last, toByteOffset: n - 1, as: UInt8.self)
        case 17...:
            d.copyMemory(from: s, byteCount: n)   // memmove: overlap is allowed
        default:
            break
        }
    }

    /// Always in line: the length of a literal is then a constant, and `copy` folds to the
    /// one or two stores that length needs (the timeline writes a dozen literals a row).
    @inline(__always)
    public mutating func write(_ text: StaticString) {
        if text.hasPointerRepresentation {
            write(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        } else {
            text.withUTF8Buffer { write(UnsafeRawBufferPointer($0)) }
        }
    }

    /// The UTF-8 of `text`, unchanged. (Labelled, so that a literal picks `StaticString`.)
    public mutating func write(utf8 text: String) {
        text.withUTF8Bytes { write($0) }
    }

    public mutating func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write($0) }
    }

    /// `n` spaces (none when `n` is not positive).
    @inline(__always)
    mutating func writeSpaces(_ n: Int) {
        guard n > 0, let p = claim(n) else { return }
        ByteCursor.fillSpaces(n, at: UnsafeMutableRawPointer(p))
    }

    /// Moves what was written since `mark` right by `n` bytes and fills the gap with spaces:
    /// right-aligns a cell whose width is known only once it is written.
    mutating func insertSpaces(_ n: Int, at mark: Int) {
        guard n > 0, mark >= 0, mark <= count, let p = claim(n) else { return }
        let from = UnsafeMutableRawPointer(start + mark)
        ByteCursor.copy(UnsafeMutableRawPointer(p) - from, from: from, to: from + n)   // regions overlap
        ByteCursor.fillSpaces(n, at: from)
    }

    /// Column padding is short (at most 32 spaces): a few 8-, 4-, 2- or 1-byte stores, which
    /// may overlap each other, rather than a loop (which the compiler turns into `memset`).
    @inline(__always)
    static func fillSpaces(_ n: Int, at d: UnsafeMutableRawPointer) { fill(n, with: 0x20, at: d) }

    /// `n` copies of `byte` at `d`, as `fillSpaces` writes them.
    @inline(__always)
    static func fill(_ n: Int, with byte: UInt8, at d: UnsafeMutableRawPointer) {
        let eight = UInt64(byte) &* 0x0101_0101_0101_0101
        switch n {
        case 8...32:
            d.storeBytes(of: eight, as: UInt64.self)
            if n > 16 { d.storeBytes(of: eight, toByteOffset: 8, as: UInt64.self) }
            if n > 24 { d.storeBytes(of: eight, toByteOffset: 16, as: UInt64.self) }
            d.storeBytes(of: eight, toByteOffset: n - 8, as: UInt64.self)
        case 4..<8:
            d.storeBytes(of: UInt32(truncatingIfNeeded: eight), as: UInt32.self)
            d.storeBytes(of: UInt32(truncatingIfNeeded: eight), toByteOffset: n - 4, as: UInt32.self)
        case 2..<4:
            d.storeBytes(of: UInt16(truncatingIfNeeded: eight), as: UInt16.self)
            d.storeBytes(of: UInt16(truncatingIfNeeded: eight), toByteOffset: n - 2, as: UInt16.self)
        case 1:
            d.storeBytes(of: byte, as: UInt8.self)
        case 33...:
            d.initializeMemory(as: UInt8.self, repeating: byte, count: n)
        default:
            break
        }
    }

    /// Unicode scalars written since `mark`: bytes that are not UTF-8 continuation bytes
    /// (`0b10xxxxxx`): the columns they take, every glyph the renderers draw being single-width.
    func scalarCount(since mark: Int) -> Int {
        guard mark >= 0, mark <= count else { return 0 }
        var n = 0
        var p = start + mark
        while p < position {
            if p.pointee & 0xC0 != 0x80 { n += 1 }
            p += 1
        }
        return n
    }

    /// The bytes written since `mark` (valid until the next write).
    func written(since mark: Int) -> UnsafeBufferPointer<UInt8> {
        guard mark >= 0, mark <= count else { return UnsafeBufferPointer(start: position, count: 0) }
        return UnsafeBufferPointer(start: start + mark, count: position - (start + mark))
    }

    /// Renders with `body` and appends what it wrote to `bytes`: into a scratch buffer first,
    /// twice the size and again whenever the body ran out of room.
    public static func append(to bytes: inout [UInt8], initialCapacity: Int = 1024, _ body: (inout ByteCursor) -> Void) {
        var capacity = max(initialCapacity, 64)
        while true {
            let done = withUnsafeTemporaryAllocation(byteCount: capacity, alignment: 1) { memory -> Bool in
                guard var cursor = ByteCursor(memory) else { return false }
                body(&cursor)
                if cursor.overflowed { return false }
                bytes.append(contentsOf: cursor.written(since: 0))
                return true
            }
            if done { return }
            let (doubled, overflow) = capacity.multipliedReportingOverflow(by: 2)
            guard !overflow else { return }   // more than half the address space: cannot happen
            capacity = doubled
        }
    }

    /// What `body` writes, as a String (the renderers write only valid UTF-8).
    public static func string(initialCapacity: Int = 64, _ body: (inout ByteCursor) -> Void) -> String {
        var bytes: [UInt8] = []
        append(to: &bytes, initialCapacity: initialCapacity, body)
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension String {
    /// Calls `body` with this string's UTF-8 bytes: in place for a native string, from a
    /// contiguous copy otherwise.
    func withUTF8Bytes(_ body: (UnsafeRawBufferPointer) -> Void) {
        if utf8.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) != nil { return }
        var copy = self
        copy.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }
}
