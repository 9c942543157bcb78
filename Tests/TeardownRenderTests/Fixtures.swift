import TeardownModel
import TeardownWire

/// Hand-built connection records, one per teardown path the renderers must draw.
///
/// Each is internally consistent and was checked by hand: relative seq/ack advance by the
/// payload (and SYN/FIN) lengths, packet and payload counts match the events, the Zeek
/// history has one letter per first occurrence per direction, and the application ledger
/// adds up (lost = written − read = never sent + unacked + unread).
enum Fixtures {
    /// 2024-05-01 12:00:00.123456789 UTC (checked: `date -u -d @1714564800` → 12:00:00).
    static let epoch: Int64 = 1_714_564_800_123_456_789

    /// Builds a timeline with times given in microseconds after `epoch`.
    struct Timeline {
        var events: [TimelineEvent] = []

        static func at(_ micros: Int64) -> Timestamp { Timestamp(nanoseconds: epoch + micros * 1_000) }

        mutating func packet(_ number: Int, _ micros: Int64, _ from: Side, _ flags: TCPFlags,
                             seq: UInt32, ack: UInt32?, len: Int = 0, win: UInt16 = 512,
                             _ orig: TCPState, _ resp: TCPState, _ transitions: [StateTransition] = [],
                             notes: [Note] = [], retransmission: Bool = false, truncated: Bool = false,
                             rst: RSTValidity? = nil) {
            events.append(.packet(PacketEvent(
                time: Timeline.at(micros), number: number, from: from, flags: flags, relativeSequence: seq,
                relativeAcknowledgment: ack, payloadLength: len, window: win, origState: orig, respState: resp,
                transitions: transitions, notes: notes, isRetransmission: retransmission,
                isTruncated: truncated, rstValidity: rst)))
        }

        mutating func call(_ micros: Int64, _ side: Side, _ call: String, _ result: Int64,
                           errno: String? = nil, took: Int64? = nil) {
            events.append(.call(CallEvent(time: Timeline.at(micros), side: side, pid: side == .orig ? 4101 : 4102,
                                          fd: side == .orig ? 3 : 4, call: call, result: result,
                                          errno: errno, durationNanoseconds: took)))
        }
    }

    static func t(_ side: Side, _ from: TCPState, _ to: TCPState) -> StateTransition {
        StateTransition(side: side, from: from, to: to)
    }

    static func side(_ addr: String, _ port: UInt16, state: TCPState, packets: Int, payload: UInt64,
                     syn: Int, fin: Int, rst: Int, ledger: DirectionLedger) -> SideSummary {
        var s = SideSummary(endpoint: Endpoint(address: IPAddress(addr)!, port: port), state: state,
                            initialSequence: SequenceNumber(0))
        s.packets = packets; s.payloadBytes = payload; s.syn = syn; s.fin = fin; s.rst = rst
        s.bytes = ledger
        return s
    }

    static func ledger(sent: UInt64, retransmitted: UInt64 = 0, acked: UInt64, inFlight: UInt64? = nil,
                       afterRST: UInt64? = nil) -> DirectionLedger {
        var l = DirectionLedger()
        l.sent = sent; l.retransmitted = retransmitted; l.acked = acked
        l.inFlightAtRST = inFlight; l.sentAfterRST = afterRST
        return l
    }

    // MARK: graceful

