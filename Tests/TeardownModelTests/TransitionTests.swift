import Testing
@testable import TeardownModel
import TeardownWire

/// Conversations that leave a connection with one side in the state each is named after
/// (smoltcp's fixtures: `socket_fin_wait_1()` …). Relative numbers as tcpdump prints them: the
/// client's and the server's first data byte are both 1.
enum Fixture: String, CaseIterable, Sendable {
    /// Nothing yet: both sides as a connection starts (CLOSED and LISTEN).
    case closed
    /// The client sent its SYN.
    case synSent
    /// The server answered with SYN-ACK (the client is ESTABLISHED by then).
    case synReceived
    /// The handshake completed.
    case established
    /// The client sent its FIN; it has not been acknowledged.
    case finWait1
    /// The server acknowledged the client's FIN (and is in CLOSE-WAIT).
    case finWait2
    /// The same conversation, named for the server's side.
    case closeWait
    /// The FINs crossed, and the client acknowledged the server's FIN before its own was.
    case closing
    /// The server closed after acknowledging the client's FIN.
    case lastAck
    /// The client acknowledged the server's FIN after its own FIN was acknowledged.
    case timeWait

    var script: Script {
        var s = Script()
        switch self {
        case .closed:
            break
        case .synSent:
            s.c("S", 0)
        case .synReceived:
            s.c("S", 0); s.s("S", 0, 1)
        case .established:
            s.handshake()
        case .finWait1:
            s.handshake(); s.c("F", 1, 1)
        case .finWait2, .closeWait:
            s.handshake(); s.c("F", 1, 1); s.s("", 1, 2)
        case .closing:
            s.handshake(); s.c("F", 1, 1); s.s("F", 1, 1); s.c("", 2, 2)
        case .lastAck:
            s.handshake(); s.c("F", 1, 1); s.s("", 1, 2); s.s("F", 1, 2)
        case .timeWait:
            s.handshake(); s.c("F", 1, 1); s.s("", 1, 2); s.s("F", 1, 2); s.c("", 2, 2)
        }
        return s
    }

    /// The states (client, server) the fixture leaves.
    var states: (orig: TCPState, resp: TCPState) {
        switch self {
        case .closed: return (.closed, .listen)
        case .synSent: return (.synSent, .listen)
        case .synReceived: return (.established, .synReceived)
        case .established: return (.established, .established)
        case .finWait1: return (.finWait1, .established)
        case .finWait2, .closeWait: return (.finWait2, .closeWait)
        case .closing: return (.closing, .timeWait)
        case .lastAck: return (.finWait2, .lastAck)
        case .timeWait: return (.timeWait, .closed)
        }
    }
}

/// One row of the table: a fixture, the segments that follow it, the states after them.
struct TransitionCase: Sendable, CustomTestStringConvertible {
    /// `state_event_result`, as smoltcp names its tests.
    let name: String
    let fixture: Fixture
    let then: @Sendable (inout Script) -> Void
    let orig: TCPState
    let resp: TCPState
    var testDescription: String { name }

    init(_ name: String, _ fixture: Fixture, _ then: @escaping @Sendable (inout Script) -> Void,
         orig: TCPState, resp: TCPState) {
        self.name = name; self.fixture = fixture; self.then = then; self.orig = orig; self.resp = resp
    }
}

