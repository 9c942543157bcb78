/// A key a `FlowTable` can hold: compared with `==`, hashed with a seed.
public protocol FlowTableKey: Equatable {
    /// The key's hash under `seed` (any 64-bit value; equal keys hash equally).
    func hash(seed: UInt64) -> UInt64
}

/// A map from keys to small plain values (a flow to its connection's slot): an open-addressing
/// hash table with linear probing, doing the one job `Dictionary` did, at a third of its cost.
///
/// - Keys are hashed with a seed passed in (`SeededHasher`). Given a random seed, colliding keys
///   cannot be computed in advance, so a capture cannot be crafted to pile its flows into one
///   cluster. This is a mitigation, not SipHash's guarantee: the mix is not a keyed PRF.
///   Iteration order depends on the seed: callers that report in an order must sort.
/// - Each bucket keeps its key's full 64-bit hash (0 marks an empty bucket), so a probe that
///   meets another key is nearly always rejected by one compare, and growing never rehashes.
/// - Buckets are stored in memory aligned to 64 bytes; with a 44-byte flow key and an `Int`
///   value a bucket is exactly one cache line, so the prefetch a lookup is given ahead
///   (`prefetch(hash:)`) loads all of it.
/// - Capacity is a power of two; the table doubles when more than half full, so probe sequences
///   stay short (about 1.5 buckets for a hit, 2.5 for a miss).
/// - Deletion shifts the rest of the cluster back (Knuth, TAOCP vol. 3, 6.4, Algorithm R): no
///   tombstones, which would lengthen every probe over a long capture of short connections.
/// - The table does not shrink when keys are removed (only `removeAll` releases it): it stays at
///   the peak number of keys held at once, without resizing back and forth around a power of two.
/// - Copies share their buckets until one of them changes (copy-on-write, like an array).
///
/// `Key` and `Value` must be plain bytes (no references): buckets are copied as bytes.
public struct FlowTable<Key: FlowTableKey, Value>: Sequence {
    /// One bucket: the key, its hash (top bit set; 0 when the bucket is empty) and the value.
    @usableFromInline
    struct Bucket {
        @usableFromInline var key: Key
        @usableFromInline var hash: UInt64
        @usableFromInline var value: Value
        @inlinable init(key: Key, hash: UInt64, value: Value) {
            self.key = key
            self.hash = hash
            self.value = value
        }
    }

    @inlinable public static var minimumCapacity: Int { 16 }

    /// The buckets, shared copy-on-write between copies of the table.
    @usableFromInline var storage: Storage
    /// `capacity - 1`; the capacity is a power of two.
    @usableFromInline var mask: Int
    /// The table's hash function (its seed). A reading stage that hashes keys ahead of the
    /// table's owner uses this same value.
    public let hasher: SeededHasher
    /// The number of keys held.
    @inlinable public var count: Int { held }
    @usableFromInline var held = 0

    /// An empty table hashing with `seed`; `constantHash` makes every key collide (for tests of
    /// probing and deletion in one long, wrapped-around cluster).
    @inlinable
    public init(seed: UInt64, constantHash: Bool = false, capacity: Int = 16) {
        var c = Self.minimumCapacity
        while c < capacity { c <<= 1 }
        storage = Storage(capacity: c)
        mask = c - 1
        hasher = SeededHasher(seed: seed, constantHash: constantHash)
    }

    /// The number of buckets (a power of two).
    @inlinable public var capacity: Int { storage.capacity }

    @inlinable public var isEmpty: Bool { count == 0 }

    /// The key's hash (see `SeededHasher`).
    @inlinable @inline(__always)
    public func hash(_ k: Key) -> UInt64 { hasher.hash(k) }

