import Testing
import TeardownModel
import TeardownWire

/// Teardown paths through the observer-side state machine, one test per path, named after the
/// state and the event (smoltcp style). Expected values come from RFC 9293 §3.6 and Figure 13
/// (simultaneous close), and from what Linux sends (see captures/README.md for real recordings).
@Suite struct StateMachineTests {
    @Test func clientClosesFirst_fourWayClose_clientEndsInTimeWait() throws {
        var s = Script()
        s.handshake()
        s.c("P", 1, 1, len: 100)
        s.s("", 1, 101)
        s.s("P", 1, 101, len: 50)
        s.c("", 101, 51)
        s.c("F", 101, 51)
        s.s("", 51, 102)
        s.s("F", 51, 102)
        s.c("", 102, 52)
        let r = try #require(s.only())
        #expect(r.teardown.name == "graceful")
        #expect(r.closedBy == .orig)
        #expect(r.halfClose == false)
        #expect(r.rst == nil)
        #expect(r.orig.state == .timeWait)
        #expect(r.resp.state == .closed)
        #expect(r.path(of: .orig) == [.closed, .synSent, .established, .finWait1, .finWait2, .timeWait])
        #expect(r.path(of: .resp) == [.listen, .synReceived, .established, .closeWait, .lastAck, .closed])
        #expect(r.orig.bytes.sent == 100 && r.orig.bytes.acked == 100)
        #expect(r.resp.bytes.sent == 50 && r.resp.bytes.acked == 50)
        #expect(r.orig.fin == 1 && r.resp.fin == 1 && r.orig.syn == 1 && r.resp.syn == 1)
        #expect(r.orig.packets == 6 && r.resp.packets == 5)
        #expect(r.midstream == false)
        #expect(r.notes.contains(.leftInTimeWait(.orig)))
        #expect(r.connState == .SF && r.history == "ShADadFf")
    }

    @Test func serverClosesFirst_finAckCombined_serverEndsInTimeWait() throws {
        var s = Script()
        s.handshake()
        s.c("P", 1, 1, len: 10)
        s.s("P", 1, 11, len: 20)
        s.s("F", 21, 11)
        s.c("F", 11, 22)     // the client's FIN also acknowledges the server's FIN
        s.s("", 22, 12)
        let r = try #require(s.only())
        #expect(r.teardown.kind == .graceful)
        #expect(r.closedBy == .resp)
        #expect(r.resp.state == .timeWait)
        #expect(r.orig.state == .closed)
        #expect(r.path(of: .resp).suffix(3) == [.finWait1, .finWait2, .timeWait])
        #expect(r.path(of: .orig).suffix(3) == [.closeWait, .lastAck, .closed])
    }

    @Test func finWait1_receivesFINWithoutACKOfItsFIN_bothPassThroughClosing() throws {
        var s = Script()
        s.handshake()
        s.c("F", 1, 1)
        s.s("F", 1, 1)       // sent before the client's FIN arrived: does not acknowledge it
        s.c("", 2, 2)
        s.s("", 2, 2)
        let r = try #require(s.only())
        #expect(r.teardown.kind == .simultaneousClose)
        #expect(r.closedBy == .both)
        #expect(r.path(of: .orig).suffix(3) == [.finWait1, .closing, .timeWait])
        #expect(r.path(of: .resp).suffix(3) == [.finWait1, .closing, .timeWait])
        #expect(r.orig.state == .timeWait && r.resp.state == .timeWait)
    }

    @Test func closeWait_sendsDataAfterPeerFIN_isHalfClose() throws {
        var s = Script()
        s.handshake()
        s.c("P", 1, 1, len: 30)
        s.c("F", 31, 1)
        s.s("", 1, 32)
        s.s("P", 1, 32, len: 1000)
        s.s("P", 1001, 32, len: 1000)
        s.c("", 32, 2001)
        s.s("F", 2001, 32)
        s.c("", 32, 2002)
        let r = try #require(s.only())
        #expect(r.teardown.kind == .graceful)
        #expect(r.halfClose)
        #expect(r.closedBy == .orig)
        #expect(r.resp.bytes.sent == 2000 && r.resp.bytes.acked == 2000)
        #expect(r.notes.contains(.halfCloseBytes(.resp, bytes: 2_000)))
    }

