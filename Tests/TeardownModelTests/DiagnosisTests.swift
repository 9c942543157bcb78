import Testing
import TeardownModel
import TeardownWire

/// The rules of `Diagnosis.diagnose`, each on a conversation that shows its pattern and on one
/// as close to it as possible that must not be diagnosed (docs/diagnoses.md).
@Suite struct DiagnosisTests {
    private static let second: Int64 = 1_000_000_000

    private func codes(_ r: ConnectionRecord?) -> [Diagnosis.Code] { r?.diagnoses.map(\.code) ?? [] }

    /// A request and its response, everything acknowledged: client at 101, server at 201.
    private func exchange(_ s: inout Script) {
        s.handshake()
        s.c("P.", 1, 1, len: 100)
        s.s("P.", 1, 101, len: 200)
        s.c(".", 101, 201)
    }

    // MARK: keepalive-race

    /// The server's idle close (5 s after the last exchange) crosses the client's next request,
    /// which the server's TCP answers with an RST.
    private func keepaliveRace(idle: Int64) -> ConnectionRecord? {
        var s = Script()
        exchange(&s)
        s.send(.resp, "F", seq: 201, ack: 101, after: idle)     // packet 7
        s.c("P.", 101, 201, len: 120)                             // 8: the next request
        s.s("R", 202)                                             // 9
        return s.only()
    }

    @Test func idleClose_crossedByARequest_isAKeepaliveRace() throws {
        let r = try #require(keepaliveRace(idle: 5 * Self.second))
        #expect(codes(r) == [.keepaliveRace])
        let d = try #require(r.diagnoses.first)
        #expect(d.finding == .keepaliveRace(closer: .resp, idle: 5 * Self.second, requestBytes: 120))
        #expect(d.evidence == [7, 8, 9])
        #expect(d.confidence == .high)
    }

    @Test func closeWithoutIdleGap_crossedByARequest_isNoKeepaliveRace() {
        #expect(!codes(keepaliveRace(idle: 10_000_000)).contains(.keepaliveRace))
    }

    /// shutdown(SHUT_WR) after an idle gap, the server answering after the client's FIN: a
    /// half-close, no RST, nothing to diagnose.
    @Test func idleHalfClose_withoutRST_isNotDiagnosed() {
        var s = Script()
        exchange(&s)
        s.send(.orig, "F", seq: 101, ack: 201, after: 5 * Self.second)
        s.s("P.", 201, 102, len: 50)
        s.c(".", 102, 251)
        s.s("F.", 251, 102)
        s.c(".", 102, 252)
        #expect(codes(s.only()) == [])
    }

    // MARK: idle-timeout-reset, peer-restarted

    private func resetAfterSilence(_ silence: Int64, rst: String) -> ConnectionRecord? {
        var s = Script()
        exchange(&s)
        s.send(.orig, "P.", seq: 101, ack: 201, len: 10, after: silence)   // packet 7
        if rst == "R" { s.s("R", 201) } else { s.s("R", 201, 111) }         // 8
        return s.only()
    }

    @Test func rstAnsweringTheFirstSegmentAfterLongSilence_isAnIdleTimeoutReset() throws {
        let r = try #require(resetAfterSilence(30 * Self.second, rst: "R."))
        #expect(codes(r) == [.idleTimeoutReset])
        #expect(r.diagnoses.first?.finding == .idleTimeoutReset(resetter: .resp, silence: 30 * Self.second, prompted: true, fromPath: false, probes: nil))
        #expect(r.diagnoses.first?.evidence == [7, 8])
        #expect(r.diagnoses.first?.confidence == .medium)
    }

    @Test func abortAfterShortSilence_isNotAnIdleTimeoutReset() {
        #expect(codes(resetAfterSilence(2 * Self.second, rst: "R.")) == [])
    }

    // MARK: idle-timeout-reset: keep-alive probes, and retransmissions into nothing

