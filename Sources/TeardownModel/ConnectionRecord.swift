import TeardownKernel
import TeardownWire

/// The two roles in a connection: the originator (SYN sender, or the heuristic's pick
/// when the start was not captured) and the responder. Raw values are the JSON keys.
public enum Side: String, Sendable, Hashable, CaseIterable {
    case orig, resp
    @inlinable public var other: Side { self == .orig ? .resp : .orig }
}

/// RFC 9293 §3.3.2 connection states, spelled as the RFC spells them.
public enum TCPState: String, Sendable, Hashable, CaseIterable {
    case closed = "CLOSED"
    case listen = "LISTEN"
    case synSent = "SYN-SENT"
    case synReceived = "SYN-RECEIVED"
    case established = "ESTABLISHED"
    case finWait1 = "FIN-WAIT-1"
    case finWait2 = "FIN-WAIT-2"
    case closing = "CLOSING"
    case timeWait = "TIME-WAIT"
    case closeWait = "CLOSE-WAIT"
    case lastAck = "LAST-ACK"
}

/// How a connection ended. Raw values are the JSON `teardown` strings (without the
/// `midstream-` prefix, which `Ending.name` adds).
public enum TeardownKind: String, Sendable, Hashable, CaseIterable {
    /// FIN both ways, both acknowledged.
    case graceful
    /// One side sent FIN; the other never closed before the capture ended.
    case halfClosed = "half-closed"
    /// The FINs crossed: each side sent FIN before it had seen the other's.
    case simultaneousClose = "simultaneous-close"
    /// The originator sent an RST while the connection was open (or half-open).
    case abortByOriginator = "abort-by-originator"
    /// The responder sent an RST while the connection was open (or half-open).
    case abortByResponder = "abort-by-responder"
    /// A bare RST answering a segment sent to a closed or orphaned socket, after a FIN.
    case resetAfterClose = "reset-after-close"
    /// The responder answered the SYN with an RST.
    case refused
    /// SYN(s) and nothing back.
    case unanswered
    /// No ending was seen before the capture ended.
    case open
}

/// How a connection ended: the classification, plus whether the start was missing from the
/// capture (JSON's `teardown`).
public struct Ending: Sendable, Hashable, CustomStringConvertible {
    public var kind: TeardownKind
    public var midstream: Bool
    public init(kind: TeardownKind, midstream: Bool) { self.kind = kind; self.midstream = midstream }
    /// `graceful`, `midstream-abort-by-responder`, ...
    public var name: String { midstream ? "midstream-" + kind.rawValue : kind.rawValue }
    public var description: String { name }
}

/// Which side started the ending: sent the first FIN, or the RST. `both` for a simultaneous close.
public enum ClosedBy: String, Sendable, Hashable {
    case orig, resp, both
}

/// Zeek's `conn_state` values (Zeek `base/protocols/conn/main.zeek`).
public enum ZeekConnState: String, Sendable, Hashable, CaseIterable {
    case S0, S1, SF, REJ, S2, S3, RSTO, RSTR, RSTOS0, RSTRH, SH, SHR, OTH
}

/// Why a SYN opened a new connection on a 4-tuple whose previous connection was still held
/// (see `Connection.reuse(by:from:)`).
public enum TupleReuse: String, Sendable, Hashable, CaseIterable {
    /// The previous attempt was refused (RST to its SYN): the client was CLOSED.
    case afterRefusal = "after-refusal"
    /// The refused attempt's SYN came again with the same initial sequence number: a
    /// retransmission, so the refusing RST never reached the client's TCP, which in SYN-SENT
    /// would have accepted it and closed (RFC 9293 §3.10.7.3); a new `connect()` picks a new ISN.
    /// The receiver is CLOSED all the same, so it is a new attempt, refused again or not.
    case refusedSYNRepeated = "refused-syn-repeated"
    /// The previous connection was reset.
    case afterReset = "after-reset"
    /// The previous connection had closed (both FINs acknowledged, or both ends CLOSED).
    case afterClose = "after-close"
    /// The SYN's sequence number is above what the side in TIME-WAIT last received
    /// (RFC 9293 §3.10.7.4).
    case aboveTimeWait = "above-time-wait"
    /// The SYN's timestamp is newer than the last the side in TIME-WAIT saw (RFC 6191).
    case newerTimestamp = "newer-timestamp"
    /// The originator, having sent nothing but SYNs, sent one with a new initial sequence
    /// number: `connect()` retried before the handshake completed.
    case connectRetried = "connect-retried"
}

