/// A first-in, first-out queue that hands each entry out once, ahead of its turn, to have what
/// it refers to loaded before it reaches the head (`nextToPrefetch()`).
///
/// Entries are kept in an array from `head` on; the space before `head` is reclaimed in one move
/// once it is more than half the array (and more than 1,024 entries), so popping is O(1)
/// amortised.
public struct LookaheadQueue<Element> {
    /// How many entries at the head are handed out by `nextToPrefetch()`.
    @inlinable public static var lookahead: Int { 2 }

    @usableFromInline var entries: [Element] = []
    @usableFromInline var head = 0
    /// Entries before this one have been handed out by `nextToPrefetch()`.
    @usableFromInline var prefetched = 0

    @inlinable public init() {}

    @inlinable public var isEmpty: Bool { head == entries.count }

    /// The oldest entry, or nil.
    @inlinable public var first: Element? { head < entries.count ? entries[head] : nil }

    @inlinable
    public mutating func append(_ e: Element) { entries.append(e) }

    /// Removes the oldest entry (the queue must not be empty).
    @inlinable
    public mutating func removeFirst() {
        head += 1
        if head > 1024 && head * 2 > entries.count {
            entries.removeFirst(head)
            prefetched = max(0, prefetched - head)
            head = 0
        }
    }

    /// The next entry within `lookahead` of the head not handed out yet, or nil. Each entry is
    /// handed out once (or never, if it reached the head while the queue was not walked).
    @inlinable @inline(__always)
    public mutating func nextToPrefetch() -> Element? {
        if prefetched < head { prefetched = head }
        guard prefetched < entries.count, prefetched < head &+ Self.lookahead else { return nil }
        prefetched &+= 1
        return entries[prefetched &- 1]
    }

    /// Empties the queue.
    @inlinable
    public mutating func removeAll() {
        entries.removeAll()
        head = 0
        prefetched = 0
    }
}
