import Testing
import TeardownModel
import TeardownWire

/// Where one connection ends and the next begins on the same 4-tuple: which SYN opens a new
/// connection (RFC 9293 §3.10.7, RFC 6191, RFC 5961 §4), checked on the records the tracker
/// reports and the note the new connection carries.
@Suite struct BoundaryTests {
    private func reuse(_ r: ConnectionRecord) -> Note? {
        r.notes.first { $0.code == .tupleReused }
    }

    private func packetNotes(_ r: ConnectionRecord) -> [Note.Code] {
        r.events.flatMap { e -> [Note.Code] in
            if case .packet(let p) = e { return p.notes.map(\.code) }
            return []
        }
    }

    /// The same SYN after its refusal: still a second record (the server is CLOSED, as Zeek's
    /// second REJ), but a retransmission, so the client's TCP had not taken the RST.
    @Test func synSent_refusedThenSameSYN_isASecondRefusedAttempt_theSYNRepeated() {
        var s = Script()
        s.c("S", 0)
        s.s("R", 0, 1)
        s.send(.orig, "S", seq: 0, after: 1_000_000_000)   // the same ISN, 1 s later: within the linger
        s.s("R", 0, 1)
        let r = s.run()
        #expect(r.map(\.teardown.kind) == [.refused, .refused])
        #expect(r.map(\.connState) == [.REJ, .REJ])
        #expect(r.map(\.firstPacketNumber) == [1, 3])
        #expect(r.count == 2 && reuse(r[1]) == .tupleReused(previous: 1, .refusedSYNRepeated))
        #expect(r.count == 2 && reuse(r[0]) == nil)
    }

    @Test func synSent_retransmittedThenRefused_thenTheSameSYNAgain_isTheSYNRepeated() {
        var s = Script()
        s.c("S", 0)
        s.send(.orig, "S", seq: 0, after: 1_000_000_000)
        s.s("R", 0, 1)
        s.send(.orig, "S", seq: 0, after: 1_000_000_000)
        let r = s.run()
        #expect(r.map(\.teardown.kind) == [.refused, .unanswered])
        #expect(r.count == 2 && reuse(r[1]) == .tupleReused(previous: 1, .refusedSYNRepeated))
    }

    /// Only a refusal makes a repeated SYN tell that the RST was not taken: after a reset of an
    /// established connection the originator's first ISN again is a new connection after a reset.
    @Test func established_reset_thenTheFirstSYNAgain_isAfterReset() {
        var s = Script()
        s.handshake()
        s.c("R", 1, 1)
        s.c("S", 0)
        let r = s.run()
        #expect(r.count == 2 && reuse(r[1]) == .tupleReused(previous: 1, .afterReset))
    }

    @Test func synSent_synRetransmittedThenRefused_isOneAttempt() throws {
        var s = Script()
        s.c("S", 0)
        s.send(.orig, "S", seq: 0, after: 1_000_000_000)
        s.s("R", 0, 1)
        let r = try #require(s.only())
        #expect(r.teardown.kind == .refused)
        #expect(r.orig.syn == 2)
        #expect(packetNotes(r).contains(.synRetransmitted))
    }

    @Test func refused_thenSYNWithNewISN_isANewAttempt() {
        var s = Script()
        s.c("S", 0)
        s.s("R", 0, 1)
        s.clientISN = 2_000_000
        s.c("S", 0)
        s.s("R", 0, 1)
        let r = s.run()
        #expect(r.map(\.teardown.kind) == [.refused, .refused])
        #expect(r.count == 2 && reuse(r[1]) == .tupleReused(previous: 1, .afterRefusal))
    }

    @Test func synSent_bareRSTIsIgnored_retransmittedSYNStaysInTheAttempt() throws {
        // RFC 9293 §3.10.7.3: in SYN-SENT an RST without ACK is dropped.
        var s = Script()
        s.c("S", 0)
        s.send(.resp, "R", seq: 0)
        s.c("S", 0)
        let r = try #require(s.only())
        #expect(r.rst == nil)
        #expect(r.orig.syn == 2)
    }

    @Test func established_reset_thenNewSYN_isANewConnection() {
        var s = Script()
        s.handshake()
        s.c("R", 1, 1)
        s.clientISN = 5_000_000
        s.serverISN = 6_000_000
        s.handshake()
        let r = s.run()
        #expect(r.map(\.teardown.kind) == [.abortByOriginator, .open])
        #expect(r.count == 2 && reuse(r[1]) == .tupleReused(previous: 1, .afterReset))
    }