/// A connection of which the capture holds one direction only (a span port on one side,
/// asymmetric routing): the other side's segments are all missing, yet the side that was seen
/// shows that they existed.
public struct OneSided: Sendable, Hashable {
    /// The side whose segments were captured.
    public var seen: Side
    /// The side whose segments were not.
    public var missing: Side { seen.other }
    public var evidence: Evidence
    /// Payload bytes of the missing side that the seen side acknowledged.
    public var acknowledgedBytes: UInt64
    /// The missing side's FIN, inferred from the seen side's acknowledgment of it: the seen side
    /// closed too, and its last acknowledgment moved by exactly one, the sequence number a FIN
    /// occupies (RFC 9293 §3.4).
    public var finInferred: Bool

    /// What shows that the missing direction existed.
    public enum Evidence: String, Sendable, Hashable, CaseIterable {
        /// The seen side acknowledged sequence space the other direction never showed.
        case acknowledgedUnseenData = "acknowledged-unseen-data"
        /// The seen side went on after its SYN as only an answered handshake allows: a SYN
        /// sender acknowledging (it had the SYN-ACK, RFC 9293 §3.10.7.3), or a SYN-ACK sender
        /// sending data or a FIN (its SYN-ACK had been acknowledged, §3.10.7.4).
        case handshakeAnswered = "handshake-answered"
    }

    public init(seen: Side, evidence: Evidence, acknowledgedBytes: UInt64, finInferred: Bool) {
        self.seen = seen; self.evidence = evidence
        self.acknowledgedBytes = acknowledgedBytes; self.finInferred = finInferred
    }
}

/// Rows of a byte ledger.
public struct LedgerRows: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let sent = LedgerRows(rawValue: 1 << 0)
    public static let retransmitted = LedgerRows(rawValue: 1 << 1)
    public static let acked = LedgerRows(rawValue: 1 << 2)
    public static let inFlightAtRST = LedgerRows(rawValue: 1 << 3)
    public static let sentAfterRST = LedgerRows(rawValue: 1 << 4)
}

/// The shape of an RST segment.
public enum RSTShape: String, Sendable, Hashable {
    /// `R.`: RST with ACK. Linux sends this when the application aborts
    /// (SO_LINGER {1,0}, close() with unread data) on a synchronized connection.
    case withACK = "R."
    /// `R`: bare RST. Linux sends this when a segment arrives for a socket that no longer exists.
    case bare = "R"
}

/// How the receiver would judge an RST's sequence number (RFC 5961 §3.2, as Linux does).
public enum RSTValidity: String, Sendable, Hashable {
    /// seq == RCV.NXT: the connection is reset.
    case exact
    /// In the window but not exact: Linux answers with a challenge ACK and keeps the connection.
    case inWindow = "in-window"
    /// Outside the window: silently dropped.
    case outOfWindow = "out-of-window"
    /// The receiver's RCV.NXT was not known (e.g. nothing seen from the other side).
    case unknown
}

/// The RST that ended a connection.
public struct RSTInfo: Sendable, Hashable {
    public var from: Side
    public var shape: RSTShape
    public var validity: RSTValidity
    /// Packet number (1-based, within its file) of the RST.
    public var packetNumber: Int
    public var time: Timestamp
    /// Bytes of the other side's data the resetter had acknowledged (relative ack of the RST),
    /// nil for a bare RST.
    public var acknowledged: UInt64?
    public init(from: Side, shape: RSTShape, validity: RSTValidity, packetNumber: Int, time: Timestamp, acknowledged: UInt64?) {
        self.from = from; self.shape = shape; self.validity = validity
        self.packetNumber = packetNumber; self.time = time; self.acknowledged = acknowledged
    }
}

/// The byte ledger for one sending direction.
///
/// Packet rows come from the wire. Application rows (`written` ... `unread`) need the
/// driver's socket-call events and are nil without them. They must add up:
/// `lost = written - readByPeer = neverSent + unacked + unread`.
public struct DirectionLedger: Sendable, Hashable {
    /// Payload bytes of unique sequence space put on the wire.
    public var sent: UInt64 = 0
    /// Payload bytes sent again (sequence space already sent).
    public var retransmitted: UInt64 = 0
    /// Payload bytes the peer acknowledged.
    public var acked: UInt64 = 0
    /// Payload bytes sent but unacknowledged when the connection was reset (nil without an RST).
    public var inFlightAtRST: UInt64?
    /// Payload bytes this side put on the wire after the RST (nil without an RST).
    public var sentAfterRST: UInt64?
    /// Packet rows the capture cannot tell (one direction missing, `OneSided`): their values
    /// mean nothing and are printed as unknown.
    public var unknown: LedgerRows = []

