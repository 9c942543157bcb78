import Testing
import TeardownModel
import TeardownWire
@testable import TeardownRender

struct ByteCursorTests {
    /// A write that does not fit is refused whole, flagged, and leaves the bytes past the end alone.
    @Test func overflow_isFlaggedAndNeverWritesPastTheEnd() {
        var memory = [UInt8](repeating: 0xAA, count: 8)
        memory.withUnsafeMutableBytes { raw in
            guard var c = ByteCursor(UnsafeMutableRawBufferPointer(rebasing: raw[..<4])) else {
                Issue.record("no cursor"); return
            }
            c.write(utf8: "abc")
            #expect(!c.overflowed)
            c.write("de")
            #expect(c.overflowed)
            #expect(c.count == 3)
            c.writeDecimal(12345)
            c.write(0x20, 0x20)
            #expect(c.count <= 4)
        }
        #expect(memory[..<3] == [0x61, 0x62, 0x63])
        #expect(memory[4...].allSatisfy { $0 == 0xAA })
    }

    @Test func noMemory_noCursor() {
        #expect(ByteCursor(UnsafeMutableRawBufferPointer(start: nil, count: 0)) == nil)
    }

    /// `append(to:)` renders again with more room until the text fits, and appends it once.
    @Test(arguments: [1, 2, 63, 64, 65, 4096])
    func append_retriesUntilItFits(_ initialCapacity: Int) {
        var bytes: [UInt8] = Array("head:".utf8)
        let long = String(repeating: "0123456789", count: 30)
        ByteCursor.append(to: &bytes, initialCapacity: initialCapacity) { c in
            c.write(utf8: long)
            c.writeDecimal(42, width: 5)
        }
        #expect(String(decoding: bytes, as: UTF8.self) == "head:" + long + "00042")
    }

    @Test func insertSpaces_rightAlignsWhatFollowsTheMark() {
        let text = ByteCursor.string { c in
            c.write("ab")
            let mark = c.count
            c.write("123")
            c.insertSpaces(3, at: mark)
            c.write("|")
            c.insertSpaces(-1, at: 0)   // ignored
            c.insertSpaces(1, at: 99)   // ignored: past what was written
        }
        #expect(text == "ab   123|")
    }

    @Test func scalarCount_countsScalarsNotBytes() {
        var n = 0
        _ = ByteCursor.string { c in
            c.write("x")
            c.write(utf8: "é⇄🦀a")
            n = c.scalarCount(since: 1)
        }
        #expect(n == 4)
    }

    /// A line's bytes do not depend on the room the cursor started with: the same line whether
    /// it fits at once or only after several retries.
    @Test(arguments: Fixtures.all.map(\.name))
    func lines_doNotDependOnTheRoomGiven(_ name: String) throws {
        let record = try #require(Fixtures.all.first { $0.name == name }).record
        let json = JSONLinesRenderer.FileRenderer(source: "dir/a \"b\".pcap", includeEvents: true)
        let summary = SummaryRenderer.FileRenderer(source: "dir/a\u{1B}b.pcap")
        var small: [UInt8] = [], large: [UInt8] = []
        ByteCursor.append(to: &small, initialCapacity: 1) { json.write(record, to: &$0); summary.write(record, to: &$0) }
        ByteCursor.append(to: &large, initialCapacity: 1 << 20) { json.write(record, to: &$0); summary.write(record, to: &$0) }
        #expect(small == large)
        #expect(String(decoding: large, as: UTF8.self)
                == JSONLinesRenderer.render(record, source: "dir/a \"b\".pcap", includeEvents: true)
                + SummaryRenderer.line(record, source: "dir/a\u{1B}b.pcap"))
    }
}

struct FastPathTests {
    /// Every byte value, in every lane of the 8-byte scan and in the tail after it, against
    /// RFC 8259 §7's rule (below U+0020, quotation mark, reverse solidus), on backgrounds of
    /// ASCII and of high (UTF-8) bytes, where a borrow between lanes could mislead the scan.
    @Test(arguments: [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 24])
    func needsEscape_matchesTheRule(_ length: Int) {
        for background in [UInt8(ascii: "a"), 0x80, 0xE2, 0xFF, 0x20] {
            var bytes = [UInt8](repeating: background, count: length)
            #expect(!bytes.withUnsafeBytes { JSONWriter.needsEscape($0) })
            for position in 0..<length {
                for value in 0...255 {
                    bytes[position] = UInt8(value)
                    let expected = value < 0x20 || value == 0x22 || value == 0x5C
                    #expect(bytes.withUnsafeBytes { JSONWriter.needsEscape($0) } == expected,
                            "length \(length) position \(position) value \(value) background \(background)")
                }
                bytes[position] = background
            }
        }
    }

    /// Decimal digits two at a time, checked against Swift's own `String(_:)` for every value
    /// below 100,000, around each power of ten, and at the extremes; widths pad with zeros.
    @Test func writeDecimal_matchesStringConversion() {
        var values = Array(UInt64(0)..<100_000)
        var power: UInt64 = 1
        for _ in 0..<19 { power *= 10; values += [power - 1, power, power + 1] }
        values += [UInt64.max, UInt64.max - 1, UInt64(Int64.max)]
        for v in values {
            #expect(ByteCursor.string { $0.writeDecimal(v) } == String(v))
        }
        #expect(ByteCursor.string { $0.writeDecimal(7, width: 3) } == "007")
        #expect(ByteCursor.string { $0.writeDecimal(1234, width: 2) } == "1234")
        #expect(ByteCursor.string { $0.writeDecimal(0, width: 9) } == "000000000")
        #expect(ByteCursor.string { $0.writeDecimal(42, width: -5) } == "42")
    }

    /// Fixed-width fractions: the last `count` digits, zeros kept, against `String` padded by hand.
    @Test func writeDigits_isZeroPaddedToExactlyTheCount() {
        var v: UInt64 = 0
        for count in 1...19 {
            var limit: UInt64 = 1
            for _ in 0..<count { limit *= 10 }
            for value in [0, 1, 9, 10, 99, limit / 10, limit / 10 + 7, limit - 1, v % limit] where value < limit {
                let text = String(value)
                let expected = String(repeating: "0", count: count - text.count) + text
                #expect(ByteCursor.string { $0.writeDigits(value, exactly: count) } == expected)
            }
            v = v &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407   // Knuth's MMIX LCG
        }
        #expect(ByteCursor.string { $0.writeDigits(5, exactly: 0) } == "")
    }

    /// Short copies of every length up to 40 (the in-line loads and stores, then `memcpy`),
    /// and spaces of every count: exactly those bytes, nothing around them touched.
    @Test func copyAndSpaces_writeExactlyTheirBytes() {
        let source = (0..<40).map { UInt8($0 + 0x41) }
        for n in 0...40 {
            let text = ByteCursor.string { c in
                c.write(UInt8(ascii: "<"))
                source.withUnsafeBytes { c.write(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
                c.writeSpaces(n)
                c.write(UInt8(ascii: ">"))
            }
            #expect(text == "<" + String(decoding: source[..<n], as: UTF8.self) + String(repeating: " ", count: n) + ">")
        }
    }
}
