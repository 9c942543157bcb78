import Testing
@testable import TeardownPipeline

/// The comments of `--annotate`, added out of order and read back in packet order: all in
/// memory, and spilled to the temporary file in runs that are merged; the same either way.
@Suite struct PacketCommentStoreTests {
    /// Packets 1...n, a third of them commented, added in a scrambled order (as connections end)
    /// with comments of many lengths (empty to 3,000 bytes, UTF-8).
    static func comments(_ n: Int) -> [(Int, String)] {
        var list: [(Int, String)] = []
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for number in 1...n where number % 3 != 1 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let length = Int(state >> 33) % (number % 97 == 0 ? 3_000 : 90)
            list.append((number, "conn=\(number / 7) é" + String(repeating: "x", count: length)))
        }
        // Scrambled by blocks, as connections end out of the order they began.
        var scrambled: [(Int, String)] = []
        for block in stride(from: 0, to: list.count, by: 50) {
            scrambled += list[block..<min(list.count, block + 50)].reversed()
        }
        return scrambled.reversed()
    }

    @Test(arguments: [Int.max, 10_000, 300, 1])
    func inPacketOrder_whateverIsSpilled(_ spillBytes: Int) throws {
        let n = 5_000
        let store = PacketCommentStore(spillBytes: spillBytes)
        let list = PacketCommentStoreTests.comments(n)
        for (number, text) in list { store.add(number, text) }
        let expected = Dictionary(uniqueKeysWithValues: list)
        var got = 0
        for number in 1...n + 5 {
            let c = store.comment(for: number)
            #expect(c == expected[number], "packet \(number)")
            if c != nil { got += 1 }
        }
        #expect(got == list.count && store.count == list.count)
        #expect(store.failure == nil)
        if spillBytes == Int.max { #expect(store.runCount == 0) } else { #expect(store.runCount > 1) }
        // Memory held is bounded by the spill size and the runs' buffers, not by the comments' total.
        if spillBytes == 10_000 { #expect(store.bytes < store.runCount * (64 << 10) + 100_000) }
    }

    /// Asked for in increasing order with gaps (a filter, packets without comments): each
    /// comment is found once, the rest are nil.
    @Test func gapsAndRepeatsAreNil() {
        let store = PacketCommentStore(spillBytes: 50)
        for number in [9, 3, 27, 1, 81] { store.add(number, "p\(number)") }
        #expect(store.comment(for: 2) == nil)
        #expect(store.comment(for: 3) == "p3")
        #expect(store.comment(for: 3) == nil)
        #expect(store.comment(for: 10) == nil)   // 9 passed over
        #expect(store.comment(for: 27) == "p27")
        #expect(store.comment(for: 81) == "p81")
        #expect(store.comment(for: 82) == nil)
    }
}
