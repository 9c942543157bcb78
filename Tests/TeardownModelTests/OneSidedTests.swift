import Testing
import TeardownModel
import TeardownWire

/// Captures that hold one direction only: what shows the other existed, how the ending is read
/// from the side that was seen, and which ledger rows become unknown. Each script drops one
/// side's segments from a conversation whose two-sided reading is known.
@Suite struct OneSidedTests {
    /// A graceful close (client first) with 100 bytes each way, as segments from both sides.
    private func graceful(clientFirst: Bool) -> Script {
        var s = Script()
        s.handshake()
        s.c("P", 1, 1, len: 100)
        s.s("", 1, 101)
        s.s("P", 1, 101, len: 100)
        s.c("", 101, 101)
        if clientFirst {
            s.c("F", 101, 101)
            s.s("F", 101, 102)
            s.c("", 102, 102)
        } else {
            s.s("F", 101, 101)
            s.c("", 101, 102)
            s.c("F", 101, 102)
            s.s("", 102, 102)
        }
        return s
    }

    private func only(_ side: Side, of s: Script) -> Script {
        var t = s
        let source = side == .orig ? s.client : s.server
        t.segments = s.segments.filter { $0.0.source == source }
        return t
    }

    @Test func twoSided_isNotOneSided() throws {
        let r = try #require(graceful(clientFirst: true).only())
        #expect(r.oneSided == nil)
        #expect(r.teardown.kind == .graceful)
    }

    @Test(arguments: [true, false])
    func clientOnly_gracefulClose_finInferredAndCloserKept(clientFirst: Bool) throws {
        let r = try #require(only(.orig, of: graceful(clientFirst: clientFirst)).only())
        let one = try #require(r.oneSided)
        #expect(one.seen == .orig && one.missing == .resp)
        #expect(one.evidence == .acknowledgedUnseenData)
        #expect(one.acknowledgedBytes == 100)
        #expect(one.finInferred)
        #expect(r.teardown.kind == .graceful)
        #expect(r.closedBy == (clientFirst ? .orig : .resp))
        #expect(r.resp.bytes.acked == 100)
        #expect(r.resp.bytes.unknown.contains(.sent) && r.orig.bytes.unknown.contains(.acked))
        #expect(r.notes.contains(.finInferred(.resp)))
        #expect(!r.notes.contains { $0.code == .unacknowledgedAtEnd })
    }

    @Test(arguments: [true, false])
    func serverOnly_gracefulClose_finInferred(clientFirst: Bool) throws {
        let r = try #require(only(.resp, of: graceful(clientFirst: clientFirst)).only())
        let one = try #require(r.oneSided)
        #expect(one.seen == .resp)
        #expect(r.orig.endpoint.port == 40000)   // the SYN-ACK's sender is the server, whatever its port
        #expect(r.teardown.kind == .graceful && !r.teardown.midstream)
        #expect(r.closedBy == (clientFirst ? .orig : .resp))
        #expect(r.orig.bytes.acked == 100)
    }

    @Test func clientOnly_finWithoutAckOfAFIN_isHalfClosedWithThePeerUnknown() throws {
        var s = Script()
        s.handshake()
        s.c("P", 1, 1, len: 100)
        s.c("", 101, 51)          // acknowledges 50 bytes never seen
        s.c("F", 101, 51)
        let r = try #require(only(.orig, of: s).only())
        #expect(r.oneSided?.finInferred == false)
        #expect(r.teardown.kind == .halfClosed)
        #expect(r.notes.contains(.peerCloseUnknown(closer: .orig)))
        #expect(!r.notes.contains { $0.code == .peerNeverClosed })
    }

    @Test func clientOnly_rst_isAbortAndInFlightIsUnknown() throws {
        var s = Script()
        s.handshake()
        s.c("P", 1, 1, len: 100)
        s.c("", 101, 1001)
        s.c("R", 101, 1001)
        let r = try #require(only(.orig, of: s).only())
        #expect(r.teardown.kind == .abortByOriginator)
        #expect(r.orig.bytes.unknown.contains(.inFlightAtRST))
        #expect(!r.notes.contains { $0.code == .inFlightAtRST })
    }

    @Test func clientOnly_handshakeWithoutData_isOneSidedOpenNotUnanswered() throws {
        var s = Script()
        s.c("S", 0)
        s.c("", 1, 1)             // acknowledges a SYN-ACK that was not captured
        s.c("P", 1, 1, len: 10)
        let r = try #require(s.only())
        #expect(r.oneSided?.evidence == .handshakeAnswered)
        #expect(r.teardown.kind == .open)
        #expect(r.orig.state == .established)   // the missing SYN-ACK inferred
    }

    @Test func synOnly_isStillUnanswered() throws {
        var s = Script()
        s.c("S", 0)
        s.c("S", 0)
        let r = try #require(s.only())
        #expect(r.oneSided == nil)
        #expect(r.teardown.kind == .unanswered)
    }

    @Test func synAckOnly_backscatter_isNotOneSided() throws {
        var s = Script()
        s.s("S", 0, 1)
        s.s("S", 0, 1)
        let r = try #require(s.only())
        #expect(r.oneSided == nil)
    }

    /// Two-sided traffic that lost many segments (not all of one side's) is never one-sided.
    @Test func twoSidedWithLosses_isNotOneSided() throws {
        var s = graceful(clientFirst: true)
        s.segments = s.segments.enumerated().filter { i, seg in
            seg.0.source == s.client || i == 1        // of the server, only its SYN-ACK
        }.map(\.element)
        let r = try #require(s.only())
        #expect(r.oneSided == nil)
    }
}
