import Testing
import TeardownModel
import TeardownWire
@testable import TeardownRender

/// Numbers and stamps as Zeek's writers print them.
struct ZeekConnLogTests {
    /// TSV times and intervals: `modp_dtoa(d, 6)`, trailing zeros kept.
    @Test(arguments: [
        (1_300_475_167.096535, "1300475167.096535"), (0.000298, "0.000298"), (5.0, "5.000000"),
        (0.0035469532012939453, "0.003547"), (0.0000004, "0.000000"), (0.0000006, "0.000001"),
        (1.9999996, "2.000000"), (-0.25, "-0.250000"),
    ])
    func fixed6(_ value: Double, _ expected: String) {
        #expect(ByteCursor.string { ZeekConnLog.writeFixed6(value, to: &$0) } == expected)
    }

    /// JSON doubles: rapidjson's shortest round-trip digits and its layout.
    @Test(arguments: [
        (1_300_475_167.096535, "1300475167.096535"), (0.000298, "0.000298"), (5.0, "5.0"),
        (0.0035469532012939453, "0.0035469532012939453"), (1e-7, "1e-7"), (1.5e-7, "1.5e-7"),
        (0.000001, "0.000001"), (100.0, "100.0"), (1e21, "1e21"), (123456.5, "123456.5"),
    ])
    func shortest(_ value: Double, _ expected: String) {
        #expect(ByteCursor.string { ZeekConnLog.writeShortest(value, to: &$0) } == expected)
    }

    /// `#open` / `#close`: `%Y-%m-%d-%H-%M-%S`, here in UTC.
    @Test func stamps() {
        #expect(ByteCursor.string { ZeekConnLog.writeStamp(Timestamp(seconds: 1_735_689_600, nanoseconds: 5), to: &$0) }
                == "2025-01-01-00-00-00")
        #expect(ByteCursor.string { ZeekConnLog.writeStamp(Timestamp(seconds: 951_827_696, nanoseconds: 0), to: &$0) }
                == "2000-02-29-12-34-56")
        #expect(ByteCursor.string { ZeekConnLog.writeStamp(nil, to: &$0) } == "1970-01-01-00-00-00")
    }

    static let record = ZeekConnRecord(
        uid: "CabcdefghijklmnopQ", ts: 1_735_689_600.25,
        orig: Endpoint(address: IPAddress("192.0.2.1")!, port: 40000),
        resp: Endpoint(address: IPAddress("2001:db8::1")!, port: 443),
        duration: nil, origBytes: nil, respBytes: nil, connState: .S0, missedBytes: 0, history: "S",
        origPackets: 1, origIPBytes: 60, respPackets: 0, respIPBytes: 0)

    @Test func tsvLeavesUnsetFieldsDashed() {
        let line = ByteCursor.string { ZeekConnLog.writeTSV(Self.record, to: &$0) }
        #expect(line == "1735689600.250000\tCabcdefghijklmnopQ\t192.0.2.1\t40000\t2001:db8::1\t443\ttcp\t-\t-\t-\t-\tS0\t-\t-\t0\tS\t1\t60\t0\t0\t-\t6\n")
    }

    @Test func jsonLeavesUnsetFieldsOut() {
        let line = ByteCursor.string { ZeekConnLog.writeJSON(Self.record, to: &$0) }
        #expect(line == #"{"ts":1735689600.25,"uid":"CabcdefghijklmnopQ","id.orig_h":"192.0.2.1","id.orig_p":40000,"id.resp_h":"2001:db8::1","id.resp_p":443,"proto":"tcp","conn_state":"S0","missed_bytes":0,"history":"S","orig_pkts":1,"orig_ip_bytes":60,"resp_pkts":0,"resp_ip_bytes":0,"ip_proto":6}"# + "\n")
    }

    @Test func headerNamesEveryColumnWithItsType() {
        let header = ByteCursor.string(initialCapacity: 1024) { ZeekConnLog.writeHeader(open: nil, to: &$0) }
        let lines = header.split(separator: "\n")
        #expect(lines.first == "#separator \\x09")
        let fields = lines.first { $0.hasPrefix("#fields") }!.split(separator: "\t").dropFirst()
        let types = lines.first { $0.hasPrefix("#types") }!.split(separator: "\t").dropFirst()
        #expect(fields.count == 22 && types.count == 22)
        #expect(fields.last == "ip_proto" && types.last == "count")
    }
}
