import Testing
import TeardownSpeed

/// `SlotArray` against `Array`: appends across chunk boundaries, changes in place, and copies
/// that behave as values (the chunks are shared until one copy changes).
struct SlotArrayTests {
    /// A class instance per element, so that a copy that shared what it should not, or a slot
    /// deinitialized twice or never, shows up in the reference counts.
    final class Box: Equatable {
        let value: Int
        init(_ value: Int) { self.value = value }
        static func == (a: Box, b: Box) -> Bool { a.value == b.value }
    }

    @Test func appendsAndChangesInPlaceLikeAnArray() {
        var slots = SlotArray<[Int]>()
        var oracle: [[Int]] = []
        for i in 0 ..< 1_500 {
            #expect(slots.append([i]) == i)
            oracle.append([i])
            if i % 7 == 0 { slots[i / 2].append(i); oracle[i / 2].append(i) }
        }
        #expect(slots.count == oracle.count)
        for i in 0 ..< oracle.count { #expect(slots[i] == oracle[i]) }
    }

    @Test func copiesAreIndependentValues() {
        var original = SlotArray<Box>()
        for i in 0 ..< 1_100 { _ = original.append(Box(i)) }
        var changed = original            // shares the chunks until changed
        changed[3] = Box(-3)
        _ = changed.append(Box(-1))
        #expect(original.count == 1_100 && changed.count == 1_101)
        #expect(original[3].value == 3 && changed[3].value == -3)
        #expect(original[1_099] === changed[1_099])   // copied element, same instance
        var again = original
        original[1_000] = Box(-1_000)
        #expect(again[1_000].value == 1_000)
        again = SlotArray()
        #expect(again.count == 0 && original[1_000].value == -1_000)
    }

    @Test func releasesEveryElement() {
        weak var first: Box?
        weak var last: Box?
        do {
            var slots = SlotArray<Box>()
            for i in 0 ..< 600 {
                let b = Box(i)
                if i == 0 { first = b }
                if i == 599 { last = b }
                _ = slots.append(b)
            }
            #expect(first != nil && last != nil)
        }
        #expect(first == nil && last == nil)
    }
}