    /// After the exchange (client at 101, server at 201) the client's keep-alive probes, each
    /// `gaps[i]` after the packet before it (seq 100: one less than the next, no data), each
    /// answered by the server's ACK when `answered`; then `end`: the server's bare RST
    /// answering the last probe, the client's own RST, or nothing.
    private func probes(_ gaps: [Int64], answered: Bool, end: String) -> ConnectionRecord? {
        var s = Script()
        exchange(&s)
        for (i, g) in gaps.enumerated() {
            s.send(.orig, ".", seq: 100, ack: 201, after: g)
            if answered && i < gaps.count - 1 { s.s(".", 201, 101) }
        }
        switch end {
        case "server": s.s("R", 201)
        case "client": s.send(.orig, "R", seq: 101, after: Self.second)
        default: break
        }
        return s.only()
    }

    /// The client's first keep-alive probe after 20 s of silence draws the server's bare RST:
    /// the probe is the first segment after the silence, which is measured up to it.
    @Test func rstAnsweringAKeepAliveProbeAfterLongSilence_isAnIdleTimeoutReset_withTheProbe() throws {
        let r = try #require(probes([20 * Self.second], answered: false, end: "server"))
        #expect(codes(r) == [.idleTimeoutReset])
        let seen = Diagnosis.KeepAliveProbes(from: .orig, count: 1, idle: 20 * Self.second, interval: 0)
        #expect(r.diagnoses.first?.finding == .idleTimeoutReset(resetter: .resp, silence: 20 * Self.second, prompted: true,
                                                                 fromPath: false, probes: seen))
        #expect(r.diagnoses.first?.evidence == [7, 8])
    }

    /// Probes every 15 s, the first after 20 s, answered (1 ms later), until one draws the RST:
    /// the silence the path did not tolerate is the 15 s before that probe.
    @Test func rstAnsweringTheFourthKeepAliveProbe_givesTheProbesInterval() throws {
        let r = try #require(probes([20 * Self.second, 15 * Self.second, 15 * Self.second, 15 * Self.second], answered: true, end: "server"))
        let seen = Diagnosis.KeepAliveProbes(from: .orig, count: 4, idle: 20 * Self.second, interval: 15_001_000_000)
        #expect(r.diagnoses.map(\.finding) == [.idleTimeoutReset(resetter: .resp, silence: 15 * Self.second, prompted: true,
                                                                  fromPath: false, probes: seen)])
    }

    /// Probes answered as they should be, then a graceful close: nothing to diagnose; and an
    /// abort 2 s after the server's answer to a probe is no idle timeout.
    @Test func keepAliveProbesAnsweredNormally_areNotDiagnosed() {
        var s = Script()
        exchange(&s)
        s.send(.orig, ".", seq: 100, ack: 201, after: 20 * Self.second)
        s.s(".", 201, 101)
        s.c("F.", 101, 201)
        s.s("F.", 201, 102)
        s.c(".", 102, 202)
        #expect(codes(s.only()) == [])
        var abort = Script()
        exchange(&abort)
        abort.send(.orig, ".", seq: 100, ack: 201, after: 20 * Self.second)
        abort.s(".", 201, 101)
        abort.send(.resp, "R.", seq: 201, ack: 101, after: 2 * Self.second)
        #expect(codes(abort.only()) == [])
    }

    /// After 20 s of silence three probes a second apart go unanswered and the client's TCP
    /// gives up with an RST (Linux: TCP_KEEPCNT): the path or the server forgot the connection.
    @Test func unansweredKeepAliveProbesAfterLongSilence_thenTheProbersRST_isAnIdleTimeoutReset() throws {
        let r = try #require(probes([20 * Self.second, Self.second, Self.second], answered: false, end: "client"))
        #expect(codes(r) == [.idleTimeoutReset])
        #expect(r.diagnoses.first?.finding == .idleTimeoutDrop(sender: .orig, silence: 20 * Self.second, segments: 3,
                                                                span: 3 * Self.second, reset: true, keepAlive: true))
        #expect(r.diagnoses.first?.evidence == [7, 9, 10])
        #expect(r.diagnoses.first?.confidence == .medium)
    }

    /// The same after 5 s of silence (a short TCP_KEEPIDLE): no idle timeout.
    @Test func unansweredKeepAliveProbesAfterShortSilence_areNoIdleTimeoutReset() {
        #expect(codes(probes([5 * Self.second, Self.second, Self.second], answered: false, end: "client")) == [])
    }

    /// The client resumes after `silence` (packet 7) and its segment is retransmitted with
    /// doubling gaps, unanswered, then nothing; with `answered`, the server acknowledged the
    /// first segment after the silence and it is the next one that goes unanswered.
    private func retransmittedAfterSilence(_ silence: Int64, answered: Bool = false) -> ConnectionRecord? {
        let ms: Int64 = 1_000_000
        var s = Script()
        exchange(&s)
        var seq: UInt32 = 101
        s.send(.orig, "P.", seq: seq, ack: 201, len: 100, after: silence)      // 7
        if answered { s.s(".", 201, 201); seq = 201; s.c("P.", seq, 201, len: 100) }
        for g in [200 * ms, 400 * ms, 800 * ms, 1600 * ms] {
            s.send(.orig, "P.", seq: seq, ack: 201, len: 100, after: g)
        }
        return s.only()
    }

    @Test func retransmissionsIntoNothingAfterLongSilence_areAGiveUpAndAnIdleTimeout() throws {
        let r = try #require(retransmittedAfterSilence(20 * Self.second))
        #expect(codes(r) == [.retransmissionGiveUp, .idleTimeoutReset])
        let d = try #require(r.diagnoses.last)
        #expect(d.finding == .idleTimeoutDrop(sender: .orig, silence: 20 * Self.second, segments: 5,
                                              span: 3_000_000_000, reset: false, keepAlive: false))
        #expect(d.evidence == [7, 11])
        #expect(d.confidence == .medium)
    }

    /// The same retransmissions without a silence before them, or after a silence the server
    /// answered: a give-up only.
    @Test func retransmissionsWithoutSilence_orAfterAnAnsweredOne_areNoIdleTimeout() {
        #expect(codes(retransmittedAfterSilence(Self.second / 100)) == [.retransmissionGiveUp])
        #expect(codes(retransmittedAfterSilence(20 * Self.second, answered: true)) == [.retransmissionGiveUp])
    }

    @Test func bareRSTAnsweringData_fromASideThatNeverClosed_isPeerRestarted() throws {
        let r = try #require(resetAfterSilence(2 * Self.second, rst: "R"))
        #expect(codes(r) == [.peerRestarted])
        #expect(r.diagnoses.first?.finding == .peerRestarted(resetter: .resp, silence: 2 * Self.second, bytes: 10))
    }

    /// The same bare RST from a side that had closed (FIN) is not a lost socket's.
    @Test func bareRSTAnsweringData_afterTheResettersFIN_isNotPeerRestarted() {
        var s = Script()
        exchange(&s)
        s.s("F.", 201, 101)
        s.c(".", 101, 202)
        s.send(.orig, "P.", seq: 101, ack: 202, len: 10, after: 2 * Self.second)
        s.s("R", 202)
        #expect(!codes(s.only()).contains(.peerRestarted))
    }

    // MARK: zero-window-abort

    private func zeroWindow(reopened: Bool) -> ConnectionRecord? {
        var s = Script()
        s.handshake()
        s.c("P.", 1, 1, len: 1000)
        s.send(.resp, ".", seq: 1, ack: 1001, window: 0)                        // 5: window closed
        s.send(.orig, ".", seq: 1000, ack: 1, after: Self.second / 2)          // probes
        s.send(.resp, ".", seq: 1, ack: 1001, window: reopened ? 65535 : 0)
        s.send(.orig, ".", seq: 1000, ack: 1, after: Self.second)
        s.send(.resp, ".", seq: 1, ack: 1001, window: reopened ? 65535 : 0)
        s.send(.orig, "R", seq: 1001, ack: 1, after: 2 * Self.second)          // 10
        return s.only()
    }

    @Test func windowHeldAtZeroUntilTheRST_isAZeroWindowAbort() throws {
        let r = try #require(zeroWindow(reopened: false))
        #expect(codes(r) == [.zeroWindowAbort])
        #expect(r.diagnoses.first?.finding == .zeroWindowAbort(receiver: .resp, resetter: .orig,
                                                               duration: 3_502_000_000, probes: 2))   // 0.5 + 1 + 2 s, and the two 1 ms steps
        #expect(r.diagnoses.first?.evidence == [5, 10])
    }

    @Test func windowReopenedBeforeTheRST_isNoZeroWindowAbort() {
        #expect(!codes(zeroWindow(reopened: true)).contains(.zeroWindowAbort))
    }

    // MARK: retransmission-give-up

    private func retransmissions(gaps: [Int64], thenReset: Bool, answered: Bool = false) -> ConnectionRecord? {
        var s = Script()
        s.handshake()
        s.c("P.", 1, 1, len: 100)                         // 4
        for (i, g) in gaps.enumerated() {
            s.send(.orig, "P", seq: 1, ack: 1, len: 100, after: g)
            if answered && i == 1 { s.s(".", 1, 1) }
        }
        if thenReset { s.send(.orig, "R", seq: 101, ack: 1, after: gaps.last ?? 0) }
        return s.only()
    }

    @Test func backedOffRetransmissions_thenRST_isARetransmissionGiveUp() throws {
        let ms: Int64 = 1_000_000
        let r = try #require(retransmissions(gaps: [200 * ms, 400 * ms, 800 * ms, 1600 * ms], thenReset: true))
        #expect(codes(r) == [.retransmissionGiveUp])
        #expect(r.diagnoses.first?.finding == .retransmissionGiveUp(sender: .orig, retransmissions: 4, span: 2800 * ms,
                                                                    firstGap: 400 * ms, lastGap: 1600 * ms, reset: true))
        #expect(r.diagnoses.first?.evidence == [5, 8, 9])
        #expect(r.diagnoses.first?.confidence == .high)
    }

    @Test func backedOffRetransmissions_thenSilence_isAGiveUpOfMediumConfidence() throws {
        let ms: Int64 = 1_000_000
        let r = try #require(retransmissions(gaps: [200 * ms, 400 * ms, 800 * ms, 1600 * ms], thenReset: false))
        #expect(r.diagnoses.map(\.confidence) == [.medium])
    }

    @Test func evenlySpacedRetransmissions_areNoGiveUp() {
        let ms: Int64 = 1_000_000
        #expect(codes(retransmissions(gaps: [200 * ms, 200 * ms, 200 * ms, 200 * ms], thenReset: true)) == [])
    }

    @Test func retransmissionsThePeerAnswered_areNoGiveUp() {
        let ms: Int64 = 1_000_000
        #expect(!codes(retransmissions(gaps: [200 * ms, 400 * ms, 800 * ms, 1600 * ms], thenReset: true, answered: true))
                    .contains(.retransmissionGiveUp))
    }

    // MARK: time-wait-assassination, harmless-reset

    /// The client closes first and is left in TIME-WAIT; a second later an RST arrives: into
    /// TIME-WAIT from the server, or from the client into the server's CLOSED.
    private func rstAfterClose(from side: Side) -> ConnectionRecord? {
        var s = Script()
        exchange(&s)
        s.c("F.", 101, 201)
        s.s("F.", 201, 102)
        s.c(".", 102, 202)                                           // 9: client in TIME-WAIT
        if side == .resp {
            s.send(.resp, "R", seq: 202, after: Self.second)          // 10
        } else {
            s.send(.orig, "R", seq: 102, after: Self.second)
        }
        return s.only()
    }

    @Test func rstIntoTimeWait_isATimeWaitAssassination() throws {
        let r = try #require(rstAfterClose(from: .resp))
        #expect(codes(r) == [.timeWaitAssassination])
        #expect(r.diagnoses.first?.finding == .timeWaitRST(resetter: .resp, timeWaitSide: .orig))
        #expect(r.diagnoses.first?.evidence == [9, 10])
    }

    @Test func rstAfterCloseIntoAClosedSide_isHarmless_notAnAssassination() {
        let r = rstAfterClose(from: .orig)
        #expect(codes(r) == [.harmlessReset])
        #expect(r?.diagnoses.first?.finding == .harmlessReset(resetter: .orig, afterClose: true))
    }

    /// The server closes first and is left in TIME-WAIT; the client's next SYN, above the old
    /// sequence numbers, opens a new connection on the 4-tuple.
    @Test func synIntoTimeWait_isATimeWaitAssassination_onTheNewConnection() throws {
        var s = Script()
        exchange(&s)
        s.s("F.", 201, 101)
        s.c("F.", 101, 202)
        s.s(".", 202, 102)                                            // 9: server in TIME-WAIT
        s.send(.orig, "S", seq: 100_000, after: Self.second)          // 10
        let r = s.run()
        #expect(r.count == 2)
        #expect(r.count == 2 && codes(r[0]) == [])
        #expect(r.count == 2 && r[1].diagnoses.map(\.finding) == [.timeWaitSYN(previous: 1, why: .aboveTimeWait)])
        #expect(r.count == 2 && r[1].diagnoses.first?.evidence == [10])
    }

    @Test func synAfterAReset_isNoTimeWaitAssassination() {
        var s = Script()
        exchange(&s)
        s.c("R", 101)
        s.send(.orig, "S", seq: 100_000, after: Self.second)
        #expect(s.run().flatMap(\.diagnoses).map(\.code) == [])
    }

    /// The server's FIN, then the client's FIN meets the server's gone socket: a bare RST at
    /// once, every byte acknowledged.
    private func finThenRST(clientData: Int) -> ConnectionRecord? {
        var s = Script()
        exchange(&s)
        s.s("F.", 201, 101)                                           // 7
        s.c(".", 101, 202)
        if clientData > 0 { s.c("P.", 101, 202, len: clientData) } else { s.c("F.", 101, 202) }   // 9
        s.s("R", 202)                                                 // 10
        return s.only()
    }

    @Test func rstAfterOwnFIN_answeringASegmentWithoutData_isHarmless() throws {
        let r = try #require(finThenRST(clientData: 0))
        #expect(codes(r) == [.harmlessReset])
        #expect(r.diagnoses.first?.finding == .harmlessReset(resetter: .resp, afterClose: false))
        #expect(r.diagnoses.first?.evidence == [7, 9, 10])
    }

    @Test func rstAfterOwnFIN_answeringData_isNotHarmless() {
        #expect(!codes(finThenRST(clientData: 10)).contains(.harmlessReset))
    }

    /// An application's abort long after its own FIN (shutdown(SHUT_RDWR), then close() with
    /// the peer's data unread) answers nothing: not harmless.
    @Test func abortLongAfterOwnFIN_isNotHarmless() {
        var s = Script()
        exchange(&s)
        s.c("F.", 101, 201)
        s.s(".", 201, 102)
        s.send(.orig, "R", seq: 102, ack: 201, after: 40_000_000)
        #expect(codes(s.only()) == [])
    }

    // MARK: listen-overflow

    @Test func synACKRepeatedAfterTheHandshakeACK_isAListenOverflow() throws {
        var s = Script()
        s.handshake()                                                 // 1-3
        s.send(.resp, "S", seq: 0, ack: 1, after: Self.second)        // 4
        s.c(".", 1, 1)
        s.send(.resp, "S", seq: 0, ack: 1, after: 2 * Self.second)
        s.c(".", 1, 1)
        let r = try #require(s.only())
        #expect(codes(r) == [.listenOverflow])
        #expect(r.diagnoses.first?.finding == .listenOverflow(repeats: 2))
        #expect(r.diagnoses.first?.evidence == [4])
    }

    @Test func synACKRepeatedForARepeatedSYN_isNoListenOverflow() {
        var s = Script()
        s.c("S", 0)
        s.s("S", 0, 1)
        s.send(.orig, "S", seq: 0, after: Self.second)
        s.s("S", 0, 1)
        s.c(".", 1, 1)
        #expect(codes(s.only()) == [])
    }

    private func handshakeThenRST(after delay: Int64) -> ConnectionRecord? {
        var s = Script()
        s.handshake()
        s.c("P.", 1, 1, len: 100)                                     // 4
        s.send(.resp, "R", seq: 1, ack: 101, after: delay)            // 5
        return s.only()
    }

    @Test func completedHandshakeAnsweredByRST_isAListenOverflow() throws {
        let r = try #require(handshakeThenRST(after: 50_000))
        #expect(codes(r) == [.listenOverflow])
        #expect(r.diagnoses.first?.finding == .listenOverflow(repeats: 0))
        #expect(r.diagnoses.first?.evidence == [4, 5])
    }

    /// The server's application accepted and aborted 20 ms later (SO_LINGER {1, 0}): the RST
    /// answers no segment.
    @Test func abortLaterAfterTheHandshake_isNoListenOverflow() {
        #expect(codes(handshakeThenRST(after: 20_000_000)) == [])
    }

    // MARK: close-unread-request

    /// The server answers the request and aborts after the client's next message; with the
    /// socket calls, `unread` of the client's bytes were never read by the server.
    private func closeUnread(unread: UInt64?) -> ConnectionRecord? {
        var s = Script()
        s.handshake()
        s.c("P.", 1, 1, len: 100)                                    // 4: request
        s.s("P.", 1, 101, len: 200)                                  // 5: response
        s.c("P.", 101, 1, len: 50)                                   // 6: the next request
        s.send(.resp, "R", seq: 201, ack: 151, after: 20_000_000)    // 7
        guard var r = s.only() else { return nil }
        if let unread {   // what CallCorrelation fills in from the calls
            r.orig.bytes.written = 150
            r.orig.bytes.readByPeer = 150 - unread
            r.orig.bytes.lost = unread
            r.orig.bytes.neverSent = 0
            r.orig.bytes.unacked = 0
            r.orig.bytes.unread = unread
        }
        r.diagnoses = Diagnosis.withCalls(r)
        return r
    }

    @Test func abortWithThePeersDataUnread_asTheCallsShow_isCloseUnreadRequest() throws {
        let r = try #require(closeUnread(unread: 50))
        #expect(codes(r) == [.closeUnreadRequest])
        #expect(r.diagnoses.first?.finding == .closeUnreadRequest(closer: .resp, unreadBytes: 50, responseBytes: 200, inFlight: 200))
        #expect(r.diagnoses.first?.evidence == [7])
        #expect(r.diagnoses.first?.confidence == .high)
    }

    /// The same packets with everything read (SO_LINGER {1, 0} after answering), and without
    /// socket calls: packets alone cannot tell the two apart, so nothing is said.
    @Test func abortWithEverythingRead_orWithoutCalls_isNoCloseUnreadRequest() {
        #expect(codes(closeUnread(unread: 0)) == [])
        #expect(codes(closeUnread(unread: nil)) == [])
    }

    // MARK: close-wait-leak

    /// The client closes; the server acknowledges and goes silent; another connection goes on
    /// until `later` after that, so the input ends then.
    /// The later connection goes to the same server (its service still heard), or to another.
    private func halfClosed(inputEndsAfter later: Int64, serverCloses: Bool = false, laterToAnotherServer: Bool = false) -> [ConnectionRecord] {
        var s = Script()
        exchange(&s)
        s.c("F.", 101, 201)                                          // 7
        s.s(".", 201, 102)                                           // 8
        if serverCloses { s.s("F.", 201, 102) }
        s.client = Endpoint(address: IPAddress("10.0.0.3")!, port: 40001)
        if laterToAnotherServer { s.server = Endpoint(address: IPAddress("10.0.0.9")!, port: 8080) }
        s.send(.orig, "S", seq: 0, after: later)
        return s.run()
    }

    /// The same silence, but nothing says the server was alive when the capture stopped: the
    /// input's end cut the connection off (the benchmark generator's half-closed lane endings).
    @Test func silenceUntilTheEnd_serverNotHeardSince_isNoCloseWaitLeak() {
        #expect(halfClosed(inputEndsAfter: 90 * Self.second, laterToAnotherServer: true).flatMap(\.diagnoses).isEmpty)
    }

    @Test func finAcknowledged_thenSilenceUntilTheEnd_isACloseWaitLeak() throws {
        let r = halfClosed(inputEndsAfter: 90 * Self.second)
        #expect(r.count == 2)
        let first = try #require(r.first)
        #expect(codes(first) == [.closeWaitLeak])
        #expect(first.diagnoses.first?.finding == .closeWaitLeak(closer: .orig, silence: 90 * Self.second, atEnd: true))
        #expect(first.diagnoses.first?.evidence == [7, 8])
        #expect(r.count == 2 && codes(r[1]) == [])
    }

    @Test func finAcknowledged_shortSilenceBeforeTheEnd_isNoCloseWaitLeak() {
        #expect(halfClosed(inputEndsAfter: 10 * Self.second).flatMap(\.diagnoses).isEmpty)
    }

    @Test func peerClosedToo_isNoCloseWaitLeak() {
        #expect(halfClosed(inputEndsAfter: 90 * Self.second, serverCloses: true).flatMap(\.diagnoses).isEmpty)
    }

    // MARK: middlebox-reset

    /// A request and its response, every server segment with TTL 52 (packets 1-6).
    private func exchangeAt52() -> Script {
        var s = Script()
        s.send(.orig, "S", seq: 0)
        s.send(.resp, "S", seq: 0, ack: 1, ttl: 52)
        s.c(".", 1, 1)
        s.c("P.", 1, 1, len: 100)
        s.send(.resp, "P", seq: 1, ack: 101, len: 200, ttl: 52)
        s.c(".", 101, 201)
        return s
    }

    /// An RST in the server's name after that exchange: with `ttl`, and with the server's data
    /// after it or not.
    private func pathReset(ttl: UInt8, dataAfter: Bool = false) -> ConnectionRecord? {
        var s = exchangeAt52()
        s.send(.resp, "R", seq: 201, ack: 101, ttl: ttl)                       // 7
        if dataAfter { s.send(.resp, "P", seq: 201, ack: 101, len: 30, ttl: 52) }
        return s.only()
    }

    @Test func rstWithAnotherTTLThanItsSide_isAMiddleboxReset() throws {
        let r = try #require(pathReset(ttl: 61))
        #expect(codes(r) == [.middleboxReset])
        #expect(r.diagnoses.first?.finding == .middleboxReset(resetter: .resp, rstHopLimit: 61, sideHopLimit: 52, bytesAfter: 0))
        #expect(r.diagnoses.first?.evidence == [7])
        #expect(r.diagnoses.first?.confidence == .medium)
    }

    @Test func rstWithAnotherTTL_andDataFromItsSideAfterIt_isAMiddleboxReset_ofHighConfidence() {
        let r = pathReset(ttl: 61, dataAfter: true)
        #expect(r?.diagnoses.first?.finding == .middleboxReset(resetter: .resp, rstHopLimit: 61, sideHopLimit: 52, bytesAfter: 30))
        #expect(r?.diagnoses.first?.confidence == .high)
    }

    /// The endpoint's own RST through the same path: the same TTL as its other segments.
    @Test func rstWithItsSidesTTL_isNoMiddleboxReset() {
        #expect(!codes(pathReset(ttl: 52)).contains(.middleboxReset))
    }

    /// An RST in the server's name with another TTL, after 30 s of silence: the path's idle
    /// timer, said by both diagnoses, the idle one then of high confidence.
    @Test func rstAfterLongSilence_withAnotherTTL_isTheIdleTimerOfThePath() throws {
        var s = exchangeAt52()
        s.send(.orig, "P", seq: 101, ack: 201, len: 10, after: 30 * Self.second)   // 7
        s.send(.resp, "R", seq: 201, ttl: 64)                                       // 8
        let r = try #require(s.only())
        #expect(codes(r) == [.middleboxReset, .idleTimeoutReset])
        #expect(r.diagnoses.last?.finding == .idleTimeoutReset(resetter: .resp, silence: 30 * Self.second, prompted: true, fromPath: true, probes: nil))
        #expect(r.diagnoses.last?.confidence == .high)
        #expect(!codes(r).contains(.peerRestarted))
    }

    // MARK: confidence and the common case

    @Test func gracefulClose_hasNoDiagnosis() {
        var s = Script()
        exchange(&s)
        s.c("F.", 101, 201)
        s.s("F.", 201, 102)
        s.c(".", 102, 202)
        #expect(codes(s.only()) == [])
    }

    /// The same ending diagnosed in summary mode (no rows, no notes): the trail does not depend
    /// on the rows.
    @Test func diagnoses_doNotDependOnRecordingEvents() {
        var s = Script()
        exchange(&s)
        s.send(.resp, "F", seq: 201, ack: 101, after: 5 * Self.second)
        s.c("P.", 101, 201, len: 120)
        s.s("R", 202)
        let full = s.run().flatMap(\.diagnoses)
        let bare = s.run(configuration: .init(recordEvents: false, recordNotes: false)).flatMap(\.diagnoses)
        #expect(!full.isEmpty)
        #expect(full == bare)
    }
}
