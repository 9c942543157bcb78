import Testing
import TeardownRender

/// `Format.thousands` (experiment verdicts, the command line's messages) against a plain oracle written
/// here: the decimal digits from `String(_:)`, a comma before every group of three from the
/// right, a leading minus.
struct ThousandsTests {
    static func oracle<T: BinaryInteger>(_ v: T) -> String {
        let digits = Array(String(v.magnitude))
        var out = ""
        for (i, d) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(d)
        }
        return (v < 0 ? "-" : "") + out
    }

    @Test(arguments: [0, 1, 9, 10, 99, 100, 999, 1_000, 9_999, 10_000, 29_994, 100_000, 999_999, 1_000_000,
                      -1, -999, -1_000, -1_234_567, Int.max, Int.min])
    func groupsOfThreeLikeTheOracle(_ v: Int) {
        #expect(Format.thousands(v) == Self.oracle(v))
    }

    /// Where a group or the first group's width changes: every value below 100,000, each power
    /// of ten to 10^19 and its neighbours, UInt64.max and its neighbour.
    @Test func everyGroupBoundaryLikeTheOracle() {
        var values = Array(UInt64(0)..<100_000)
        var power: UInt64 = 1
        for _ in 0..<19 { power *= 10; values += [power - 1, power, power + 1] }
        values += [UInt64.max, UInt64.max - 1]
        for v in values {
            #expect(Format.thousands(v) == Self.oracle(v), "\(v)")
        }
    }

    @Test func edgesAndSpotChecks() {
        #expect(Format.thousands(UInt64.max) == "18,446,744,073,709,551,615")
        #expect(Format.thousands(Int.min) == "-9,223,372,036,854,775,808")
        #expect(Format.thousands(29_994) == "29,994")
        #expect(Format.thousands(UInt8(200)) == "200")
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<2_000 {
            x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let v = x >> (x & 63)
            #expect(Format.thousands(v) == Self.oracle(v))
        }
    }
}