/// Each side's state after one more step from a fixture, named after the state and the event
/// (smoltcp's `test_fin_wait_1_fin_ack`). Expected values: RFC 9293 §3.10.7, Figures 5 and 13,
/// as an observer between the endpoints can infer them (a FIN is known to have arrived when its
/// receiver acknowledges it, or the sender sends beyond it).
@Suite struct TransitionTests {
    static let cases: [TransitionCase] = [
        TransitionCase("closed_sendsSYN_entersSynSent", .closed, { $0.c("S", 0) }, orig: .synSent, resp: .listen),
        TransitionCase("closed_sendsDataWithoutSYN_joinsMidstreamEstablished", .closed,
                       { $0.c("P", 500, 800, len: 100) }, orig: .established, resp: .established),
        TransitionCase("synSent_receivesSYNACK_entersEstablished", .synSent, { $0.s("S", 0, 1) },
                       orig: .established, resp: .synReceived),
        TransitionCase("synSent_retransmitsSYN_staysSynSent", .synSent, { $0.c("S", 0) }, orig: .synSent, resp: .listen),
        TransitionCase("synSent_receivesRSTACK_entersClosed", .synSent, { $0.s("R", 0, 1) }, orig: .closed, resp: .closed),
        TransitionCase("synSent_receivesRSTWithWrongACK_staysSynSent", .synSent, { $0.s("R", 0, 7) },
                       orig: .synSent, resp: .listen),
        TransitionCase("synReceived_receivesACK_entersEstablished", .synReceived, { $0.c("", 1, 1) },
                       orig: .established, resp: .established),
        TransitionCase("synReceived_receivesRST_entersClosed", .synReceived, { $0.c("R", 1) }, orig: .closed, resp: .closed),
        TransitionCase("established_sendsFIN_entersFinWait1", .established, { $0.c("F", 1, 1) },
                       orig: .finWait1, resp: .established),
        TransitionCase("established_acksPeerFIN_entersCloseWait", .established, { $0.s("F", 1, 1); $0.c("", 1, 2) },
                       orig: .closeWait, resp: .finWait2),
        TransitionCase("established_receivesRST_entersClosed", .established, { $0.s("R", 1, 1) }, orig: .closed, resp: .closed),
        TransitionCase("established_receivesRSTInWindow_staysEstablished", .established, { $0.c("R", 11) },
                       orig: .established, resp: .established),
        TransitionCase("finWait1_receivesACKOfFIN_entersFinWait2", .finWait1, { $0.s("", 1, 2) },
                       orig: .finWait2, resp: .closeWait),
        TransitionCase("finWait1_receivesFINACK_entersFinWait2", .finWait1, { $0.s("F", 1, 2) },
                       orig: .finWait2, resp: .lastAck),
        TransitionCase("finWait1_receivesFINACK_acksIt_entersTimeWait", .finWait1, { $0.s("F", 1, 2); $0.c("", 2, 2) },
                       orig: .timeWait, resp: .closed),
        TransitionCase("finWait1_receivesFINWithoutACKOfItsFIN_staysUntilAcked", .finWait1, { $0.s("F", 1, 1) },
                       orig: .finWait1, resp: .finWait1),
        TransitionCase("finWait1_acksCrossingFIN_entersClosing", .finWait1, { $0.s("F", 1, 1); $0.c("", 2, 2) },
                       orig: .closing, resp: .timeWait),
        TransitionCase("finWait1_retransmitsFIN_staysFinWait1", .finWait1, { $0.c("F", 1, 1) },
                       orig: .finWait1, resp: .established),
        TransitionCase("finWait2_receivesFIN_staysUntilAcked", .finWait2, { $0.s("F", 1, 2) },
                       orig: .finWait2, resp: .lastAck),
        TransitionCase("finWait2_acksPeerFIN_entersTimeWait", .finWait2, { $0.s("F", 1, 2); $0.c("", 2, 2) },
                       orig: .timeWait, resp: .closed),
        TransitionCase("closeWait_sendsData_staysCloseWait", .closeWait, { $0.s("P", 1, 2, len: 10) },
                       orig: .finWait2, resp: .closeWait),
        TransitionCase("closeWait_sendsFIN_entersLastAck", .closeWait, { $0.s("F", 1, 2) }, orig: .finWait2, resp: .lastAck),
        TransitionCase("closing_receivesACKOfFIN_entersTimeWait", .closing, { $0.s("", 2, 2) }, orig: .timeWait, resp: .timeWait),
        TransitionCase("lastAck_receivesACKOfFIN_entersClosed", .lastAck, { $0.c("", 2, 2) }, orig: .timeWait, resp: .closed),
        TransitionCase("lastAck_receivesRST_entersClosed", .lastAck, { $0.c("R", 2) }, orig: .closed, resp: .closed),
        TransitionCase("timeWait_receivesRST_entersClosed", .timeWait, { $0.s("R", 2) }, orig: .closed, resp: .closed),
        TransitionCase("timeWait_receivesRetransmittedFIN_staysTimeWait", .timeWait, { $0.s("F", 1, 2) },
                       orig: .timeWait, resp: .closed),
    ]

    @Test(arguments: Fixture.allCases)
    func fixture_leavesTheStateItIsNamedAfter(_ fixture: Fixture) throws {
        let script = fixture.script
        if script.segments.isEmpty { return }   // `closed`: nothing sent, no record
        let r = try #require(script.only())
        #expect(r.orig.state == fixture.states.orig)
        #expect(r.resp.state == fixture.states.resp)
    }

    @Test(arguments: cases)
    func transition(_ c: TransitionCase) throws {
        var s = c.fixture.script
        c.then(&s)
        let r = try #require(s.only())
        #expect(r.orig.state == c.orig, "\(c.name): client")
        #expect(r.resp.state == c.resp, "\(c.name): server")
    }

    /// RFC 9293's diagram, written out once more as a table: the pairs on which a side's state
    /// changes. Every other (state, event) pair must leave the state as it is.
    static let diagram: [TCPState: [SideEvent: TCPState]] = [
        .closed: [.sendSYN: .synSent, .sendSYNACK: .synReceived, .joinMidstream: .established],
        .listen: [.sendSYN: .synSent, .sendSYNACK: .synReceived, .joinMidstream: .established],
        .synSent: [.receiveSYNACK: .established, .sendACKOfSYN: .established],
        .synReceived: [.receiveACKOfSYN: .established, .sendFIN: .finWait1, .receiveFIN: .closeWait],
        .established: [.sendFIN: .finWait1, .receiveFIN: .closeWait],
        .finWait1: [.receiveACKOfFIN: .finWait2, .receiveFIN: .closing],
        .finWait2: [.receiveFIN: .timeWait],
        .closing: [.receiveACKOfFIN: .timeWait],
        .timeWait: [:],
        .closeWait: [.sendFIN: .lastAck],
        .lastAck: [.receiveACKOfFIN: .closed],
    ]

    @Test(arguments: TCPState.allCases)
    func next_followsTheDiagram(_ state: TCPState) {
        for event in SideEvent.allCases {
            // An accepted RST closes every state (§3.10.5, §3.10.7.3, §3.10.7.4).
            let resets = event == .sendRST || event == .receiveRST
            let expected = resets ? .closed : Self.diagram[state]?[event] ?? state
            #expect(state.next(on: event) == expected, "\(state.rawValue) on \(event)")
        }
    }
}
