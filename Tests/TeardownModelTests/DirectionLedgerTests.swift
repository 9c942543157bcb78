import Testing
import TeardownModel

/// The one check of a direction's byte ledger: `lost = written − read by peer = never sent +
/// unacked + unread`, nothing read that was not written and put on the wire.
@Suite struct DirectionLedgerTests {
    /// A ledger as CallCorrelation fills it: 10 written, 8 sent, 6 acknowledged, 4 read.
    static var consistent: DirectionLedger {
        var l = DirectionLedger()
        l.sent = 8; l.acked = 6
        l.written = 10; l.readByPeer = 4; l.lost = 6; l.neverSent = 2; l.unacked = 2; l.unread = 2
        return l
    }

    @Test func consistentLedger_hasNoProblems() {
        #expect(Self.consistent.problems.isEmpty)
        #expect(DirectionLedger().problems.isEmpty)   // no application rows: nothing to check
    }

    @Test func lostThatIsNotWrittenMinusRead_isReported() {
        var l = Self.consistent
        l.lost = 5
        #expect(l.problems == [.lostIsNotWrittenMinusRead(writtenMinusRead: 6, lost: 5)])
        l.lost = nil
        #expect(l.problems == [.lostIsNotWrittenMinusRead(writtenMinusRead: 6, lost: nil)])
    }

    @Test func impossibleRows_areEachReported_andThePartsAreNotCheckedAgain() {
        var l = Self.consistent
        l.readByPeer = 12                       // more read than written, and than sent
        #expect(l.problems == [.readExceedsWritten(read: 12, written: 10), .readExceedsSent(read: 12, sent: 8)])
        l = Self.consistent
        l.sent = 11                             // more on the wire than written
        #expect(l.problems == [.sentExceedsWritten(sent: 11, written: 10)])
    }

    @Test func partsThatDoNotAddUp_orOverflow_areReported() {
        var l = Self.consistent
        l.unread = 3
        #expect(l.problems == [.partsDoNotAddUp(neverSent: 2, unacked: 2, unread: 3, lost: 6)])
        l.neverSent = .max
        #expect(l.problems == [.partsOverflow])
    }
}
