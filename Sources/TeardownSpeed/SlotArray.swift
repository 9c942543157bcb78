/// Storage for large elements in fixed-size chunks that never move: growing never copies the
/// elements already held (a doubling array of large elements would briefly hold two copies of
/// them), an element is changed where it lies (never copied out and back), and a slot's address
/// stays put, so it can be prefetched (`prefetch(_:)`).
///
/// Slots are not optional (testing an optional large struct for nil costs an outlined call per
/// access): a caller that frees a slot leaves its element there until it overwrites it.
///
/// A value, like an array: copies share their chunks until one of them changes (copy-on-write).
public struct SlotArray<Element> {
    @inlinable static var chunkShift: Int { 9 }
    @inlinable static var chunkSize: Int { 1 << chunkShift }

    /// Owns the chunks: deinitializes and frees them when the last copy goes. Its uniqueness
    /// decides whether a change needs a copy first.
    @usableFromInline
    final class Owner {
        @usableFromInline var chunks: [UnsafeMutablePointer<Element>] = []
        @usableFromInline var count = 0
        @inlinable init() {}

        @inlinable
        deinit {
            for (c, chunk) in chunks.enumerated() {
                chunk.deinitialize(count: Swift.min(SlotArray.chunkSize, count - c * SlotArray.chunkSize))
                chunk.deallocate()
            }
        }
    }

    @usableFromInline var owner = Owner()
    /// Where each chunk starts (the owner's list, shared: read here without touching the owner).
    @usableFromInline var chunks: [UnsafeMutablePointer<Element>] = []
    /// The number of slots.
    @inlinable public var count: Int { held }
    @usableFromInline var held = 0

    @inlinable public init() {}

    @inlinable @inline(__always)
    func address(_ i: Int) -> UnsafeMutablePointer<Element> {
        precondition(i >= 0 && i < held, "slot out of range")
        return chunks[i >> Self.chunkShift] + (i & (Self.chunkSize - 1))
    }

    @inlinable
    public subscript(i: Int) -> Element {
        unsafeAddress { UnsafePointer(address(i)) }
        unsafeMutableAddress {
            makeUnique()
            return address(i)
        }
    }

    /// Starts loading every cache line of the element in slot `i`.
    @inlinable @inline(__always)
    public func prefetch(_ i: Int) {
        let chunk = i >> Self.chunkShift
        guard chunk < chunks.count else { return }
        prefetchLines(chunks[chunk] + (i & (Self.chunkSize - 1)), bytes: MemoryLayout<Element>.size)
    }

    /// Adds a slot holding `element`; returns its index.
    @inlinable
    public mutating func append(_ element: Element) -> Int {
        makeUnique()
        if held & (Self.chunkSize - 1) == 0 {
            owner.chunks.append(UnsafeMutablePointer<Element>.allocate(capacity: Self.chunkSize))
            chunks = owner.chunks
        }
        (chunks[held >> Self.chunkShift] + (held & (Self.chunkSize - 1))).initialize(to: element)
        held += 1
        owner.count = held
        return held - 1
    }

    /// Gives this array chunks of its own before a change, if a copy of it shares them.
    @inlinable @inline(__always)
    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&owner) { copyChunks() }
    }

    @inlinable
    mutating func copyChunks() {
        let copy = Owner()
        for (c, chunk) in chunks.enumerated() {
            let new = UnsafeMutablePointer<Element>.allocate(capacity: Self.chunkSize)
            new.initialize(from: chunk, count: Swift.min(Self.chunkSize, held - c * Self.chunkSize))
            copy.chunks.append(new)
        }
        copy.count = held
        owner = copy
        chunks = copy.chunks
    }
}