    /// Client sends "hello", server answers "hello", client closes first, server follows.
    static var graceful: ConnectionRecord {
        var tl = Timeline()
        tl.packet(1, 0, .orig, [.syn], seq: 0, ack: nil, win: 65495, .synSent, .listen, [t(.orig, .closed, .synSent)])
        tl.packet(2, 21, .resp, [.syn, .ack], seq: 0, ack: 1, win: 65483, .established, .synReceived,
                  [t(.resp, .listen, .synReceived), t(.orig, .synSent, .established)])
        tl.packet(3, 35, .orig, [.ack], seq: 1, ack: 1, .established, .established, [t(.resp, .synReceived, .established)])
        tl.packet(4, 210, .orig, [.psh, .ack], seq: 1, ack: 1, len: 5, .established, .established)
        tl.packet(5, 230, .resp, [.ack], seq: 1, ack: 6, .established, .established)
        tl.packet(6, 410, .resp, [.psh, .ack], seq: 1, ack: 6, len: 5, .established, .established)
        tl.packet(7, 425, .orig, [.ack], seq: 6, ack: 6, .established, .established)
        tl.packet(8, 1_100, .orig, [.fin, .ack], seq: 6, ack: 6, .finWait1, .closeWait,
                  [t(.orig, .established, .finWait1), t(.resp, .established, .closeWait)])
        tl.packet(9, 1_350, .resp, [.fin, .ack], seq: 6, ack: 7, .timeWait, .lastAck,
                  [t(.resp, .closeWait, .lastAck), t(.orig, .finWait1, .timeWait)])
        tl.packet(10, 1_370, .orig, [.ack], seq: 7, ack: 7, .timeWait, .closed, [t(.resp, .lastAck, .closed)])
        return ConnectionRecord(
            index: 1,
            orig: side("127.0.0.1", 43210, state: .timeWait, packets: 6, payload: 5, syn: 1, fin: 1, rst: 0,
                       ledger: ledger(sent: 5, acked: 5)),
            resp: side("127.0.0.1", 8080, state: .closed, packets: 4, payload: 5, syn: 1, fin: 1, rst: 0,
                       ledger: ledger(sent: 5, acked: 5)),
            teardown: Ending(kind: .graceful, midstream: false), closedBy: .orig, halfClose: false, rst: nil,
            connState: .SF, history: "ShADadFf", start: Timeline.at(0), end: Timeline.at(1_370), midstream: false,
            firstPacketNumber: 1, lastPacketNumber: 10, events: tl.events,
            notes: [.closedFirst(.orig), .leftInTimeWait(.orig)])
    }

    // MARK: RST abort with driver calls and an application ledger

    /// SO_LINGER {1, 0}: the client writes 300,000 bytes, 200,000 reach the wire, the server
    /// reads 150,000, the client's close() sends [R.] with 4,000 bytes in flight.
    static var lingerAbort: ConnectionRecord {
        var tl = Timeline()
        tl.call(-50, .orig, "setsockopt(SO_LINGER, {1, 0})", 0, took: 2_000)
        tl.packet(1, 0, .orig, [.syn], seq: 0, ack: nil, win: 64240, .synSent, .listen, [t(.orig, .closed, .synSent)])
        tl.packet(2, 15, .resp, [.syn, .ack], seq: 0, ack: 1, win: 65160, .established, .synReceived,
                  [t(.resp, .listen, .synReceived), t(.orig, .synSent, .established)])
        tl.packet(3, 24, .orig, [.ack], seq: 1, ack: 1, .established, .established, [t(.resp, .synReceived, .established)])
        tl.call(40, .orig, "write(300000)", 300_000, took: 85_000)
        tl.packet(4, 60, .orig, [.psh, .ack], seq: 1, ack: 1, len: 32_768, .established, .established)
        tl.events.append(.fold(FoldEvent(firstTime: Timeline.at(100), lastTime: Timeline.at(3_900),
                                         firstNumber: 5, lastNumber: 36, origSegments: 24, respSegments: 8,
                                         origBytes: 163_232, respBytes: 0)))
        tl.call(3_950, .resp, "read(150000)", 150_000, took: 40_000)
        tl.packet(37, 4_000, .orig, [.psh, .ack], seq: 196_001, ack: 1, len: 4_000, .established, .established)
        tl.call(4_200, .orig, "close()", 0, took: 31_000)
        tl.packet(38, 4_230, .orig, [.rst, .ack], seq: 200_001, ack: 1, win: 0, .closed, .closed,
                  [t(.orig, .established, .closed), t(.resp, .established, .closed)],
                  notes: [.rstAborted(by: .orig)], rst: .exact)
        tl.call(4_400, .resp, "read(262144)", -1, errno: "ECONNRESET", took: 3_000)
        tl.events.append(.note(NoteEvent(time: Timeline.at(4_400), side: .resp, note: .zeroWindow(.resp))))
        var o = ledger(sent: 200_000, acked: 196_000, inFlight: 4_000, afterRST: 0)
        o.written = 300_000; o.readByPeer = 150_000; o.lost = 150_000
        o.neverSent = 100_000; o.unacked = 4_000; o.unread = 46_000
        var r = ledger(sent: 0, acked: 0, inFlight: 0, afterRST: 0)
        r.written = 0; r.readByPeer = 0; r.lost = 0; r.neverSent = 0; r.unacked = 0; r.unread = 0
        return ConnectionRecord(
            index: 2,
            orig: side("10.0.0.1", 51000, state: .closed, packets: 29, payload: 200_000, syn: 1, fin: 0, rst: 1, ledger: o),
            resp: side("10.0.0.2", 9000, state: .closed, packets: 9, payload: 0, syn: 1, fin: 0, rst: 0, ledger: r),
            teardown: Ending(kind: .abortByOriginator, midstream: false), closedBy: .orig, halfClose: false,
            rst: RSTInfo(from: .orig, shape: .withACK, validity: .exact, packetNumber: 38, time: Timeline.at(4_230),
                         acknowledged: 0),
            connState: .RSTO, history: "ShADaR", start: Timeline.at(0), end: Timeline.at(4_230), midstream: false,
            firstPacketNumber: 1, lastPacketNumber: 38, events: tl.events,
            notes: [.aborted(.orig), .inFlightAtRST(.orig, bytes: 4_000),
                    .bytesLost(sender: .orig, Note.BytesLost(lost: 150_000, written: 300_000, neverSent: 100_000,
                                                             unacked: 4_000, unread: 46_000))])
    }

