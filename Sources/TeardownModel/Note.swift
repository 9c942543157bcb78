import TeardownKernel
import TeardownWire

/// A fact worth a line of its own, about one packet (`PacketEvent.notes`), one moment
/// (`NoteEvent`) or a whole connection (`ConnectionRecord.notes`). Model says which fact and
/// carries its numbers; Render words it (`Wording+Notes.swift`), and JSON writes its `code`
/// beside the words so that a script need not match English.
///
/// To add a note: a case here, its code in `Code` and in `code`, its words in Render, a line
/// in docs/output.md ("Note codes"), and a sample in the Render tests; the compiler points at
/// every switch that must learn it.
public enum Note: Sendable, Hashable {
    // MARK: One packet

    /// The snapshot length cut the packet's captured bytes short.
    case truncated
    /// The same SYN again (`withACK`: a SYN-ACK).
    case synRetransmitted(withACK: Bool)
    /// Payload of which only a part was new sequence space.
    case partlyRetransmitted
    /// Payload entirely in sequence space sent before.
    case retransmission
    /// Payload beyond the sender's own FIN.
    case dataAfterOwnFIN
    /// Payload from a side that had received the peer's FIN: a half-close.
    case dataAfterPeerFIN
    /// The same FIN again.
    case finRetransmitted
    /// A FIN at another sequence number than the side's first.
    case secondFIN
    /// This FIN was sent before the peer's FIN arrived: a simultaneous close (RFC 9293 Figure 13).
    case finsCrossed
    /// The FIN segment carries the last `bytes` of payload.
    case finCarriesLastBytes(Int)
    /// FIN and RST in one segment; the RST wins.
    case finAndRST
    /// An RST after the connection was reset: from the side that reset it (`sameSide`), or
    /// from the peer, answering a segment that arrived after the reset.
    case rstAfterReset(sameSide: Bool)
    /// An RST in the window but not at RCV.NXT: a challenge ACK, the connection lives (RFC 5961 §3.2).
    case rstInWindow
    /// An RST outside the window: dropped (RFC 5961 §3.2).
    case rstOutOfWindow
    /// An RST that ended TIME-WAIT (Linux, net.ipv4.tcp_rfc1337=0).
    case rstInTimeWait
    /// An RST after both FINs were acknowledged.
    case rstAfterClose
    /// The RST answered the SYN: refused.
    case rstRefused
    /// An RST with ACK: the side `by` aborted.
    case rstAborted(by: Side)
    /// An RST without ACK: a segment hit a socket that no longer exists; `answeringData`: the
    /// segment before it, from the other side, carried data (false: a FIN, an ACK or a probe;
    /// nil: the packet before it was not the other side's, so what it answered was not seen).
    case rstForMissingSocket(answeringData: Bool?)
    /// A SYN at another sequence number than its sender's first, in a connection it does not
    /// end: the receiver answers with a challenge ACK (RFC 5961 §4).
    case synInConnection
    /// A SYN into TIME-WAIT that does not open a new connection: its sequence number is not
    /// above the old connection's and its timestamp is not newer (RFC 6191), so it is an old
    /// duplicate that TIME-WAIT acknowledges.
    case synInTimeWait
    /// The kernel's own account of this RST (tcp:tcp_send_reset): this host sent it, for this
    /// reason (nil before Linux 6.10, whose tracepoint gives none).
    case kernelReset(RSTReason?)
    /// The kernel lane traced the sender's socket, yet no tcp_send_reset of this host accounts
    /// for this RST: it was not sent by this host.
    case rstNotFromThisHost

    // MARK: One moment

    /// The timeline reached its row limit; `rows` further rows were counted, not kept.
    case rowsDropped(Int)

    // MARK: The whole connection

