import Testing
import TeardownKernel
import TeardownWire
@testable import TeardownModel

/// The kernel lane joined to connections: by 4-tuple, by socket address across one socket's
/// life, each RST given the kernel's account or said not to be this host's.
@Suite struct KernelJoinTests {
    /// The server aborts with unread data: handshake, 100 bytes, the server's RST.
    static func abort() -> (Script, [ConnectionRecord]) {
        var s = Script()
        s.handshake()
        s.c("P", 1, 1, len: 100)
        s.s("", 1, 101)
        s.s("R", 1, 101)
        var configuration = ConnectionTracker.Configuration()
        configuration.recordEvents = true
        configuration.recordNotes = true
        return (s, s.run(configuration: configuration))
    }

    static func at(_ s: Script, _ packet: Int, _ offset: Int64) -> Timestamp {
        Timestamp(nanoseconds: s.segments[packet - 1].1.nanoseconds + offset)
    }

    static let abortOnClose = RSTReason(rawValue: 11, name: "TCP_ABORT_ON_CLOSE")

    /// The kernel's events of that connection: connect() before the port was chosen (port 0),
    /// both sockets established, the server's abort.
    static func events(_ s: Script, resetSent: Bool = true) -> [KernelEvent] {
        let unbound = Endpoint(address: s.client.address, port: 0)
        var list = [
            KernelEvent(time: at(s, 1, -5_000), pid: 1, kind: .stateChange(from: .close, to: .synSent, protocol: 6),
                        socket: 0xA, source: unbound, destination: s.server),
            KernelEvent(time: at(s, 2, 3_000), pid: 1, kind: .stateChange(from: .synSent, to: .established, protocol: 6),
                        socket: 0xA, source: s.client, destination: s.server),
            KernelEvent(time: at(s, 3, 3_000), pid: 1, kind: .stateChange(from: .synRecv, to: .established, protocol: 6),
                        socket: 0xB, source: s.server, destination: s.client),
            KernelEvent(time: at(s, 6, -2_000), pid: 2, kind: .stateChange(from: .established, to: .close, protocol: 6),
                        socket: 0xB, source: s.server, destination: s.client),
            // Another program's socket: out of scope.
            KernelEvent(time: at(s, 4, 0), pid: 3, kind: .stateChange(from: .established, to: .finWait1, protocol: 6),
                        socket: 0xC, source: Endpoint(address: s.client.address, port: 1), destination: s.server),
        ]
        if resetSent {
            list.append(KernelEvent(time: at(s, 6, 4_000), pid: 2, kind: .sendReset(state: .close, reason: abortOnClose),
                                    socket: 0xB, source: s.server, destination: s.client))
        }
        return list
    }

    @Test func socketAddressGivesConnectItsPort() {
        let (s, _) = Self.abort()
        let resolved = KernelJoin.resolved(Self.events(s))
        #expect(resolved[0].source == s.client)
        // After the socket's CLOSE, its address is free: a new socket there is another life.
        let reuse = [
            KernelEvent(time: Timestamp(nanoseconds: 1), pid: 0, kind: .stateChange(from: .established, to: .close, protocol: 6),
                        socket: 0xA, source: s.client, destination: s.server),
            KernelEvent(time: Timestamp(nanoseconds: 2), pid: 0, kind: .stateChange(from: .close, to: .synSent, protocol: 6),
                        socket: 0xA, source: Endpoint(address: s.client.address, port: 0), destination: s.server),
        ]
        #expect(KernelJoin.resolved(reuse)[1].source?.port == 0)
    }

    @Test func eventsOfOtherSocketsAreLeftOut() {
        let (s, records) = Self.abort()
        let relevant = KernelJoin.relevant(Self.events(s), to: records)
        #expect(relevant.count == 5)
        #expect(!relevant.contains { $0.socket == 0xC })
    }