    // MARK: refused

    /// SYN to a port nobody listens on; the kernel answers [R.].
    static var refused: ConnectionRecord {
        var tl = Timeline()
        tl.packet(1, 0, .orig, [.syn], seq: 0, ack: nil, win: 65495, .synSent, .closed, [t(.orig, .closed, .synSent)])
        tl.packet(2, 12, .resp, [.rst, .ack], seq: 0, ack: 1, win: 0, .closed, .closed, [t(.orig, .synSent, .closed)],
                  notes: [.rstRefused], rst: .exact)
        return ConnectionRecord(
            index: 3,
            orig: side("127.0.0.1", 40000, state: .closed, packets: 1, payload: 0, syn: 1, fin: 0, rst: 0,
                       ledger: ledger(sent: 0, acked: 0, inFlight: 0, afterRST: 0)),
            resp: side("127.0.0.1", 9, state: .closed, packets: 1, payload: 0, syn: 0, fin: 0, rst: 1,
                       ledger: ledger(sent: 0, acked: 0, inFlight: 0, afterRST: 0)),
            teardown: Ending(kind: .refused, midstream: false), closedBy: .resp, halfClose: false,
            rst: RSTInfo(from: .resp, shape: .withACK, validity: .exact, packetNumber: 2, time: Timeline.at(12),
                         acknowledged: 0),
            connState: .REJ, history: "Sr", start: Timeline.at(0), end: Timeline.at(12), midstream: false,
            firstPacketNumber: 1, lastPacketNumber: 2, events: tl.events,
            notes: [.refused])
    }

    // MARK: IPv6 half-close with a fold

    /// The client sends a request and shuts down its sending side; the server streams
    /// 9,656,712 bytes and has not closed when the capture ends.
    static var ipv6HalfClose: ConnectionRecord {
        var tl = Timeline()
        tl.packet(1, 0, .orig, [.syn], seq: 0, ack: nil, win: 64800, .synSent, .listen, [t(.orig, .closed, .synSent)])
        tl.packet(2, 80, .resp, [.syn, .ack], seq: 0, ack: 1, win: 64260, .established, .synReceived,
                  [t(.resp, .listen, .synReceived), t(.orig, .synSent, .established)])
        tl.packet(3, 95, .orig, [.ack], seq: 1, ack: 1, .established, .established, [t(.resp, .synReceived, .established)])
        tl.packet(4, 140, .orig, [.psh, .ack], seq: 1, ack: 1, len: 517, .established, .established)
        tl.packet(5, 160, .orig, [.fin, .ack], seq: 518, ack: 1, .finWait1, .closeWait,
                  [t(.orig, .established, .finWait1), t(.resp, .established, .closeWait)])
        tl.packet(6, 240, .resp, [.ack], seq: 1, ack: 519, .finWait2, .closeWait, [t(.orig, .finWait1, .finWait2)])
        tl.packet(7, 1_020, .resp, [.psh, .ack], seq: 1, ack: 519, len: 1_448, .finWait2, .closeWait,
                  notes: [.dataAfterPeerFIN])
        tl.events.append(.fold(FoldEvent(firstTime: Timeline.at(1_100), lastTime: Timeline.at(812_400),
                                         firstNumber: 8, lastNumber: 10_007, origSegments: 3_333, respSegments: 6_667,
                                         origBytes: 0, respBytes: 9_653_816)))
        tl.packet(10_008, 812_500, .resp, [.psh, .ack], seq: 9_655_265, ack: 519, len: 1_448, .finWait2, .closeWait)
        tl.packet(10_009, 812_530, .orig, [.ack], seq: 519, ack: 9_656_713, .finWait2, .closeWait)
        tl.events.append(.note(NoteEvent(time: Timeline.at(812_530), side: nil, note: .rowsDropped(2_048))))
        return ConnectionRecord(
            index: 4,
            orig: side("2001:db8:85a3::8a2e:370:7334", 50123, state: .finWait2, packets: 3_338, payload: 517,
                       syn: 1, fin: 1, rst: 0, ledger: ledger(sent: 517, acked: 517)),
            resp: side("2001:db8:85a3::1", 443, state: .closeWait, packets: 6_671, payload: 9_656_712,
                       syn: 1, fin: 0, rst: 0, ledger: ledger(sent: 9_656_712, acked: 9_656_712)),
            teardown: Ending(kind: .halfClosed, midstream: false), closedBy: .orig, halfClose: true, rst: nil,
            connState: .S2, history: "ShADFad", start: Timeline.at(0), end: Timeline.at(812_530), midstream: false,
            firstPacketNumber: 1, lastPacketNumber: 10_009, events: tl.events,
            notes: [.peerNeverClosed(closer: .orig), .halfCloseBytes(.resp, bytes: 9_656_712)])
    }