    /// The server closed first, so the server is in TIME-WAIT when the client's SYN comes.
    private func serverInTimeWait(ts: Bool = false) -> Script {
        var s = Script()
        s.send(.orig, "S", seq: 0, tsval: ts ? 100 : nil)
        s.send(.resp, "S", seq: 0, ack: 1, tsval: ts ? 9_000 : nil)
        s.send(.orig, "", seq: 1, ack: 1, tsval: ts ? 101 : nil)
        s.send(.resp, "F", seq: 1, ack: 1, tsval: ts ? 9_001 : nil)
        s.send(.orig, "", seq: 1, ack: 2, tsval: ts ? 102 : nil)
        s.send(.orig, "F", seq: 1, ack: 2, tsval: ts ? 103 : nil)
        s.send(.resp, "", seq: 2, ack: 2, tsval: ts ? 9_002 : nil)
        return s
    }

    @Test func timeWait_synAboveTheOldSequence_isANewConnection() {
        var s = serverInTimeWait()
        s.c("S", 100_000)   // above the client's old SND.NXT (ISN + 2)
        let r = s.run()
        #expect(r.count == 2)
        #expect(r.first?.resp.state == .timeWait)
        #expect(r.count == 2 && reuse(r[1]) == .tupleReused(previous: 1, .aboveTimeWait))
    }

    @Test func timeWait_synBelowTheOldSequence_isAnOldDuplicate() throws {
        var s = serverInTimeWait()
        s.send(.orig, "S", seq: 0, rawSeq: 999_000)   // below the old ISN, no timestamps
        let r = try #require(s.only())
        #expect(r.teardown.kind == .graceful)
        #expect(packetNotes(r).contains(.synInTimeWait))
    }

    @Test func timeWait_synBelowButWithANewerTimestamp_isANewConnection() {
        var s = serverInTimeWait(ts: true)
        s.send(.orig, "S", seq: 0, rawSeq: 999_000, tsval: 5_000)
        let r = s.run()
        #expect(r.count == 2 && reuse(r[1]) == .tupleReused(previous: 1, .newerTimestamp))
    }

    @Test func timeWait_synAboveButWithAnOlderTimestamp_isRejectedByPAWS() throws {
        var s = serverInTimeWait(ts: true)
        s.send(.orig, "S", seq: 100_000, tsval: 50)
        let r = try #require(s.only())
        #expect(packetNotes(r).contains(.synInTimeWait))
    }

    @Test func clientInTimeWait_reusesItsPort_isANewConnection() {
        var s = Script()
        s.handshake()
        s.c("F", 1, 1)
        s.s("F", 1, 2)
        s.c("", 2, 2)
        s.send(.orig, "S", seq: 0, rawSeq: 10)   // any ISN: the server's side is CLOSED
        let r = s.run()
        #expect(r.count == 2 && reuse(r[1]) == .tupleReused(previous: 1, .afterClose))
    }

    @Test func established_synWithAnotherISN_isAChallengeNotANewConnection() throws {
        var s = Script()
        s.handshake()
        s.send(.orig, "S", seq: 0, rawSeq: 77_777_777)
        s.s("", 1, 1)                                   // the challenge ACK
        s.c("F", 1, 1)
        s.s("F", 1, 2)
        s.c("", 2, 2)
        let r = try #require(s.only())
        #expect(r.teardown.kind == .graceful)
        #expect(packetNotes(r).contains(.synInConnection))
    }

    @Test func synSent_connectRetriedWithANewISN_isANewAttempt() {
        var s = Script()
        s.c("S", 0)
        s.s("S", 0, 1)                // the SYN-ACK, which the client never got
        s.send(.orig, "S", seq: 0, rawSeq: 42)
        let r = s.run()
        #expect(r.count == 2)
        #expect(r.count == 2 && reuse(r[1]) == .tupleReused(previous: 1, .connectRetried))
    }

    @Test func handshakeCompleted_synWithANewISN_staysInTheConnection() throws {
        var s = Script()
        s.handshake()
        s.send(.orig, "S", seq: 0, rawSeq: 42)
        let r = try #require(s.only())
        #expect(packetNotes(r).contains(.synInConnection))
    }
}