    @Test func theRSTCarriesTheKernelsReason() throws {
        let (s, records) = Self.abort()
        let out = KernelJoin.attach(KernelLane(events: Self.events(s), tracesEveryReset: true), to: records)
        let r = try #require(out.first)
        let rows = try #require(r.kernelEvents)
        #expect(rows.map(\.side) == [.orig, .orig, .resp, .resp, .resp])
        let rst = try #require(r.events.compactMap { e -> PacketEvent? in
            if case .packet(let p) = e, p.flags.contains(.rst) { return p } else { return nil }
        }.first)
        #expect(rst.kernelReset == .sent(Self.abortOnClose))
        #expect(rst.notes.contains(.kernelReset(Self.abortOnClose)))
        // The rows sit among the packets by time: connect()'s SYN-SENT before the SYN.
        guard case .kernel(let first) = r.events.first else { Issue.record("first row \(String(describing: r.events.first))"); return }
        #expect(first.event.kind == .stateChange(from: .close, to: .synSent, protocol: 6))
        #expect(r.events.count == records[0].events.count + 5)
    }

    @Test func anRSTNoLocalResetAccountsForWasNotSentHere() throws {
        let (s, records) = Self.abort()
        let lane = KernelLane(events: Self.events(s, resetSent: false), tracesEveryReset: true)
        let rst = try #require(KernelJoin.attach(lane, to: records)[0].events.compactMap { e -> PacketEvent? in
            if case .packet(let p) = e, p.flags.contains(.rst) { return p } else { return nil }
        }.first)
        #expect(rst.kernelReset == .notSentHere)
        #expect(rst.notes.contains(.rstNotFromThisHost))
        // A kernel older than 6.10 traces only full sockets' resets: it cannot tell.
        let old = KernelLane(events: Self.events(s, resetSent: false), tracesEveryReset: false)
        let unsure = try #require(KernelJoin.attach(old, to: records)[0].events.compactMap { e -> PacketEvent? in
            if case .packet(let p) = e, p.flags.contains(.rst) { return p } else { return nil }
        }.first)
        #expect(unsure.kernelReset == nil)
    }

    /// A connection not yet accepted is reset by its listener (tcp_abort_on_overflow=1): the
    /// tracepoint gives the listener's address, LISTEN and no peer (0.0.0.0:0). It accounts for
    /// the RST from that end, and the RST is not said to be another host's
    /// (captures/experiments/listen-overflow.pcap, Linux 6.18: reason INVALID_SYN).
    @Test func aListenersResetAccountsForTheRSTFromItsEnd() throws {
        let (s, records) = Self.abort()
        let invalidSYN = RSTReason(rawValue: 4, name: "INVALID_SYN")
        var events = Self.events(s, resetSent: false)
        let listenerReset = KernelEvent(time: Self.at(s, 6, 4_000), pid: 2, kind: .sendReset(state: .listen, reason: invalidSYN),
                                        socket: 0xD, source: s.server, destination: Endpoint(address: IPAddress("0.0.0.0")!, port: 0))
        events.append(listenerReset)
        #expect(KernelJoin.relevant(events, to: records).contains(listenerReset))
        let rst = try #require(KernelJoin.attach(KernelLane(events: events, tracesEveryReset: true), to: records)[0]
            .events.compactMap { e -> PacketEvent? in
                if case .packet(let p) = e, p.flags.contains(.rst) { return p } else { return nil }
            }.first)
        #expect(rst.kernelReset == .sent(invalidSYN))
        // Another listener's (another port) does not.
        var other = listenerReset
        other.source = Endpoint(address: s.server.address, port: s.server.port &+ 1)
        #expect(!KernelJoin.relevant(Self.events(s, resetSent: false) + [other], to: records).contains(other))
    }

    /// The server answered 200 bytes, then reset with the client's next 50 bytes unread
    /// (packets 1-9), with or without the kernel's account of its RST.
    static func answeredThenAborted(reason: RSTReason?) -> ConnectionRecord? {
        var s = Script()
        s.handshake()
        s.c("P", 1, 1, len: 100)
        s.s("P", 1, 101, len: 200)
        s.c("", 101, 201)
        s.c("P", 101, 201, len: 50)
        s.s("", 201, 151)
        s.s("R.", 201, 151)
        var configuration = ConnectionTracker.Configuration()
        configuration.recordEvents = true
        let records = s.run(configuration: configuration)
        let server = 0xB as UInt64
        var events = [
            KernelEvent(time: at(s, 3, 3_000), pid: 1, kind: .stateChange(from: .synRecv, to: .established, protocol: 6),
                        socket: server, source: s.server, destination: s.client),
        ]
        if let reason {
            events.append(KernelEvent(time: at(s, 9, -4_000), pid: 1, kind: .sendReset(state: .close, reason: reason),
                                      socket: server, source: s.server, destination: s.client))
        }
        return KernelJoin.attach(KernelLane(events: events, tracesEveryReset: true), to: records).first
    }

    /// The kernel's word as evidence in the diagnoses: TCP_ABORT_ON_CLOSE on an RST after the
    /// server's response is close-unread-request without any socket call; an RST in the name of
    /// a socket the kernel traced that no local reset accounts for is the path's.
    @Test func kernelReasonsAreEvidenceForTheDiagnoses() throws {
        let closed = try #require(Self.answeredThenAborted(reason: Self.abortOnClose))
        #expect(closed.diagnoses.map(\.code) == [.closeUnreadRequest])
        #expect(closed.diagnoses.first?.finding == .closeUnreadRequest(closer: .resp, unreadBytes: nil, responseBytes: 200, inFlight: 0, kernelReason: true))
        #expect(closed.diagnoses.first?.confidence == .high)
        let other = try #require(Self.answeredThenAborted(reason: RSTReason(rawValue: 14, name: "TCP_STATE")))
        #expect(other.diagnoses.isEmpty)
        let forged = try #require(Self.answeredThenAborted(reason: nil))
        #expect(forged.diagnoses.map(\.code) == [.middleboxReset])
        #expect(forged.diagnoses.first?.finding == .middleboxReset(resetter: .resp, rstHopLimit: 0, sideHopLimit: 0, bytesAfter: 0, notSentHere: true))
        #expect(forged.diagnoses.first?.confidence == .high)
    }

    /// Retransmissions into silence: the kernel's socket closing with ETIMEDOUT after the last
    /// one is its TCP giving up (TCP_USER_TIMEOUT), and makes the diagnosis sure; a close without
    /// ETIMEDOUT does not (captures/experiments/retransmission-give-up.pcap).
    @Test func aSocketClosedWithETIMEDOUTAfterTheRetransmissions_isAGiveUpOfHighConfidence() throws {
        let ms: Int64 = 1_000_000
        var s = Script()
        s.handshake()
        s.c("P.", 1, 1, len: 100)
        for g in [200 * ms, 400 * ms, 800 * ms, 1600 * ms] { s.send(.orig, "P", seq: 1, ack: 1, len: 100, after: g) }
        var configuration = ConnectionTracker.Configuration()
        configuration.recordEvents = true
        let records = s.run(configuration: configuration)
        func joined(errno: Int32) throws -> Diagnosis {
            let events = [
                KernelEvent(time: Self.at(s, 8, 300 * ms), pid: 1, kind: .stateChange(from: .established, to: .close, protocol: 6),
                            socket: 0xA, source: s.client, destination: s.server),
                KernelEvent(time: Self.at(s, 8, 300 * ms), pid: 1, kind: .errorReport(errno: errno, protocol: 6),
                            socket: nil, source: s.client, destination: s.server),
            ]
            return try #require(KernelJoin.attach(KernelLane(events: events, tracesEveryReset: true), to: records).first?.diagnoses.first)
        }
        #expect(records.first?.diagnoses.first?.confidence == .medium)
        let gaveUp = try joined(errno: 110)
        #expect(gaveUp.confidence == .high)
        #expect(gaveUp.finding == .retransmissionGiveUp(sender: .orig, retransmissions: 4, span: 2800 * ms, firstGap: 400 * ms,
                                                        lastGap: 1600 * ms, reset: false, timedOut: true))
        #expect(try joined(errno: 104).confidence == .medium)
    }

    @Test func aResetTooFarFromTheSegmentIsNotItsAccount() throws {
        let (s, records) = Self.abort()
        var events = Self.events(s)
        events[events.count - 1].time = Self.at(s, 6, KernelJoin.resetTolerance + 1)
        let rst = try #require(KernelJoin.attach(KernelLane(events: events, tracesEveryReset: true), to: records)[0]
            .events.compactMap { e -> PacketEvent? in
                if case .packet(let p) = e, p.flags.contains(.rst) { return p } else { return nil }
            }.first)
        #expect(rst.kernelReset == .notSentHere)
    }

    @Test func withoutTheLaneNothingChanges() {
        let (_, records) = Self.abort()
        #expect(records[0].kernelEvents == nil)
        let empty = KernelJoin.attach(KernelLane(events: [], tracesEveryReset: true), to: records)
        #expect(empty[0].kernelEvents == [])
        #expect(empty[0].events == records[0].events)
    }
}