    public var written: UInt64?
    public var readByPeer: UInt64?
    public var lost: UInt64?
    public var neverSent: UInt64?
    public var unacked: UInt64?
    public var unread: UInt64?

    public init() {}

    /// What does not add up in the application rows, or nothing. The identity is
    /// `lost = written − read by peer = never sent + unacked + unread`, with nothing read that was
    /// not written and put on the wire, and nothing put on the wire that was not written. Only
    /// impossible ledgers are reported (a sidecar that contradicts the packets), and they are
    /// reported, never hidden. When a row is impossible, the parts' sum is not checked: it
    /// cannot add up either, and saying so again would bury the cause.
    public var problems: [LedgerProblem] {
        var problems: [LedgerProblem] = []
        if let w = written, let r = readByPeer {
            if r > w {
                problems.append(.readExceedsWritten(read: r, written: w))
            } else if lost != w - r {
                problems.append(.lostIsNotWrittenMinusRead(writtenMinusRead: w - r, lost: lost))
            }
            if sent > w { problems.append(.sentExceedsWritten(sent: sent, written: w)) }
            if r > sent { problems.append(.readExceedsSent(read: r, sent: sent)) }
        }
        if problems.isEmpty, let ns = neverSent, let ua = unacked, let ur = unread {
            let (partial, o1) = ns.addingReportingOverflow(ua)
            let (parts, o2) = partial.addingReportingOverflow(ur)
            if o1 || o2 {
                problems.append(.partsOverflow)
            } else if parts != lost {
                problems.append(.partsDoNotAddUp(neverSent: ns, unacked: ua, unread: ur, lost: lost))
            }
        }
        return problems
    }
}

/// What one side did over the connection's life.
public struct SideSummary: Sendable, Hashable {
    public var endpoint: Endpoint
    /// Segments sent by this side.
    public var packets: Int = 0
    /// Sum of TCP payload lengths this side sent, retransmissions included.
    public var payloadBytes: UInt64 = 0
    /// Segments carrying SYN / FIN / RST (counted per segment, as Wireshark's filters count).
    public var syn: Int = 0
    public var fin: Int = 0
    public var rst: Int = 0
    /// This side's inferred RFC 9293 state after the last packet.
    public var state: TCPState
    /// Initial sequence number (from its SYN, or its first segment when joined mid-stream).
    public var initialSequence: SequenceNumber
    public var bytes = DirectionLedger()

    public init(endpoint: Endpoint, state: TCPState, initialSequence: SequenceNumber) {
        self.endpoint = endpoint; self.state = state; self.initialSequence = initialSequence
    }
}

/// A change in one side's inferred state, caused by a packet.
public struct StateTransition: Sendable, Hashable {
    public var side: Side
    public var from: TCPState
    public var to: TCPState
    public init(side: Side, from: TCPState, to: TCPState) { self.side = side; self.from = from; self.to = to }
}

/// One packet row of a timeline.
public struct PacketEvent: Sendable, Hashable {
    public var time: Timestamp
    /// 1-based packet number within its file (as Wireshark and tcpdump number them).
    public var number: Int
    public var from: Side
    public var flags: TCPFlags
    /// Sequence number relative to the sender's ISN.
    public var relativeSequence: UInt32
    /// Acknowledgment number relative to the receiver's ISN; nil when the ACK bit is clear.
    public var relativeAcknowledgment: UInt32?
    public var payloadLength: Int
    /// Raw (unscaled) window.
    public var window: UInt16
    /// States of both sides after this packet.
    public var origState: TCPState
    public var respState: TCPState
    public var transitions: [StateTransition]
    /// What is worth saying about this packet (a retransmission, how an RST was judged …).
    public var notes: [Note]
    public var isRetransmission: Bool
    public var isTruncated: Bool
    /// For RST segments: how the receiver would judge it.
    public var rstValidity: RSTValidity?
    /// For RST segments, with the kernel lane: whether this host's kernel sent it, and why
    /// (`KernelJoin`); nil without the lane or when it cannot tell.
    public var kernelReset: KernelResetAccount?