    /// A graceful close: `side` closed first, its peer after it.
    case closedFirst(Side)
    /// Both FINs were seen, but not the acknowledgment of the last.
    case lastFINUnacknowledged
    /// The FINs crossed and both sides passed through CLOSING.
    case simultaneousClose
    /// `side` sent FIN; its peer never closed before the capture ended.
    case peerNeverClosed(closer: Side)
    /// `side` aborted with an RST carrying an ACK (SO_LINGER {1, 0}, or close() with unread data).
    case aborted(Side)
    /// A bare RST from `side`: a segment arrived there for a socket that no longer exists;
    /// `answeringData` as in `rstForMissingSocket`.
    case resetClosedSocket(Side, answeringData: Bool?)
    /// `side` had sent the first FIN (before a reset).
    case hadClosedFirst(Side)
    /// The server answered the SYN with RST.
    case refused
    /// The SYN went unanswered after `attempts` transmissions.
    case synUnanswered(attempts: Int)
    /// No FIN or RST before the capture ended.
    case noEnding
    /// The capture starts mid-connection; roles were guessed.
    case midstream
    /// Only the `seen` side's direction was captured; `evidence` shows the other existed, and
    /// the seen side acknowledged `acknowledged` payload bytes of it.
    case oneSided(seen: Side, OneSided.Evidence, acknowledged: UInt64)
    /// `side`'s FIN was not captured: inferred from its peer's acknowledgment of it.
    case finInferred(Side)
    /// `closer` sent FIN; whether its peer closed is unknown (its direction was not captured).
    case peerCloseUnknown(closer: Side)
    /// A SYN opened this connection on the 4-tuple of connection `previous`, for `why`.
    case tupleReused(previous: Int, TupleReuse)
    /// `bytes` sent by `side` were unacknowledged when the RST came.
    case inFlightAtRST(Side, bytes: UInt64)
    /// `side` sent `bytes` of payload after the RST.
    case sentAfterRST(Side, bytes: UInt64)
    /// `resetter`'s RST acknowledged `bytes` of its peer's data.
    case acknowledgedBeforeRST(resetter: Side, bytes: UInt64)
    /// `bytes` sent by `side` were not acknowledged before the capture ended.
    case unacknowledgedAtEnd(Side, bytes: UInt64)
    /// `side` sent `bytes` after receiving its peer's FIN (half-close).
    case halfCloseBytes(Side, bytes: UInt64)
    /// An RST from `side` arrived after the connection had closed, in packet `packet`.
    case lateRST(from: Side, packet: Int)
    /// `count` RSTs were not accepted (RFC 5961).
    case rstsNotAccepted(Int)
    /// `side`'s last advertised window was 0: its application was not reading.
    case zeroWindow(Side)
    /// Reported after `seconds` without a packet, and forgotten.
    case idleTimeout(seconds: Int64)
    /// An attempt reported after `seconds` without an answer, and forgotten.
    case unansweredTimeout(seconds: Int64)
    /// Reported early: more than `limit` connections were open at once.
    case evicted(limit: Int)
    /// A side sent data after its own FIN.
    case dataAfterFIN
    /// `side` is left in TIME-WAIT.
    case leftInTimeWait(Side)
    /// With the driver's calls: the ledger from `sender` to its peer does not add up.
    /// The kernel lane's states of `side`'s socket and the inferred ones differ (`KernelOracle`):
    /// transitions the kernel took that teardown did not infer, and the reverse.
    case kernelStatesDiffer(Side, kernelOnly: [StateTransition], inferredOnly: [StateTransition])
    case ledgerMismatch(sender: Side, [LedgerProblem])
    /// With the driver's calls: bytes `sender`'s application wrote that its peer's never read.
    indirect case bytesLost(sender: Side, BytesLost)

    /// Bytes an application wrote and its peer's never read, by where they stopped.
    public struct BytesLost: Sendable, Hashable {
        public var lost: UInt64
        public var written: UInt64
        /// Still in the sender's send queue.
        public var neverSent: UInt64?
        /// Sent, never acknowledged.
        public var unacked: UInt64?
        /// Acknowledged, never read.
        public var unread: UInt64?
        public init(lost: UInt64, written: UInt64, neverSent: UInt64?, unacked: UInt64?, unread: UInt64?) {
            self.lost = lost; self.written = written
            self.neverSent = neverSent; self.unacked = unacked; self.unread = unread
        }
    }