/// The kernel lane as an oracle for the inferred states.
@Suite struct KernelOracleTests {
    /// A graceful close, the client first: it ends in TIME-WAIT.
    static func graceful() -> (Script, ConnectionRecord) {
        var s = Script()
        s.handshake()
        s.c("F", 1, 1)
        s.s("", 1, 2)
        s.s("F", 1, 2)
        s.c("", 2, 2)
        var configuration = ConnectionTracker.Configuration()
        configuration.recordEvents = true
        return (s, s.run(configuration: configuration)[0])
    }

    static func row(_ side: Side, _ from: KernelTCPState, _ to: KernelTCPState, reset: Bool = false) -> KernelRow {
        KernelRow(side: side, event: KernelEvent(time: Timestamp(nanoseconds: 0), pid: 0,
                                                 kind: reset ? .receiveReset : .stateChange(from: from, to: to, protocol: 6),
                                                 socket: 1, source: nil, destination: nil))
    }

    @Test func linuxTimeWaitMinisocketIsReadAsTimeWait() {
        let (_, r) = Self.graceful()
        // What Linux traces: the client's full socket goes FIN-WAIT-2 -> CLOSE when TIME-WAIT
        // passes to its minisocket; the server LAST-ACK -> CLOSE.
        let rows = [Self.row(.orig, .close, .synSent), Self.row(.orig, .synSent, .established),
                    Self.row(.orig, .established, .finWait1), Self.row(.orig, .finWait1, .finWait2),
                    Self.row(.orig, .finWait2, .close),
                    Self.row(.resp, .listen, .synRecv), Self.row(.resp, .synRecv, .established),
                    Self.row(.resp, .established, .closeWait), Self.row(.resp, .closeWait, .lastAck),
                    Self.row(.resp, .lastAck, .close)]
        let checks = KernelOracle.check(r, rows)
        #expect(checks.orig == KernelStateCheck(seen: 5, agree: 5, kernelOnly: [], inferredOnly: []))
        #expect(checks.resp == KernelStateCheck(seen: 5, agree: 5, kernelOnly: [], inferredOnly: []))
    }

