import Testing
import TeardownWire
@testable import TeardownRender

struct FormatTests {
    @Test(arguments: [
        (UInt64(0), "0"), (7, "7"), (999, "999"), (1_000, "1,000"), (29_994, "29,994"),
        (295_904, "295,904"), (1_234_567, "1,234,567"), (9_656_712, "9,656,712"),
        (UInt64.max, "18,446,744,073,709,551,615"),
    ])
    func grouped_unsigned(_ value: UInt64, _ expected: String) {
        #expect(text { $0.writeGrouped(value) } == expected)
    }

    @Test(arguments: [
        (Int64(-1), "-1"), (-1_000, "-1,000"), (-999_999, "-999,999"),
        (Int64.min, "-9,223,372,036,854,775,808"), (Int64.max, "9,223,372,036,854,775,807"),
    ])
    func grouped_signed(_ value: Int64, _ expected: String) {
        #expect(text { $0.writeGrouped(signed: value) } == expected)
    }

    /// Relative times: 6 decimals, rounded half away from zero, negative before the first packet.
    @Test(arguments: [
        (Int64(0), "0.000000"), (1, "0.000000"), (499, "0.000000"), (500, "0.000001"),
        (1_370_000, "0.001370"), (812_530_000, "0.812530"), (5_300_050_000, "5.300050"),
        (999_999_500, "1.000000"), (-50_000, "-0.000050"), (-400, "0.000000"), (-500, "-0.000001"),
        (Int64.min, "-9223372036.854776"), (Int64.max, "9223372036.854776"),
    ])
    func seconds_sixDecimals(_ ns: Int64, _ expected: String) {
        #expect(text { $0.writeSeconds(nanoseconds: ns, decimals: 6) } == expected)
    }

    @Test(arguments: [
        (Int64(850), "850 ns"), (12_400, "12 µs"), (999_499, "999 µs"), (1_234_000, "1.234 ms"),
        (31_000_000, "31.000 ms"), (2_000_000_000, "2.000000 s"), (-3_000, "-3 µs"),
    ])
    func callDuration(_ ns: Int64, _ expected: String) {
        #expect(text { $0.writeDuration(nanoseconds: ns) } == expected)
    }

    /// Oracle: GNU `date -u -d @SECONDS '+%Y-%m-%d %H:%M:%S'`, run by hand for each row.
    @Test(arguments: [
        (Int64(0), "1970-01-01 00:00:00"), (1_714_564_800, "2024-05-01 12:00:00"),
        (951_782_400, "2000-02-29 00:00:00"), (68_169_600, "1972-02-29 00:00:00"),
        (4_107_542_399, "2100-02-28 23:59:59"), (-1, "1969-12-31 23:59:59"),
        (-86_401, "1969-12-30 23:59:59"), (9_223_372_036, "2262-04-11 23:47:16"),
        (-9_223_372_036, "1677-09-21 00:12:44"),
    ])
    func utc_matchesDate(_ seconds: Int64, _ expected: String) {
        #expect(text { $0.writeUTC(Timestamp(seconds: seconds, nanoseconds: 0)) } == expected + ".000000 UTC")
    }

    @Test func utc_keepsMicrosecondsWithoutRounding() {
        #expect(text { $0.writeUTC(Timestamp(nanoseconds: 1_714_564_800_123_456_789)) } == "2024-05-01 12:00:00.123456 UTC")
        #expect(text { $0.writeUTC(Timestamp(nanoseconds: 1_714_564_800_999_999_999)) } == "2024-05-01 12:00:00.999999 UTC")
        #expect(text { $0.writeUTC(Timestamp(nanoseconds: -1)) } == "1969-12-31 23:59:59.999999 UTC")
    }

    @Test func difference_clampsInsteadOfTrapping() {
        #expect(Format.difference(Timestamp(nanoseconds: .max), Timestamp(nanoseconds: -1)) == .max)
        #expect(Format.difference(Timestamp(nanoseconds: .min), Timestamp(nanoseconds: 1)) == .min + 1)
        #expect(Format.difference(Timestamp(nanoseconds: 10), Timestamp(nanoseconds: 3)) == 7)
    }

    @Test func terminalSafe_replacesControlCharacters() {
        #expect(text { $0.writeTerminalSafe("a\u{1B}[31mb\nc\u{7F}\u{9B}d") } == "a\u{FFFD}[31mb\u{FFFD}c\u{FFFD}\u{FFFD}d")
        #expect(text { $0.writeTerminalSafe("plain ⇄ µ") } == "plain ⇄ µ")
    }

    @Test func percent_roundsHalfUp() {
        func percent(_ n: Int, of total: Int) -> String { text { TeardownTally.writePercent(n, of: total, to: &$0) } }
        #expect(percent(1, of: 3) == " 33.3%")
        #expect(percent(2, of: 3) == " 66.7%")
        #expect(percent(1, of: 1) == "100.0%")
        #expect(percent(1, of: 8) == " 12.5%")
        #expect(percent(0, of: 0) == "     –")
    }
}