    /// The bucket holding `key`, whose hash is `h`, or nil.
    @inlinable @inline(__always)
    func find(_ key: Key, hash h: UInt64) -> Int? {
        let b = storage.buckets
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let bh = b[i].hash
            if bh == h && b[i].key == key { return i }
            if bh == 0 { return nil }
            i = (i &+ 1) & mask
        }
    }

    /// Starts loading the bucket where a lookup of a key with hash `h` begins (a hint; nothing
    /// is read).
    @inlinable @inline(__always)
    public func prefetch(hash h: UInt64) {
        let i = Int(truncatingIfNeeded: h) & mask
        prefetchLine(storage.buckets + i)
    }

    /// The value stored for `key`, or nil.
    @inlinable
    public subscript(key: Key) -> Value? { self[key, hash: hash(key)] }

    /// The value stored for `key`, whose hash (`hash(key)`, computed earlier) is `h`, or nil.
    @inlinable @inline(__always)
    public subscript(key: Key, hash h: UInt64) -> Value? {
        guard let i = find(key, hash: h) else { return nil }
        return storage.buckets[i].value
    }

    /// Stores `value` for `key`; returns the value it replaces, or nil if the key was new.
    @inlinable @discardableResult
    public mutating func updateValue(_ value: Value, forKey key: Key) -> Value? {
        updateValue(value, forKey: key, hash: hash(key))
    }

    /// `updateValue(_:forKey:)` for a key whose hash `h` was computed earlier.
    @inlinable @discardableResult
    public mutating func updateValue(_ value: Value, forKey key: Key, hash h: UInt64) -> Value? {
        if let i = find(key, hash: h) {
            makeUnique()
            let old = storage.buckets[i].value
            storage.buckets[i].value = value
            return old
        }
        if (count + 1) * 2 > storage.capacity { grow() }
        makeUnique()
        place(Bucket(key: key, hash: h, value: value))
        held += 1
        return nil
    }

    /// Puts `bucket` (whose key is not in the table) in the first empty bucket from its home.
    /// The storage must be unique (`makeUnique()`).
    @inlinable
    mutating func place(_ bucket: Bucket) {
        let b = storage.buckets
        var i = Int(truncatingIfNeeded: bucket.hash) & mask
        while b[i].hash != 0 { i = (i &+ 1) & mask }
        b[i] = bucket
    }

    /// Doubles the capacity, moving every key by its stored hash (no key is rehashed).
    @inlinable
    mutating func grow() {
        let old = storage
        storage = Storage(capacity: old.capacity * 2)
        mask = storage.capacity - 1
        for i in 0..<old.capacity where old.buckets[i].hash != 0 { place(old.buckets[i]) }
    }

    /// Gives this table storage of its own before a change, if a copy of the table shares it.
    @inlinable @inline(__always)
    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    /// Removes `key`; returns its value, or nil if it was not there.
    ///
    /// Backward-shift deletion: walking on from the emptied bucket to the end of its cluster,
    /// each key that the hole lies on the probe path of (between its home bucket and where it
    /// sits, cyclically) moves into the hole, which moves to where that key was. Afterwards every
    /// key is still reachable from its home without crossing an empty bucket.
    @inlinable @discardableResult
    public mutating func removeValue(forKey key: Key) -> Value? {
        removeValue(forKey: key, hash: hash(key))
    }

    /// `removeValue(forKey:)` for a key whose hash `h` was computed earlier.
    @inlinable @discardableResult
    public mutating func removeValue(forKey key: Key, hash h: UInt64) -> Value? {
        guard let found = find(key, hash: h) else { return nil }
        makeUnique()
        held -= 1
        let b = storage.buckets
        let value = b[found].value
        var hole = found
        var j = (found &+ 1) & mask
        while b[j].hash != 0 {
            let home = Int(truncatingIfNeeded: b[j].hash) & mask
            // Distances measured backwards from j, modulo the capacity.
            if (j &- home) & mask >= (j &- hole) & mask {
                b[hole] = b[j]
                hole = j
            }
            j = (j &+ 1) & mask
        }
        b[hole].hash = 0
        return value
    }

    /// Empties the table and releases its storage (back to the minimum capacity).
    @inlinable
    public mutating func removeAll() {
        storage = Storage(capacity: Self.minimumCapacity)
        mask = Self.minimumCapacity - 1
        held = 0
    }

    /// The keys held, in bucket order (arbitrary: it depends on the seed).
    public struct Iterator: IteratorProtocol {
        @usableFromInline let storage: Storage
        @usableFromInline var i = 0
        @inlinable init(storage: Storage) { self.storage = storage }
        @inlinable
        public mutating func next() -> (key: Key, value: Value)? {
            while i < storage.capacity {
                let b = storage.buckets + i
                i += 1
                if b.pointee.hash != 0 { return (b.pointee.key, b.pointee.value) }
            }
            return nil
        }
    }

    @inlinable public func makeIterator() -> Iterator { Iterator(storage: storage) }

    @inlinable public var underestimatedCount: Int { count }

    /// A table's buckets: `capacity` of them, in memory aligned to a cache line (64 bytes) and
    /// zeroed (a zero hash marks an empty bucket; an empty bucket's key and value are never
    /// read). Buckets are plain bytes, so they need no deinitialization and copy as bytes.
    @usableFromInline
    final class Storage {
        @usableFromInline let buckets: UnsafeMutablePointer<Bucket>
        @usableFromInline let capacity: Int

        /// `capacity` empty buckets.
        @inlinable
        init(capacity: Int) {
            precondition(_isPOD(Bucket.self), "FlowTable holds plain values only")
            self.capacity = capacity
            let bytes = capacity * MemoryLayout<Bucket>.stride
            let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
            buckets = raw.bindMemory(to: Bucket.self, capacity: capacity)
        }

        /// A storage holding the same buckets.
        @inlinable
        func copy() -> Storage {
            let c = Storage(capacity: capacity)
            c.buckets.update(from: buckets, count: capacity)
            return c
        }

        @inlinable
        deinit { UnsafeMutableRawPointer(buckets).deallocate() }
    }
}