    @Test func closeWait_replyCarriesTheACKOfThePeerFIN_isHalfClose() throws {
        // After shutdown(SHUT_WR) the server's first reply segment acknowledges the FIN itself.
        var s = Script()
        s.handshake()
        s.c("P", 1, 1, len: 10)
        s.c("F", 11, 1)
        s.s("P", 1, 12, len: 500)
        s.c("", 12, 501)
        s.s("F", 501, 12)
        s.c("", 12, 502)
        let r = try #require(s.only())
        #expect(r.teardown.kind == .graceful)
        #expect(r.halfClose)
        #expect(r.resp.state == .closed && r.orig.state == .timeWait)
    }

    @Test func established_oneFINOnly_isHalfClosed() throws {
        var s = Script()
        s.handshake()
        s.c("F", 1, 1)
        s.s("", 1, 2)
        let r = try #require(s.only())
        #expect(r.teardown.kind == .halfClosed)
        #expect(r.connState == .S2)
        #expect(r.closedBy == .orig)
        #expect(r.orig.state == .finWait2)
        #expect(r.resp.state == .closeWait)
    }

    @Test func established_clientAbortsWithUnsentData_abortByOriginator() throws {
        var s = Script()
        s.handshake()
        s.c("P", 1, 1, len: 1000)
        s.c("P", 1001, 1, len: 1000)
        s.s("", 1, 1001)             // the server acknowledged only the first 1,000 bytes
        s.c("R", 2001, 1)            // SO_LINGER {1, 0}: RST with ACK at SND.NXT
        let r = try #require(s.only())
        #expect(r.teardown.kind == .abortByOriginator)
        #expect(r.closedBy == .orig)
        #expect(r.connState == .RSTO)
        let rst = try #require(r.rst)
        #expect(rst.from == .orig && rst.shape == .withACK && rst.validity == .exact)
        #expect(r.orig.bytes.inFlightAtRST == 1000)
        #expect(r.resp.bytes.inFlightAtRST == 0)
        #expect(r.orig.state == .closed && r.resp.state == .closed)
        #expect(r.notes.contains(.inFlightAtRST(.orig, bytes: 1_000)))
    }

    @Test func established_serverClosesWithUnreadData_abortByResponder() throws {
        var s = Script()
        s.handshake()
        s.c("P", 1, 1, len: 1000)
        s.s("", 1, 1001)
        s.s("R", 1, 1001)
        let r = try #require(s.only())
        #expect(r.teardown.kind == .abortByResponder)
        #expect(r.connState == .RSTR)
        #expect(r.closedBy == .resp)
        #expect(r.rst?.acknowledged == 1000)   // the server had acknowledged all it dropped
        #expect(r.orig.bytes.inFlightAtRST == 0)
    }

    @Test func synSent_receivesRSTACK_refused() throws {
        var s = Script()
        s.c("S", 0)
        s.s("R", 0, 1)
        let r = try #require(s.only())
        #expect(r.teardown.name == "refused")
        #expect(r.connState == .REJ)
        #expect(r.closedBy == .resp)
        #expect(r.rst?.validity == .exact)
        #expect(r.orig.state == .closed)
    }

    @Test func synSent_rstWithWrongACK_isIgnored() throws {
        var s = Script()
        s.c("S", 0)
        s.s("R", 0, 7)
        let r = try #require(s.only())
        #expect(r.teardown.kind == .open)
        #expect(r.rst == nil)
        #expect(r.orig.state == .synSent)
    }

    @Test func synSent_neverAnswered_unanswered() throws {
        var s = Script()
        s.c("S", 0)
        s.c("S", 0)
        s.c("S", 0)
        let r = try #require(s.only())
        #expect(r.teardown.name == "unanswered")
        #expect(r.connState == .S0)
        #expect(r.closedBy == nil)
        #expect(r.orig.syn == 3)
        #expect(r.notes.contains(.synUnanswered(attempts: 3)))
    }

    @Test func finWait2Orphan_receivesData_bareRSTIsResetAfterClose() throws {
        var s = Script()
        s.handshake()
        s.s("F", 1, 1)
        s.c("", 1, 2)
        s.c("P", 1, 2, len: 5)      // the client writes to a server that has closed
        s.s("R", 2)                 // bare RST, seq = the client's ACK
        let r = try #require(s.only())
        #expect(r.teardown.kind == .resetAfterClose)
        #expect(r.closedBy == .resp)
        #expect(r.rst?.shape == .bare)
        #expect(r.rst?.validity == .exact)
        #expect(r.orig.bytes.inFlightAtRST == 5)
    }