    /// A stable machine name for each kind of note: JSON's `code`, kebab-case. Codes are never
    /// renamed or reused; docs/output.md lists each with its meaning.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        case truncated
        case synRetransmitted = "syn-retransmitted"
        case synACKRetransmitted = "syn-ack-retransmitted"
        case partlyRetransmitted = "partly-retransmitted"
        case retransmission
        case dataAfterOwnFIN = "data-after-own-fin"
        case dataAfterPeerFIN = "data-after-peer-fin"
        case finRetransmitted = "fin-retransmitted"
        case secondFIN = "second-fin"
        case finsCrossed = "fins-crossed"
        case finCarriesLastBytes = "fin-carries-last-bytes"
        case finAndRST = "fin-and-rst"
        case rstAgain = "rst-again"
        case rstAfterReset = "rst-after-reset"
        case rstInWindow = "rst-in-window"
        case rstOutOfWindow = "rst-out-of-window"
        case rstInTimeWait = "rst-in-time-wait"
        case rstAfterClose = "rst-after-close"
        case rstRefused = "rst-refused"
        case rstAborted = "rst-aborted"
        case rstForMissingSocket = "rst-for-missing-socket"
        case synInConnection = "syn-in-connection"
        case synInTimeWait = "syn-in-time-wait"
        case kernelReset = "kernel-reset"
        case rstNotFromThisHost = "rst-not-from-this-host"
        case rowsDropped = "rows-dropped"
        case closedFirst = "closed-first"
        case lastFINUnacknowledged = "last-fin-unacknowledged"
        case simultaneousClose = "simultaneous-close"
        case peerNeverClosed = "peer-never-closed"
        case aborted
        case resetClosedSocket = "reset-closed-socket"
        case hadClosedFirst = "had-closed-first"
        case refused
        case synUnanswered = "syn-unanswered"
        case noEnding = "no-ending"
        case midstream
        case tupleReused = "tuple-reused"
        case oneSided = "one-sided"
        case finInferred = "fin-inferred"
        case peerCloseUnknown = "peer-close-unknown"
        case inFlightAtRST = "in-flight-at-rst"
        case sentAfterRST = "sent-after-rst"
        case acknowledgedBeforeRST = "acknowledged-before-rst"
        case unacknowledgedAtEnd = "unacknowledged-at-end"
        case halfCloseBytes = "half-close-bytes"
        case lateRST = "late-rst"
        case rstsNotAccepted = "rsts-not-accepted"
        case zeroWindow = "zero-window"
        case idleTimeout = "idle-timeout"
        case unansweredTimeout = "unanswered-timeout"
        case evicted
        case dataAfterFIN = "data-after-fin"
        case leftInTimeWait = "left-in-time-wait"
        case ledgerMismatch = "ledger-mismatch"
        case kernelStatesDiffer = "kernel-states-differ"
        case bytesLost = "bytes-lost"
    }

    /// This note's code.
    public var code: Code {
        switch self {
        case .truncated: return .truncated
        case .synRetransmitted(let withACK): return withACK ? .synACKRetransmitted : .synRetransmitted
        case .partlyRetransmitted: return .partlyRetransmitted
        case .retransmission: return .retransmission
        case .dataAfterOwnFIN: return .dataAfterOwnFIN
        case .dataAfterPeerFIN: return .dataAfterPeerFIN
        case .finRetransmitted: return .finRetransmitted
        case .secondFIN: return .secondFIN
        case .finsCrossed: return .finsCrossed
        case .finCarriesLastBytes: return .finCarriesLastBytes
        case .finAndRST: return .finAndRST
        case .rstAfterReset(let sameSide): return sameSide ? .rstAgain : .rstAfterReset
        case .rstInWindow: return .rstInWindow
        case .rstOutOfWindow: return .rstOutOfWindow
        case .rstInTimeWait: return .rstInTimeWait
        case .rstAfterClose: return .rstAfterClose
        case .rstRefused: return .rstRefused
        case .rstAborted: return .rstAborted
        case .rstForMissingSocket: return .rstForMissingSocket
        case .synInConnection: return .synInConnection
        case .synInTimeWait: return .synInTimeWait
        case .kernelReset: return .kernelReset
        case .rstNotFromThisHost: return .rstNotFromThisHost
        case .rowsDropped: return .rowsDropped
        case .closedFirst: return .closedFirst
        case .lastFINUnacknowledged: return .lastFINUnacknowledged
        case .simultaneousClose: return .simultaneousClose
        case .peerNeverClosed: return .peerNeverClosed
        case .aborted: return .aborted
        case .resetClosedSocket: return .resetClosedSocket
        case .hadClosedFirst: return .hadClosedFirst
        case .refused: return .refused
        case .synUnanswered: return .synUnanswered
        case .noEnding: return .noEnding
        case .midstream: return .midstream
        case .tupleReused: return .tupleReused
        case .oneSided: return .oneSided
        case .finInferred: return .finInferred
        case .peerCloseUnknown: return .peerCloseUnknown
        case .inFlightAtRST: return .inFlightAtRST
        case .sentAfterRST: return .sentAfterRST
        case .acknowledgedBeforeRST: return .acknowledgedBeforeRST
        case .unacknowledgedAtEnd: return .unacknowledgedAtEnd
        case .halfCloseBytes: return .halfCloseBytes
        case .lateRST: return .lateRST
        case .rstsNotAccepted: return .rstsNotAccepted
        case .zeroWindow: return .zeroWindow
        case .idleTimeout: return .idleTimeout
        case .unansweredTimeout: return .unansweredTimeout
        case .evicted: return .evicted
        case .dataAfterFIN: return .dataAfterFIN
        case .leftInTimeWait: return .leftInTimeWait
        case .ledgerMismatch: return .ledgerMismatch
        case .kernelStatesDiffer: return .kernelStatesDiffer
        case .bytesLost: return .bytesLost
        }
    }
}

/// Why a ledger does not add up (see `DirectionLedger.problems`).
public enum LedgerProblem: Sendable, Hashable {
    /// The peer read more than was written.
    case readExceedsWritten(read: UInt64, written: UInt64)
    /// lost is not written − read by peer (or is missing).
    case lostIsNotWrittenMinusRead(writtenMinusRead: UInt64, lost: UInt64?)
    /// More went on the wire than was written.
    case sentExceedsWritten(sent: UInt64, written: UInt64)
    /// The peer read more than went on the wire.
    case readExceedsSent(read: UInt64, sent: UInt64)
    /// never sent + unacked + unread is not lost (or lost is missing).
    case partsDoNotAddUp(neverSent: UInt64, unacked: UInt64, unread: UInt64, lost: UInt64?)
    /// never sent + unacked + unread is more than a 64-bit count holds.
    case partsOverflow
}