    public init(time: Timestamp, number: Int, from: Side, flags: TCPFlags, relativeSequence: UInt32,
                relativeAcknowledgment: UInt32?, payloadLength: Int, window: UInt16,
                origState: TCPState, respState: TCPState, transitions: [StateTransition] = [],
                notes: [Note] = [], isRetransmission: Bool = false, isTruncated: Bool = false,
                rstValidity: RSTValidity? = nil) {
        self.time = time; self.number = number; self.from = from; self.flags = flags
        self.relativeSequence = relativeSequence; self.relativeAcknowledgment = relativeAcknowledgment
        self.payloadLength = payloadLength; self.window = window
        self.origState = origState; self.respState = respState; self.transitions = transitions
        self.notes = notes; self.isRetransmission = isRetransmission; self.isTruncated = isTruncated
        self.rstValidity = rstValidity
    }
}

/// Several plain data/ACK packets folded into one timeline row.
public struct FoldEvent: Sendable, Hashable {
    public var firstTime: Timestamp
    public var lastTime: Timestamp
    public var firstNumber: Int
    public var lastNumber: Int
    /// Segments folded, per sending side.
    public var origSegments: Int
    public var respSegments: Int
    /// Payload bytes folded, per sending side.
    public var origBytes: UInt64
    public var respBytes: UInt64
    public init(firstTime: Timestamp, lastTime: Timestamp, firstNumber: Int, lastNumber: Int,
                origSegments: Int, respSegments: Int, origBytes: UInt64, respBytes: UInt64) {
        self.firstTime = firstTime; self.lastTime = lastTime; self.firstNumber = firstNumber
        self.lastNumber = lastNumber; self.origSegments = origSegments; self.respSegments = respSegments
        self.origBytes = origBytes; self.respBytes = respBytes
    }
    public var segments: Int { origSegments + respSegments }
    public var bytes: UInt64 { origBytes + respBytes }
}

/// A socket call made by the bundled driver, placed on the side that made it.
public struct CallEvent: Sendable, Hashable {
    public var time: Timestamp
    public var side: Side
    public var pid: Int32
    public var fd: Int32
    /// The call with its arguments: `close()`, `setsockopt(SO_LINGER, {on, 0 s})`, `write(30000)`.
    public var call: String
    /// Return value (bytes for read/write).
    public var result: Int64
    /// errno name (`ECONNRESET`, `EPIPE`) when the call failed.
    public var errno: String?
    /// Wall time the call took, in nanoseconds.
    public var durationNanoseconds: Int64?
    public init(time: Timestamp, side: Side, pid: Int32, fd: Int32, call: String, result: Int64,
                errno: String? = nil, durationNanoseconds: Int64? = nil) {
        self.time = time; self.side = side; self.pid = pid; self.fd = fd; self.call = call
        self.result = result; self.errno = errno; self.durationNanoseconds = durationNanoseconds
    }
}

/// A note not tied to one packet (the row limit was reached), at a moment of the timeline.
public struct NoteEvent: Sendable, Hashable {
    public var time: Timestamp
    public var side: Side?
    public var note: Note
    public init(time: Timestamp, side: Side?, note: Note) { self.time = time; self.side = side; self.note = note }
}

/// One row of a connection's timeline.
public enum TimelineEvent: Sendable, Hashable {
    case packet(PacketEvent)
    case fold(FoldEvent)
    case call(CallEvent)
    case note(NoteEvent)
    /// An event of the kernel lane (a state change, an RST sent or received, an error reported).
    /// Held indirectly: at 124 bytes it was the largest case, and every row of every connection
    /// (packets, 96 bytes, nearly all of them) took its size; only captures with the kernel lane
    /// have such rows. Rows are 104 bytes apart instead of 128.
    indirect case kernel(KernelRow)

    public var time: Timestamp {
        switch self {
        case .packet(let p): return p.time
        case .fold(let f): return f.firstTime
        case .call(let c): return c.time
        case .note(let n): return n.time
        case .kernel(let k): return k.event.time
        }
    }
}