    @Test func finWait1_finRetransmittedTwice_stillGraceful() throws {
        var s = Script()
        s.handshake()
        s.c("F", 1, 1)
        s.c("F", 1, 1)
        s.c("F", 1, 1)
        s.s("F", 1, 2)
        s.c("", 2, 2)
        let r = try #require(s.only())
        #expect(r.teardown.kind == .graceful)
        #expect(r.orig.fin == 3)
        #expect(r.allPacketNotes.filter { $0 == .finRetransmitted }.count == 2)
        #expect(r.orig.state == .timeWait)
    }

    @Test func established_finCarriesData_finSequenceAfterData() throws {
        var s = Script()
        s.handshake()
        s.c("FP", 1, 1, len: 100)
        s.s("F", 1, 102)
        s.c("", 102, 2)
        let r = try #require(s.only())
        #expect(r.teardown.kind == .graceful)
        #expect(r.orig.bytes.sent == 100 && r.orig.bytes.acked == 100)
        #expect(r.orig.state == .timeWait && r.resp.state == .closed)
    }

    @Test func established_finAndRSTTogether_treatedAsRST() throws {
        var s = Script()
        s.handshake()
        s.c("FR", 1, 1)
        let r = try #require(s.only())
        #expect(r.teardown.kind == .abortByOriginator)
        #expect(r.orig.fin == 1 && r.orig.rst == 1)
        #expect(r.allPacketNotes.contains(.finAndRST))
    }

    @Test func timeWait_receivesRST_staysGracefulAndNotesIt() throws {
        var s = Script()
        s.handshake()
        s.c("F", 1, 1)
        s.s("F", 1, 2)
        s.c("", 2, 2)
        s.s("R", 2)
        let r = try #require(s.only())
        #expect(r.teardown.kind == .graceful)
        #expect(r.rst == nil)
        #expect(r.orig.state == .closed)
        #expect(r.allPacketNotes.contains(.rstInTimeWait))
    }

    @Test func established_rstOutOfWindow_ignoredThenGraceful() throws {
        var s = Script()
        s.handshake()
        s.c("R", 900_000)
        s.c("F", 1, 1)
        s.s("F", 1, 2)
        s.c("", 2, 2)
        let r = try #require(s.only())
        #expect(r.teardown.kind == .graceful)
        #expect(r.rst == nil)
        #expect(r.notes.contains(.rstsNotAccepted(1)))
    }

    @Test func established_rstInWindowNotExact_challengeACKNotEnded() throws {
        var s = Script()
        s.handshake()
        s.c("R", 11)
        let r = try #require(s.only())
        #expect(r.teardown.kind == .open)
        var validity: RSTValidity?
        for e in r.events { if case .packet(let p) = e, p.flags.contains(.rst) { validity = p.rstValidity } }
        #expect(validity == .inWindow)
    }

    @Test func closedConnection_newSYNOnSameTuple_startsNewRecord() throws {
        var s = Script()
        s.handshake()
        s.c("F", 1, 1)
        s.s("F", 1, 2)
        s.c("", 2, 2)
        s.clientISN = 7_000_000
        s.serverISN = 9_000_000
        s.handshake()
        s.c("R", 1, 1)
        let r = s.run()
        #expect(r.count == 2)
        #expect(r.map(\.teardown.kind) == [.graceful, .abortByOriginator])
        #expect(r.map(\.index) == [1, 2])
        #expect(r[1].firstPacketNumber == 7)
    }

    @Test func noHandshake_dataThenFINs_midstreamGraceful() throws {
        var s = Script()
        s.c("P", 500, 800, len: 100)
        s.s("", 800, 600)
        s.c("F", 600, 800)
        s.s("F", 800, 601)
        s.c("", 601, 801)
        let r = try #require(s.only())
        #expect(r.teardown.name == "midstream-graceful")
        #expect(r.connState == .SF)   // Zeek: PARTIAL endpoints that send FIN become CLOSED; both CLOSED -> SF
        #expect(r.midstream)
        #expect(r.closedBy == .orig)
        #expect(r.orig.bytes.sent == 100 && r.orig.bytes.acked == 100)
        #expect(r.orig.state == .timeWait)
    }

    @Test func sequenceWrap_dataAcrossTwoToThe32_countsEveryByte() throws {
        var s = Script(clientISN: 0xFFFF_FE00, serverISN: 0xFFFF_FFF0)
        s.handshake()
        for i in 0..<4 { s.c("P", 1 + UInt32(i) * 200, 1, len: 200) }   // crosses 2^32 after 511 bytes
        s.s("", 1, 801)
        s.s("P", 1, 801, len: 100)
        s.c("F", 801, 101)
        s.s("F", 101, 802)
        s.c("", 802, 102)
        let r = try #require(s.only())
        #expect(r.teardown.kind == .graceful)
        #expect(r.orig.bytes.sent == 800 && r.orig.bytes.acked == 800 && r.orig.bytes.retransmitted == 0)
        #expect(r.resp.bytes.sent == 100 && r.resp.bytes.acked == 100)
    }

