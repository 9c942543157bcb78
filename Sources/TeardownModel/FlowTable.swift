import CPrefetch
import TeardownWire

/// The connection tracker's map from a flow to its slot: an open-addressing hash table with
/// linear probing, built for the one job `Dictionary<FlowKey, Int>` did, at a third of its cost.
///
/// Why not `Dictionary`: every packet does at least one lookup, and in profiles of
/// `replay --summary` the lookup (`Hasher`'s SipHash-1-3 plus `__RawDictionaryStorage.find`)
/// was the largest single part of the connection model. Here:
/// - The hash is three 64×64→128-bit multiplies folding the key's words (the "mum" mix of
///   wyhash), seeded per table with a random value drawn once in `init`. A fixed hash would let
///   a capture be crafted in advance so that its flows all land in one cluster; with a random
///   seed the colliding flows cannot be computed without knowing the seed. This is a mitigation,
///   not SipHash's guarantee: the mix is not a keyed PRF. The cost of a successful attack is also
///   bounded: the table never holds more than `Configuration.maxConnections` flows.
/// - Each bucket keeps the flow's full 64-bit hash (0 marks an empty bucket), so a probe that
///   meets another flow is nearly always rejected by one compare, and growing never rehashes a key.
/// - Buckets are 64 bytes and the storage is aligned to 64 bytes: a bucket is one cache line,
///   so the prefetch a lookup is given ahead (`prefetch(hash:)`) loads all of it. (In an array,
///   whose elements start 32 bytes into its heap object, every bucket straddled two lines, and
///   the hash, in the second, was not prefetched: the tracker's most frequent cache miss.)
/// - Capacity is a power of two; the table doubles when more than half full, so probe sequences
///   stay short (about 1.5 buckets for a hit, 2.5 for a miss).
/// - Deletion shifts the rest of the cluster back (Knuth, TAOCP vol. 3, 6.4, Algorithm R), so
///   there are no tombstones: connections are inserted and removed all the time, and tombstones
///   would lengthen every probe over a long capture.
/// - The table does not shrink when flows are removed (only `removeAll` releases it): it grows to
///   the peak number of flows held at once and stays there, which keeps memory bounded by the
///   connections open at once (as the issue asks) without resizing back and forth around a
///   power of two; the connection slots (`SlotArray`) do not shrink either, and dwarf it.
///
/// Iteration order is arbitrary and differs from run to run (the seed is random): callers that
/// report in an order must sort (the tracker sorts by connection index).
struct FlowTable: Sequence {
    typealias Key = ConnectionTracker.FlowKey

    /// One bucket: 64 bytes (key 44 + padding, hash, value), one cache line.
    struct Bucket {
        var key: Key
        /// The key's hash with the top bit set; 0 when the bucket is empty.
        var hash: UInt64
        var value: Int
        static let empty = Bucket(key: Key(Endpoint(address: IPAddress(ipv4: 0), port: 0),
                                           Endpoint(address: IPAddress(ipv4: 0), port: 0)),
                                  hash: 0, value: 0)
    }

    static let minimumCapacity = 16

    /// The buckets, shared copy-on-write between copies of the table, like an array's storage.
    private var storage: Storage
    /// `buckets.count - 1`; `buckets.count` is a power of two.
    private var mask: Int
    /// The table's hash function (its seed); a reading stage that hashes segments ahead of the
    /// tracker uses this same value (`ConnectionTracker.flowHasher`).
    let hasher: FlowHasher
    /// The number of flows held.
    private(set) var count = 0

    /// An empty table with a random hash seed.
    init() {
        var rng = SystemRandomNumberGenerator()
        self.init(seed: UInt64.random(in: .min ... .max, using: &rng))
    }

    /// An empty table with a given seed; `constantHash` makes every key collide (for tests of
    /// probing and deletion in one long, wrapped-around cluster).
    init(seed: UInt64, constantHash: Bool = false, capacity: Int = FlowTable.minimumCapacity) {
        var c = Self.minimumCapacity
        while c < capacity { c <<= 1 }
        storage = Storage(capacity: c)
        mask = c - 1
        hasher = FlowHasher(seed: seed, constantHash: constantHash)
    }

