import Testing
import TeardownTestSupport
import TeardownWire
import TeardownSpeed
@testable import TeardownModel

/// `FlowTable` checked against `Dictionary` (the oracle) over long seeded random sequences of
/// insert, lookup and remove, with keys from a small pool so that re-inserts, removals of absent
/// keys and long clusters all happen.
struct FlowTableTests {
    typealias Key = ConnectionTracker.FlowKey
    typealias FlowTable = TeardownSpeed.FlowTable<Key, Int>

    /// A pool of keys with near neighbours: pairs that differ only in one port, only in the
    /// family (IPv4 a.b.c.d vs the IPv6 address whose words are 0 and a.b.c.d), only in the
    /// IPv6 high word, and the same flow given in both directions.
    static func keyPool(size: Int, rng: inout SplitMix64) -> [Key] {
        var pool: [Key] = []
        while pool.count < size {
            let v4a = UInt64(UInt32.random(in: 0 ... 3, using: &rng) | 0x0A00_0000)
            let v4b = UInt64(UInt32.random(in: 0 ... 3, using: &rng) | 0xC000_0200)
            let p1 = UInt16.random(in: 40000 ... 40007, using: &rng)
            let p2: UInt16 = [80, 443, 40000][Int.random(in: 0 ... 2, using: &rng)]
            let hi = UInt64.random(in: 0 ... 1, using: &rng) << 48 | 0x2001_0db8
            let a4 = Endpoint(address: IPAddress(ipv4: UInt32(v4a)), port: p1)
            let b4 = Endpoint(address: IPAddress(ipv4: UInt32(v4b)), port: p2)
            let a6 = Endpoint(address: IPAddress(ipv6High: 0, low: v4a), port: p1)
            let b6 = Endpoint(address: IPAddress(ipv6High: hi, low: v4b), port: p2)
            switch Int.random(in: 0 ... 5, using: &rng) {
            case 0: pool.append(Key(a4, b4))
            case 1: pool.append(Key(b4, a4))
            case 2: pool.append(Key(a6, b6))
            case 3: pool.append(Key(a4, b6))
            case 4: pool.append(Key(Endpoint(address: a4.address, port: p1 &+ 1), b4))
            default: pool.append(Key(a6, Endpoint(address: IPAddress(ipv6High: hi ^ 1, low: v4b), port: p2)))
            }
        }
        return pool
    }

    /// Sorted (key, value) pairs, for comparing contents regardless of iteration order.
    static func contents<S: Sequence>(_ s: S) -> [String] where S.Element == (key: Key, value: Int) {
        s.map { "\($0.key.low) \($0.key.high) \($0.value)" }.sorted()
    }

    /// Runs `operations` random operations on `table` and on a `Dictionary`, checking every
    /// result, the count after every step and the iterated contents every 997 steps.
    static func drive(_ table: inout FlowTable, operations: Int, poolSize: Int, seed: UInt64) {
        var rng = SplitMix64(state: seed)
        let pool = keyPool(size: poolSize, rng: &rng)
        var oracle: [Key: Int] = [:]
        var inserts = 0, hits = 0, absentRemoves = 0, removes = 0, replaced = 0
        for step in 0 ..< operations {
            let key = pool[Int.random(in: 0 ..< pool.count, using: &rng)]
            switch Int.random(in: 0 ..< 10, using: &rng) {
            case 0 ..< 4:
                let v = Int.random(in: 0 ... 1_000_000, using: &rng)
                let old = table.updateValue(v, forKey: key)
                #expect(old == oracle.updateValue(v, forKey: key), "step \(step): updateValue")
                if old == nil { inserts += 1 } else { replaced += 1 }
            case 4 ..< 7:
                let got = table.removeValue(forKey: key)
                #expect(got == oracle.removeValue(forKey: key), "step \(step): removeValue")
                if got == nil { absentRemoves += 1 } else { removes += 1 }
            default:
                let got = table[key]
                #expect(got == oracle[key], "step \(step): lookup")
                if got != nil { hits += 1 }
            }
            #expect(table.count == oracle.count, "step \(step): count")
            if step % 997 == 0 {
                #expect(contents(table) == contents(oracle), "step \(step): contents")
                #expect(table.count * 2 <= table.capacity)
            }
        }
        #expect(contents(table) == contents(oracle))
        // The sequence really exercised every path (not a test of the table, of the test).
        #expect(inserts > operations / 20 && replaced > operations / 20)
        #expect(removes > operations / 20 && absentRemoves > operations / 20 && hits > operations / 20)
    }

    @Test(arguments: [(poolSize: 40, seed: UInt64(1)), (200, 2), (3000, 3)])
    func matchesDictionary(poolSize: Int, seed: UInt64) {
        var table = FlowTable(seed: seed &* 0x1234_5678_9ABC_DEF1)
        Self.drive(&table, operations: 40_000, poolSize: poolSize, seed: seed)
    }

    /// A random seed (what the executable passes) works as well as a fixed one.
    @Test func matchesDictionaryWithRandomSeed() {
        var table = FlowTable(seed: UInt64.random(in: .min ... .max))
        Self.drive(&table, operations: 20_000, poolSize: 500, seed: 4)
    }

    /// Every key hashes alike: one cluster holds everything and wraps around the end of the
    /// bucket array, so backward-shift deletion moves flows across the wrap.
    @Test(arguments: [UInt64(0), 5, 12, 15, 0xFFFF_FFFF_FFFF_FFFF])
    func allKeysCollide(homeSeed: UInt64) {
        var table = FlowTable(seed: homeSeed, constantHash: true)
        Self.drive(&table, operations: 6_000, poolSize: 30, seed: homeSeed &+ 7)
    }