    @Test func established_dataRetransmitted_countedOnce() throws {
        var s = Script()
        s.handshake()
        s.c("P", 1, 1, len: 500)
        s.c("P", 1, 1, len: 500)
        s.c("P", 251, 1, len: 500)      // half old, half new
        s.s("", 1, 751)
        let r = try #require(s.only())
        #expect(r.orig.bytes.sent == 750)
        #expect(r.orig.bytes.retransmitted == 750)
        #expect(r.orig.payloadBytes == 1500)
        #expect(r.orig.bytes.acked == 750)
    }

    @Test func finishedConnection_isReportedAfterLingerBeforeEndOfInput() throws {
        var s = Script()
        s.handshake()
        s.c("F", 1, 1)
        s.s("F", 1, 2)
        s.c("", 2, 2)
        // An unrelated connection three seconds later pushes packet time past the linger.
        s.client = Endpoint(address: IPAddress("10.0.0.9")!, port: 50000)
        s.send(.orig, "S", seq: 0, after: 3_000_000_000)
        var tracker = ConnectionTracker()
        var emitted: [Int] = []
        for (n, (seg, t)) in s.segments.enumerated() {
            tracker.process(seg, time: t, packetNumber: n + 1) { emitted.append($0.index) }
        }
        #expect(emitted == [1])
        #expect(tracker.openConnections == 1)
        tracker.finish { emitted.append($0.index) }
        #expect(emitted == [1, 2])
    }

    @Test func longTransfer_foldsPlainRowsIntoOne() throws {
        var s = Script()
        s.handshake()
        for i in 0..<1000 { s.c("P", 1 + UInt32(i) * 10, 1, len: 10) }
        s.s("", 1, 10001)
        s.c("F", 10001, 1)
        s.s("F", 1, 10002)
        s.c("", 10002, 2)
        let r = try #require(s.only())
        let folds = r.events.compactMap { e -> FoldEvent? in if case .fold(let f) = e { return f }; return nil }
        #expect(folds.count == 1)
        #expect(r.events.count < 20)
        // Every data packet is either a row or inside the fold.
        let rows = r.events.filter { if case .packet(let p) = $0 { return p.payloadLength == 10 }; return false }.count
        #expect(rows + (folds.first?.origSegments ?? 0) == 1000)
        #expect(folds.first.map { $0.origBytes + UInt64(rows * 10) } == 10_000)
    }

    @Test func noEvents_keepsNoRowsButSameClassification() throws {
        var s = Script()
        s.handshake()
        s.c("F", 1, 1)
        s.s("F", 1, 2)
        s.c("", 2, 2)
        let r = s.run(configuration: .init(recordEvents: false, recordNotes: false))
        #expect(r.count == 1)
        #expect(r[0].events.isEmpty && r[0].notes.isEmpty)
        #expect(r[0].teardown.kind == .graceful)
    }
}

/// Memory bounds: idle connections are reported after the idle timeout (packet time), and the
/// table never holds more than its cap.
@Suite struct ResourceBoundTests {
    @Test func unansweredSYN_isReportedAfterIdleTimeout() {
        var s = Script()
        s.c("S", 0)
        s.client = Endpoint(address: IPAddress("10.0.0.7")!, port: 1234)
        s.send(.orig, "S", seq: 0, after: 11_000_000_000)
        var tracker = ConnectionTracker(configuration: .init(idleTimeoutNanoseconds: 10_000_000_000))
        var out: [ConnectionRecord] = []
        for (n, (seg, t)) in s.segments.enumerated() { tracker.process(seg, time: t, packetNumber: n + 1) { out.append($0) } }
        #expect(out.count == 1)
        #expect(out.first?.teardown.kind == .unanswered)
        #expect(out.first?.notes.contains(.idleTimeout(seconds: 10)) == true)
        #expect(tracker.openConnections == 1)
        #expect(tracker.idleExpired == 1)
    }