    /// The number of buckets (a power of two).
    var capacity: Int { storage.capacity }

    var isEmpty: Bool { count == 0 }

    /// The key's hash (see `FlowHasher`).
    @inline(__always)
    func hash(_ k: Key) -> UInt64 { hasher.hash(k) }

    /// The bucket holding `key`, whose hash is `h`, or nil.
    @inline(__always)
    private func find(_ key: Key, hash h: UInt64) -> Int? {
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
    @inline(__always)
    func prefetch(hash h: UInt64) {
        let i = Int(truncatingIfNeeded: h) & mask
        ctd_prefetch(storage.buckets + i)
    }

    /// The value stored for `key`, or nil.
    subscript(key: Key) -> Int? { self[key, hash: hash(key)] }

    /// The value stored for `key`, whose hash (`hash(key)`, computed earlier) is `h`, or nil.
    @inline(__always)
    subscript(key: Key, hash h: UInt64) -> Int? {
        guard let i = find(key, hash: h) else { return nil }
        return storage.buckets[i].value
    }

    /// Stores `value` for `key`; returns the value it replaces, or nil if the key was new.
    @discardableResult
    mutating func updateValue(_ value: Int, forKey key: Key) -> Int? {
        updateValue(value, forKey: key, hash: hash(key))
    }

    /// `updateValue(_:forKey:)` for a key whose hash `h` was computed earlier.
    @discardableResult
    mutating func updateValue(_ value: Int, forKey key: Key, hash h: UInt64) -> Int? {
        if let i = find(key, hash: h) {
            makeUnique()
            let old = storage.buckets[i].value
            storage.buckets[i].value = value
            return old
        }
        if (count + 1) * 2 > storage.capacity { grow() }
        makeUnique()
        place(Bucket(key: key, hash: h, value: value))
        count += 1
        return nil
    }

    /// Puts `bucket` (whose key is not in the table) in the first empty bucket from its home.
    /// The storage must be unique (`makeUnique()`).
    private mutating func place(_ bucket: Bucket) {
        let b = storage.buckets
        var i = Int(truncatingIfNeeded: bucket.hash) & mask
        while b[i].hash != 0 { i = (i &+ 1) & mask }
        b[i] = bucket
    }

    /// Doubles the capacity, moving every flow by its stored hash (no key is rehashed).
    private mutating func grow() {
        let old = storage
        storage = Storage(capacity: old.capacity * 2)
        mask = storage.capacity - 1
        for i in 0..<old.capacity where old.buckets[i].hash != 0 { place(old.buckets[i]) }
    }

    /// Gives this table storage of its own before a change, if a copy of the table shares it.
    @inline(__always)
    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    /// Removes `key`; returns its value, or nil if it was not there.
    ///
    /// Backward-shift deletion: walking on from the emptied bucket to the end of its cluster,
    /// each flow that the hole lies on the probe path of (between its home bucket and where it
    /// sits, cyclically) moves into the hole, which moves to where that flow was. Afterwards every
    /// flow is still reachable from its home without crossing an empty bucket.
    @discardableResult
    mutating func removeValue(forKey key: Key) -> Int? {
        removeValue(forKey: key, hash: hash(key))
    }

    /// `removeValue(forKey:)` for a key whose hash `h` was computed earlier.
    @discardableResult
    mutating func removeValue(forKey key: Key, hash h: UInt64) -> Int? {
        guard let found = find(key, hash: h) else { return nil }
        makeUnique()
        count -= 1
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
    mutating func removeAll() {
        storage = Storage(capacity: Self.minimumCapacity)
        mask = Self.minimumCapacity - 1
        count = 0
    }

    /// The flows held, in bucket order (arbitrary; see the type's comment).
    struct Iterator: IteratorProtocol {
        fileprivate let storage: Storage
        fileprivate var i = 0
        mutating func next() -> (key: Key, value: Int)? {
            while i < storage.capacity {
                let b = storage.buckets[i]
                i += 1
                if b.hash != 0 { return (b.key, b.value) }
            }
            return nil
        }
    }

    func makeIterator() -> Iterator { Iterator(storage: storage) }

    var underestimatedCount: Int { count }

    /// A table's buckets: `capacity` of them, in memory aligned to a cache line (64 bytes), so
    /// that each bucket is exactly one line. `Bucket` holds no references (plain bytes), so the
    /// buckets need no deinitialization and copy as bytes.
    final class Storage {
        let buckets: UnsafeMutablePointer<Bucket>
        let capacity: Int

        /// `capacity` empty buckets.
        init(capacity: Int) {
            precondition(_isPOD(Bucket.self) && MemoryLayout<Bucket>.stride == 64)
            self.capacity = capacity
            buckets = UnsafeMutableRawPointer.allocate(byteCount: capacity * MemoryLayout<Bucket>.stride, alignment: 64)
                .bindMemory(to: Bucket.self, capacity: capacity)
            buckets.initialize(repeating: .empty, count: capacity)
        }

        /// A storage holding the same buckets.
        func copy() -> Storage {
            let c = Storage(capacity: capacity)
            c.buckets.update(from: buckets, count: capacity)
            return c
        }

        deinit { UnsafeMutableRawPointer(buckets).deallocate() }
    }
}

/// The flow table's hash function, as a value a reading stage can hold: replay hashes each
/// segment's flow on the thread that decodes it, so the tracking thread, the busier of the
/// two, does not (`DecodedPacket.flow`, `ConnectionTracker.process(_:emit:)`).
///
/// The hash is three 64×64→128-bit multiplies folding the key's words (the "mum" mix of
/// wyhash), seeded with a random value drawn once per table (see `FlowTable`).
public struct FlowHasher: Sendable {
    let seed: UInt64
    /// When true, every key hashes to `seed` (tests: forces every flow into one cluster).
    let constantHash: Bool
    static let occupied: UInt64 = 1 << 63

    /// wyhash's mix: the two halves of the 128-bit product, xored.
    @inline(__always)
    private static func mum(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let p = a.multipliedFullWidth(by: b)
        return p.high ^ p.low
    }

    /// The key's hash, top bit set (so it is never 0, the empty mark). Every field of the key
    /// takes part: the four address words, both ports and both families (an IPv4 address and
    /// the IPv6 address with the same low word differ only in the family bits).
    @inline(__always)
    func hash(_ k: ConnectionTracker.FlowKey) -> UInt64 {
        if constantHash { return seed | Self.occupied }
        // Ports and families go into the last multiply, apart from every address word: xored
        // into an address word, a change of one port bit could cancel a change of the same
        // bit in that word (flows p → [x:…] and p+1 → [x^1:…] collided for every seed).
        let meta = UInt64(k.low.port) | UInt64(k.high.port) << 16
            | (k.low.address.isIPv6 ? 1 << 32 : 0) | (k.high.address.isIPv6 ? 1 << 33 : 0)
        let a = Self.mum(k.low.address.low ^ seed, k.high.address.low ^ 0xA076_1D64_78BD_642F)
        let b = Self.mum(k.low.address.high ^ 0xE703_7ED1_A0B4_28DB, k.high.address.high ^ seed)
        return Self.mum(a ^ meta ^ 0x8EBC_6AF0_9C88_C6E3, b ^ 0x5899_65CC_7537_4CC3) | Self.occupied
    }

    /// The flow `seg` belongs to, hashed: what the tracker needs to find its connection.
    public func flow(of seg: TCPSegment) -> FlowHash {
        flow(from: seg.source, to: seg.destination)
    }

    /// The flow of a segment from `source` to `destination`, hashed. (The endpoints are passed
    /// alone, in registers: a caller holding the segment in memory it cannot prove unaliased
    /// would copy all 131 bytes of it to pass the segment.)
    public func flow(from source: Endpoint, to destination: Endpoint) -> FlowHash {
        let (key, sourceIsLow) = ConnectionTracker.FlowKey.ordering(source, destination)
        return FlowHash(value: hash(key), sourceIsLow: sourceIsLow)
    }
}

/// A segment's flow as `FlowHasher` computed it: the hash of its direction-free key, and
/// which of the segment's endpoints comes first in that key.
public struct FlowHash: Sendable, Equatable {
    public internal(set) var value: UInt64
    public internal(set) var sourceIsLow: Bool
    /// No flow (a packet that is not a TCP segment).
    public static let none = FlowHash(value: 0, sourceIsLow: false)
}
