/// Storage in fixed-size chunks whose elements never move: growing never copies the elements
/// already held (a doubling array of large elements would briefly hold two copies of them), and
/// mutation through the subscript happens in place, so a large element is never copied out to
/// be changed. A slot's address stays put, so it can be prefetched (`prefetch(_:)`).
///
/// Slots are not optional (testing an optional large struct for nil costs an outlined call per
/// access): a caller that frees a slot leaves its element there until it overwrites it.
public struct SlotArray<Element> {
    @inlinable static var chunkShift: Int { 9 }
    @inlinable static var chunkSize: Int { 1 << chunkShift }
    @usableFromInline var chunks: [[Element]] = []
    /// The number of slots.
    @inlinable public var count: Int { held }
    @usableFromInline var held = 0

    /// Where each chunk's elements start, for `prefetch`. A chunk never grows past the capacity
    /// it is made with, so its storage stays put; only a copy of the whole array, then mutated,
    /// would move it (the copy's prefetches would then load the original's memory: a wasted
    /// hint, never a fault).
    @usableFromInline var bases: [UnsafeRawPointer] = []

    @inlinable public init() {}

    @inlinable
    public subscript(i: Int) -> Element {
        get { chunks[i >> Self.chunkShift][i & (Self.chunkSize - 1)] }
        _modify { yield &chunks[i >> Self.chunkShift][i & (Self.chunkSize - 1)] }
    }

    /// Starts loading every cache line of the element in slot `i`. Reads the chunk's address
    /// from `bases`, not from `chunks`: taking a chunk out of `chunks` retains it, an atomic
    /// operation that stalls until the cache misses before it are served.
    @inlinable @inline(__always)
    public func prefetch(_ i: Int) {
        let chunk = i >> Self.chunkShift
        guard chunk < bases.count else { return }
        let start = bases[chunk] + (i & (Self.chunkSize - 1)) &* MemoryLayout<Element>.stride
        prefetchLines(start, bytes: MemoryLayout<Element>.size)
    }

    /// Adds a slot holding `element`; returns its index.
    @inlinable
    public mutating func append(_ element: Element) -> Int {
        if count & (Self.chunkSize - 1) == 0 {
            var chunk: [Element] = []
            chunk.reserveCapacity(Self.chunkSize)
            chunk.withUnsafeBufferPointer { if let base = $0.baseAddress { bases.append(UnsafeRawPointer(base)) } }
            chunks.append(chunk)
        }
        chunks[chunks.count - 1].append(element)
        held += 1
        return held - 1
    }
}