    /// An attempt nobody answered is forgotten after `unansweredTimeout` (130 s, past Linux's
    /// 127 s of SYN retries); an answered connection idle as long is kept until `idleTimeout`.
    @Test func unansweredSYN_isReportedAfterUnansweredTimeout_answeredIdleConnectionIsKept() {
        let server = Endpoint(address: IPAddress("10.0.0.2")!, port: 80)
        let lonely = Endpoint(address: IPAddress("10.0.0.7")!, port: 1234)
        let quiet = Endpoint(address: IPAddress("10.0.0.8")!, port: 1235)
        let late = Endpoint(address: IPAddress("10.0.0.9")!, port: 1236)
        func seg(_ from: Endpoint, _ to: Endpoint, _ flags: TCPFlags, seq: UInt32, ack: UInt32 = 0) -> TCPSegment {
            TCPSegment(source: from, destination: to, sequenceNumber: SequenceNumber(seq),
                       acknowledgmentNumber: SequenceNumber(ack), flags: flags, window: 1024, payloadLength: 0)
        }
        let s: Int64 = 1_000_000_000
        let packets: [(TCPSegment, Int64)] = [
            (seg(lonely, server, .syn, seq: 100), 0),
            (seg(quiet, server, .syn, seq: 500), 0),
            (seg(server, quiet, [.syn, .ack], seq: 900, ack: 501), 1),
            (seg(quiet, server, .ack, seq: 501, ack: 901), 2),
            (seg(late, server, .syn, seq: 700), 140 * s),  // drives the idle sweep
        ]
        var tracker = ConnectionTracker()
        var out: [ConnectionRecord] = []
        for (n, (p, t)) in packets.enumerated() {
            tracker.process(p, time: Timestamp(nanoseconds: t), packetNumber: n + 1) { out.append($0) }
        }
        #expect(out.count == 1)
        #expect(out.first?.orig.endpoint == lonely)
        #expect(out.first?.teardown.kind == .unanswered)
        #expect(out.first?.notes.contains(.unansweredTimeout(seconds: 130)) == true)
        #expect(tracker.openConnections == 2)
    }

    @Test func synFlood_tableStaysUnderCap_evictionsReported() {
        var tracker = ConnectionTracker(configuration: .init(recordEvents: false, maxConnections: 500))
        var reported = 0, maxOpen = 0
        let server = Endpoint(address: IPAddress("10.0.0.2")!, port: 80)
        for i in 0..<5_000 {
            let client = Endpoint(address: IPAddress(ipv4: 0x0b00_0000 | UInt32(i)), port: UInt16(1024 + i % 60000))
            let seg = TCPSegment(source: client, destination: server, sequenceNumber: SequenceNumber(UInt32(i)),
                                 acknowledgmentNumber: SequenceNumber(0), flags: .syn, window: 1024, payloadLength: 0)
            tracker.process(seg, time: Timestamp(nanoseconds: 1_000 + Int64(i)), packetNumber: i + 1) { _ in reported += 1 }
            maxOpen = max(maxOpen, tracker.openConnections)
        }
        #expect(maxOpen == 500)
        #expect(tracker.evicted == reported)
        tracker.finish { _ in reported += 1 }
        #expect(reported == 5_000)
    }
}

@Suite struct EvictionOrderTests {
    /// Over the cap, a connection that has already ended is reported (as it ended), not evicted.
    @Test func finishedConnectionsGoFirst_andAreNotCalledEvicted() {
        var tracker = ConnectionTracker(configuration: .init(recordEvents: false, maxConnections: 2))
        var out: [ConnectionRecord] = []
        // Connection 1 ends gracefully (and lingers); connection 2 stays open; 3 pushes over the cap.
        var s = Script()
        s.handshake(); s.c("F", 1, 1); s.s("F", 1, 2); s.c("", 2, 2)
        for (n, (seg, t)) in s.segments.enumerated() { tracker.process(seg, time: t, packetNumber: n + 1) { out.append($0) } }
        var s2 = Script(); s2.client = Endpoint(address: IPAddress("10.0.0.3")!, port: 1); s2.clock += 10_000_000
        s2.handshake()
        var s3 = Script(); s3.client = Endpoint(address: IPAddress("10.0.0.4")!, port: 1); s3.clock += 20_000_000
        s3.c("S", 0)
        for (n, (seg, t)) in (s2.segments + s3.segments).enumerated() { tracker.process(seg, time: t, packetNumber: 100 + n) { out.append($0) } }
        #expect(out.count == 1)
        #expect(out.first?.teardown.kind == .graceful)
        #expect(out.first?.notes.contains { $0.code == .evicted } == false)
        #expect(tracker.evicted == 0)
        #expect(tracker.openConnections == 2)
    }
}