    /// Two homes (two hash values) whose clusters run into each other: a deletion in the first
    /// must not move a flow of the second in front of its home.
    @Test func interleavedClustersKeepEveryKeyReachable() {
        // Keys hashed by a real seed, then forced into a 16-bucket table with at most 8 flows:
        // with 8 flows in 16 buckets, clusters touch; removing each in turn and checking the rest.
        var rng = SplitMix64(state: 99)
        let pool = Self.keyPool(size: 400, rng: &rng)
        var unique: [Key] = []
        for k in pool where !unique.contains(k) { unique.append(k) }
        for start in stride(from: 0, to: unique.count - 8, by: 8) {
            let keys = Array(unique[start ..< start + 8])
            for victim in keys {
                var table = FlowTable(seed: 0xDEAD_BEEF &+ UInt64(start))
                for (i, k) in keys.enumerated() { table.updateValue(i, forKey: k) }
                #expect(table.capacity == 16)
                #expect(table.removeValue(forKey: victim) == keys.firstIndex(of: victim))
                #expect(table[victim] == nil)
                for (i, k) in keys.enumerated() where k != victim { #expect(table[k] == i) }
                #expect(table.count == 7)
            }
        }
    }

    /// `FlowHasher.flow`, which replay computes on its reading thread, gives the hash the table
    /// computes for the flow's key, the same for both directions of a flow, and says which
    /// endpoint comes first in the key; segments of different flows in the pool get different
    /// hashes.
    @Test func flowHashMatchesTheTablesHashInBothDirections() {
        var rng = SplitMix64(state: 7)
        let table = FlowTable(seed: 0x5EED)
        let hasher = ConnectionTracker(configuration: .init(hashSeed: 0x5EED)).flowHasher
        var seen: [UInt64: Key] = [:]
        for key in Self.keyPool(size: 500, rng: &rng) {
            let forward = TCPSegment(source: key.low, destination: key.high, sequenceNumber: SequenceNumber(1),
                                     acknowledgmentNumber: SequenceNumber(0), flags: .syn, window: 0, payloadLength: 0)
            var backward = forward
            backward.source = key.high
            backward.destination = key.low
            let f = hasher.flow(of: forward), b = hasher.flow(of: backward)
            #expect(f.value == table.hash(key))
            #expect(b.value == f.value)
            #expect(f.sourceIsLow && !b.sourceIsLow)
            #expect(Key(forward, f) == key && Key(backward, b) == key)
            if let other = seen[f.value] { #expect(other == key, "two flows share hash \(f.value)") }
            seen[f.value] = key
        }
        #expect(seen.count > 100)
    }

    /// Growth keeps every flow; `removeAll` empties and releases; the table does not shrink on
    /// removal (a documented choice: it stays at its peak).
    @Test func growsKeepsEntriesAndRemoveAllReleases() {
        var table = FlowTable(seed: 42)
        var keys: [Key] = []
        for i in 0 ..< 5000 {
            let a = Endpoint(address: IPAddress(ipv4: 0x0A00_0000 | UInt32(i)), port: UInt16(1024 + i % 50000))
            let b = Endpoint(address: IPAddress(ipv4: 0xC000_0201), port: 443)
            keys.append(Key(a, b))
            #expect(table.updateValue(i, forKey: keys[i]) == nil)
        }
        #expect(table.count == 5000)
        #expect(table.capacity == 16384) // smallest power of two with 5000 at most half full
        for (i, k) in keys.enumerated() { #expect(table[k] == i) }
        for k in keys.prefix(4990) { table.removeValue(forKey: k) }
        #expect(table.count == 10 && table.capacity == 16384)
        #expect(Self.contents(table) == Self.contents(keys.suffix(10).enumerated().map { (key: $0.element, value: 4990 + $0.offset) }))
        table.removeAll()
        #expect(table.count == 0 && table.capacity == FlowTable.minimumCapacity && table[keys[4999]] == nil)
        #expect(Array(table).isEmpty)
    }

    /// The buckets are storage the table manages itself (aligned to cache lines), shared
    /// between copies until one of them changes: a copy must behave as a value, like an array.
    @Test func copiesAreIndependentValues() {
        var rng = SplitMix64(state: 7)
        let pool = Self.keyPool(size: 300, rng: &rng)
        var original = FlowTable(seed: 9)
        for (i, k) in pool.enumerated() { original.updateValue(i, forKey: k) }
        let before = Self.contents(original)

        var changed = original          // shares the storage until changed
        for k in pool.prefix(100) { changed.removeValue(forKey: k) }
        changed.updateValue(-1, forKey: pool[200])
        for i in 0 ..< 400 {            // and grows past its capacity
            let a = Endpoint(address: IPAddress(ipv4: 0x0B00_0000 | UInt32(i)), port: 9)
            changed.updateValue(i, forKey: Key(a, Endpoint(address: IPAddress(ipv4: 1), port: 1)))
        }
        #expect(Self.contents(original) == before)
        #expect(original.count == before.count)
        #expect(original[pool[200]] == pool.lastIndex(of: pool[200]) && changed[pool[200]] == -1)

        var again = original            // a change through the original leaves the copy alone
        original.updateValue(-2, forKey: pool[250])
        #expect(Self.contents(again) == before)
        again.removeAll()
        #expect(original[pool[250]] == -2 && again.isEmpty)
    }
}
