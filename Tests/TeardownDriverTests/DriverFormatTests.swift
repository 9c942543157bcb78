import Foundation
import Testing
import TeardownDriver
import TeardownModel
import TeardownWire

/// The call log's line format and the application ledger's arithmetic (no root needed).
@Suite struct DriverFormatTests {
    @Test func callLogLine_roundTrips() throws {
        let c = RecordedCall(time: Timestamp(nanoseconds: 1_700_000_000_123_456_789), durationNanoseconds: 1234, pid: 42, fd: 7,
                             local: Endpoint(address: IPAddress("::1")!, port: 5000), remote: Endpoint(address: IPAddress("::1")!, port: 40000),
                             actor: "server", call: "read(1024)", result: -1, errno: "ECONNRESET", bytes: 0, kind: .read)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("td-calls-\(getpid()).jsonl").path
        try CallLogFile.write([c], to: path)
        #expect(try CallLogFile.read(path) == [c])
    }

    @Test func callLog_badLine_namesFileAndLine() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("td-bad-\(getpid()).jsonl").path
        try "{\"time_ns\": 1}\nnot json\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect { _ = try CallLogFile.read(path) } throws: { e in "\(e)".hasPrefix(path + ": line 1: ") }
    }

    @Test func endpointText_parses() {
        #expect(CallLogFile.parseEndpoint("127.0.0.1:80") == Endpoint(address: IPAddress("127.0.0.1")!, port: 80))
        #expect(CallLogFile.parseEndpoint("[::1]:443") == Endpoint(address: IPAddress("::1")!, port: 443))
        #expect(CallLogFile.parseEndpoint("nonsense") == nil)
    }

    @Test func applicationLedger_addsUp_andMismatchIsReported() {
        var l = DirectionLedger()
        l.sent = 4096; l.acked = 4096
        l.written = 30000; l.readByPeer = 0; l.lost = 30000; l.neverSent = 25904; l.unacked = 0; l.unread = 4096
        #expect(CallCorrelation.ledgerProblems(l).isEmpty)
        l.readByPeer = 5000     // more read than was ever put on the wire: impossible, must be reported
        #expect(CallCorrelation.ledgerProblems(l) == [.readExceedsSent(read: 5000, sent: 4096)])
        l.readByPeer = 4000; l.written = 4096; l.sent = 4096; l.acked = 3000   // read before the ACK left: fine
        l.lost = 96; l.neverSent = 0; l.unacked = 0; l.unread = 96
        #expect(CallCorrelation.ledgerProblems(l).isEmpty)
    }
}