    @Test func aRealDifferenceIsReportedBothWays() {
        let (_, r) = Self.graceful()
        // A kernel that says the client was reset out of FIN-WAIT-2 (an RST received): its CLOSE
        // is not TIME-WAIT's minisocket, and the inferred TIME-WAIT is the kernel's nowhere.
        let rows = [Self.row(.orig, .close, .synSent), Self.row(.orig, .synSent, .established),
                    Self.row(.orig, .established, .finWait1), Self.row(.orig, .finWait1, .finWait2),
                    Self.row(.orig, .finWait2, .finWait2, reset: true), Self.row(.orig, .finWait2, .close)]
        let c = KernelOracle.check(r, rows).orig
        #expect(c?.seen == 5 && c?.agree == 4)
        #expect(c?.kernelOnly == [StateTransition(side: .orig, from: .finWait2, to: .closed)])
        #expect(c?.inferredOnly == [StateTransition(side: .orig, from: .finWait2, to: .timeWait)])
        #expect(KernelOracle.check(r, rows).resp == nil, "no kernel events of the server: nothing to check")
    }

    @Test func aChangeToTheSameStateIsNoTransition() {
        let (_, r) = Self.graceful()
        let rows = [Self.row(.orig, .close, .synSent), Self.row(.orig, .synSent, .synSent)]
        #expect(KernelOracle.check(r, rows).orig?.seen == 1)
    }

    @Test func disagreementsBecomeANote() throws {
        let (s, r) = Self.graceful()
        let e = { (t: Int, side: Side, from: KernelTCPState, to: KernelTCPState) in
            KernelEvent(time: KernelJoinTests.at(s, t, 1_000), pid: 0, kind: .stateChange(from: from, to: to, protocol: 6), socket: 7,
                        source: side == .orig ? s.client : s.server, destination: side == .orig ? s.server : s.client)
        }
        // The kernel's client went to CLOSE-WAIT, which nothing in the capture shows.
        let lane = KernelLane(events: [e(1, .orig, .close, .synSent), e(4, .orig, .established, .closeWait)], tracesEveryReset: true)
        let out = try #require(KernelJoin.attach(lane, to: [r]).first)
        #expect(out.kernelStates?.orig?.kernelOnly == [StateTransition(side: .orig, from: .established, to: .closeWait)])
        #expect(out.notes.contains { if case .kernelStatesDiffer(.orig, _, _) = $0 { return true } else { return false } })
    }
}