    // MARK: mid-stream

    /// Joined mid-stream in a busy capture: the client closes, its socket is gone, the
    /// server's late data draws a bare [R].
    static var midstream: ConnectionRecord {
        var tl = Timeline()
        tl.packet(1_201, 0, .orig, [.psh, .ack], seq: 0, ack: 0, len: 120, win: 501, .established, .established)
        tl.packet(1_202, 210_000, .orig, [.psh, .ack], seq: 0, ack: 0, len: 120, win: 501, .established, .established,
                  notes: [.retransmission], retransmission: true)
        tl.packet(1_203, 210_400, .resp, [.ack], seq: 0, ack: 120, win: 235, .established, .established)
        tl.packet(1_204, 300_000, .orig, [.fin, .ack], seq: 120, ack: 0, win: 501, .finWait1, .closeWait,
                  [t(.orig, .established, .finWait1), t(.resp, .established, .closeWait)])
        tl.packet(1_205, 300_300, .resp, [.ack], seq: 0, ack: 121, win: 235, .finWait2, .closeWait,
                  [t(.orig, .finWait1, .finWait2)])
        tl.packet(1_206, 5_300_000, .resp, [.psh, .ack], seq: 0, ack: 121, len: 2_048, win: 235, .finWait2, .closeWait,
                  notes: [.truncated], truncated: true)
        tl.packet(1_207, 5_300_050, .orig, [.rst], seq: 121, ack: nil, win: 0, .closed, .closed,
                  [t(.orig, .finWait2, .closed), t(.resp, .closeWait, .closed)],
                  notes: [.rstForMissingSocket(answeringData: true)], rst: .exact)
        return ConnectionRecord(
            index: 17,
            orig: side("192.168.1.10", 55555, state: .closed, packets: 4, payload: 240, syn: 0, fin: 1, rst: 1,
                       ledger: ledger(sent: 120, retransmitted: 120, acked: 120, inFlight: 0, afterRST: 0)),
            resp: side("93.184.216.34", 80, state: .closed, packets: 3, payload: 2_048, syn: 0, fin: 0, rst: 0,
                       ledger: ledger(sent: 2_048, acked: 0, inFlight: 2_048, afterRST: 0)),
            teardown: Ending(kind: .resetAfterClose, midstream: true), closedBy: .orig, halfClose: false,
            rst: RSTInfo(from: .orig, shape: .bare, validity: .exact, packetNumber: 1_207,
                         time: Timeline.at(5_300_050), acknowledged: nil),
            connState: .OTH, history: "DTaFdR", start: Timeline.at(0), end: Timeline.at(5_300_050), midstream: true,
            firstPacketNumber: 1_201, lastPacketNumber: 1_207, events: tl.events,
            notes: [.resetClosedSocket(.orig, answeringData: true), .hadClosedFirst(.orig), .midstream, .inFlightAtRST(.resp, bytes: 2_048)])
    }

    static let all: [(name: String, record: ConnectionRecord)] = [
        ("graceful", graceful), ("linger-abort", lingerAbort), ("refused", refused),
        ("ipv6-half-close", ipv6HalfClose), ("midstream", midstream),
    ]
}