/// A `FlowTable`'s hash function, as a value: the table holds one, and a reading stage can
/// hold a copy, to hash keys on another thread before the table's owner needs them.
public struct SeededHasher: Sendable {
    public let seed: UInt64
    /// When true, every key hashes to `seed` (tests: forces every key into one cluster).
    public let constantHash: Bool
    /// Set in every stored hash, so that none is 0 (the empty-bucket mark).
    @inlinable static var occupied: UInt64 { 1 << 63 }

    @inlinable
    public init(seed: UInt64, constantHash: Bool = false) {
        self.seed = seed
        self.constantHash = constantHash
    }

    /// `k`'s hash under this seed, top bit set.
    @inlinable @inline(__always)
    public func hash<K: FlowTableKey>(_ k: K) -> UInt64 {
        if constantHash { return seed | Self.occupied }
        return k.hash(seed: seed) | Self.occupied
    }

    /// A seeded hash of two pairs of words and a word of small fields: three 64×64→128-bit
    /// multiplies (the "mum" mix of wyhash). The small fields go into the last multiply, apart
    /// from every word: xored into a word, a change of one bit of a small field could cancel a
    /// change of the same bit in that word (flows p → [x:…] and p+1 → [x^1:…] collided for
    /// every seed when the ports were mixed into an address word).
    @inlinable @inline(__always)
    public static func mix(_ a0: UInt64, _ a1: UInt64, _ b0: UInt64, _ b1: UInt64, small: UInt64,
                           seed: UInt64) -> UInt64 {
        let a = mum(a0 ^ seed, a1 ^ 0xA076_1D64_78BD_642F)
        let b = mum(b0 ^ 0xE703_7ED1_A0B4_28DB, b1 ^ seed)
        return mum(a ^ small ^ 0x8EBC_6AF0_9C88_C6E3, b ^ 0x5899_65CC_7537_4CC3)
    }

    /// wyhash's mix: the two halves of the 128-bit product, xored.
    @inlinable @inline(__always)
    static func mum(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let p = a.multipliedFullWidth(by: b)
        return p.high ^ p.low
    }
}
