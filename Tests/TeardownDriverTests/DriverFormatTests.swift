import Foundation
import Testing
import TeardownDriver
import TeardownModel
import TeardownWire

/// The application ledger's arithmetic (no root needed).
@Suite struct DriverFormatTests {
    @Test func applicationLedger_addsUp_andMismatchIsReported() {
        var l = DirectionLedger()
        l.sent = 4096; l.acked = 4096
        l.written = 30000; l.readByPeer = 0; l.lost = 30000; l.neverSent = 25904; l.unacked = 0; l.unread = 4096
        #expect(l.problems.isEmpty)
        l.readByPeer = 5000     // more read than was ever put on the wire: impossible, must be reported
        #expect(l.problems == [.lostIsNotWrittenMinusRead(writtenMinusRead: 25000, lost: 30000),
                               .readExceedsSent(read: 5000, sent: 4096)])
        l.readByPeer = 4000; l.written = 4096; l.sent = 4096; l.acked = 3000   // read before the ACK left: fine
        l.lost = 96; l.neverSent = 0; l.unacked = 0; l.unread = 96
        #expect(l.problems.isEmpty)
    }
}