/// Everything known about one connection once it has ended (or the input has).
public struct ConnectionRecord: Sendable, Hashable {
    /// 1-based index of the connection within its input, in order of first packet.
    public var index: Int
    public var orig: SideSummary
    public var resp: SideSummary
    public var teardown: Ending
    public var closedBy: ClosedBy?
    /// The side that received the first FIN went on sending data afterwards (shutdown(SHUT_WR) pattern).
    public var halfClose: Bool
    /// The RST that ended the connection, if one did.
    public var rst: RSTInfo?
    public var connState: ZeekConnState
    public var history: String
    public var start: Timestamp
    public var end: Timestamp
    public var midstream: Bool
    /// Only one direction was captured (nil: both were, or nothing shows one missing).
    public var oneSided: OneSided?
    public var firstPacketNumber: Int
    public var lastPacketNumber: Int
    /// Timeline rows in time order; empty when events were not recorded.
    public var events: [TimelineEvent]
    /// Connection-level notes, most important first.
    public var notes: [Note]
    /// The routes of the tunnels the connection came in, as numbered by the reading stage
    /// (`TunnelTable`); `.none` when it came in none.
    public var tunnelRoutes = TunnelRoutes.none
    /// Those routes as paths (`ConnectionTunnel`), filled in by whoever holds the reading
    /// stage's `TunnelTable` before the record is rendered; nil when it came in no tunnel.
    public var tunnel: ConnectionTunnel?
    /// The kernel's events of this connection's sockets, in time order (`KernelJoin`); nil
    /// without the kernel lane, empty when the lane saw none of them.
    public var kernelEvents: [KernelRow]?
    /// Each side's inferred states checked against the kernel's (`KernelOracle`): nil without
    /// the kernel lane, and for a side whose socket the kernel did not trace.
    public var kernelStates: KernelStateChecks?
    /// Why it ended as it did, in patterns people meet in production (`Diagnosis.diagnose`),
    /// most specific first; empty when none applies.
    public var diagnoses: [Diagnosis] = []
    /// Why the tracker reported it before it ended, when it did: `.idleTimeout` (no packet for
    /// `--idle-timeout`), `.unansweredTimeout` (an attempt unanswered that long) or `.evicted`
    /// (more than `--max-connections` held at once); nil when it ended, or the input did.
    public var expired: Note?

    public init(index: Int, orig: SideSummary, resp: SideSummary, teardown: Ending, closedBy: ClosedBy?,
                halfClose: Bool, rst: RSTInfo?, connState: ZeekConnState, history: String,
                start: Timestamp, end: Timestamp, midstream: Bool, firstPacketNumber: Int,
                lastPacketNumber: Int, events: [TimelineEvent], notes: [Note], oneSided: OneSided? = nil) {
        self.oneSided = oneSided
        self.index = index; self.orig = orig; self.resp = resp; self.teardown = teardown
        self.closedBy = closedBy; self.halfClose = halfClose; self.rst = rst
        self.connState = connState; self.history = history; self.start = start; self.end = end
        self.midstream = midstream; self.firstPacketNumber = firstPacketNumber
        self.lastPacketNumber = lastPacketNumber; self.events = events; self.notes = notes
    }

    public func side(_ s: Side) -> SideSummary { s == .orig ? orig : resp }
}

/// The route (`TunnelIDs.route`) of the first tunnelled segment each side of a connection sent;
/// 0 for a side that sent none. Both are 0 for a connection that came in no tunnel.
public struct TunnelRoutes: Sendable, Hashable {
    public var orig: UInt32
    public var resp: UInt32

    public init(orig: UInt32, resp: UInt32) { self.orig = orig; self.resp = resp }

    public static let none = TunnelRoutes(orig: 0, resp: 0)
    public var isEmpty: Bool { orig == 0 && resp == 0 }

    /// Keeps `route` for `side` unless it has one.
    @inline(__always)
    mutating func note(_ route: UInt32, from side: Side) {
        if side == .orig { if orig == 0 { orig = route } } else if resp == 0 { resp = route }
    }
}

/// The tunnels a connection came in, as each side's packets took them (`TunnelPath`'s layers,
/// outermost first, the addresses as that side sent them); nil for a side none of whose packets
/// did. All the connection's packets share one tunnel identity (`TunnelPath.identity`): it is
/// part of the connection's key. Held in arrays, so that a record without tunnels stays small.
public struct ConnectionTunnel: Sendable, Hashable {
    public var orig: [TunnelLayer]?
    public var resp: [TunnelLayer]?
    /// Layers past `TunnelPath.capacity`, not kept.
    public var omitted: Int

    public init(orig: TunnelPath?, resp: TunnelPath?) {
        self.orig = orig?.all
        self.resp = resp?.all
        omitted = (orig ?? resp)?.omitted ?? 0
    }

    /// The layers as the originator's packets take them: the originator's route, or the
    /// responder's reversed.
    public var layers: [TunnelLayer] { orig ?? resp?.map(\.reversed) ?? [] }
}

/// Both sides' checks against the kernel's states.
public struct KernelStateChecks: Sendable, Hashable {
    public var orig: KernelStateCheck?
    public var resp: KernelStateCheck?
    public init(orig: KernelStateCheck?, resp: KernelStateCheck?) { self.orig = orig; self.resp = resp }
    public subscript(side: Side) -> KernelStateCheck? { side == .orig ? orig : resp }
}
