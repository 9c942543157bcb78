import TeardownWire

/// Zeek's per-endpoint TCP states (`EndpointState`, src/analyzer/protocol/tcp/TCP_Endpoint.h),
/// which `conn_state` is computed from. Raw values are Zeek's script-level names.
public enum ZeekEndpointState: String, Sendable, Hashable, CaseIterable {
    /// Nothing seen from this side (yet).
    case inactive = "TCP_INACTIVE"
    /// A SYN seen, no SYN+ACK from the peer.
    case synSent = "TCP_SYN_SENT"
    /// A SYN+ACK seen from an originator whose SYN was not seen.
    case synAckSent = "TCP_SYN_ACK_SENT"
    /// Packets seen from this side, but no SYN (joined mid-stream).
    case partial = "TCP_PARTIAL"
    /// The handshake completed (for the responder: it sent a SYN+ACK).
    case established = "TCP_ESTABLISHED"
    /// A FIN seen from this side.
    case closed = "TCP_CLOSED"
    /// An RST seen from this side.
    case reset = "TCP_RESET"
}

/// Zeek's `TCP_Endpoint` (src/analyzer/protocol/tcp/TCP_Endpoint.{h,cc}), reduced to what
/// `conn_state`, `history` and the endpoint `size` depend on, plus the bookkeeping of
/// `TCP_Reassembler` that decides content gaps (`g`).
struct ZeekTCPEndpoint: Sendable {
    var state: ZeekEndpointState = .inactive
    var prevState: ZeekEndpointState = .inactive
    /// `is_orig`: toggled when Zeek flips the roles.
    var isOrig: Bool
    /// `skip_deliveries`: the reassembler gave up on this stream. (Declared here, beside the
    /// other one-byte fields, rather than with the reassembler state below: fields are laid
    /// out by size.)
    var skipDeliveries = false
    /// `did_close`: this side's FIN or RST was reported as a close (`ConnectionClosed`).
    var didClose = false

    // Sequence bookkeeping, as in TCP_Endpoint: start_seq is a signed 64-bit value,
    // last_seq / ack_seq are raw 32-bit numbers with wrap counters.
    var startSeq: Int64 = 0
    var lastSeq: UInt32 = 0
    /// The highest acknowledgment the *peer* sent for this endpoint's data.
    var ackSeq: UInt32 = 0
    var seqWraps: UInt32 = 0
    var ackWraps: UInt32 = 0

    var finCount = 0
    var rstCount = 0
    /// Relative sequence number one past this endpoint's FIN.
    var finSeq: UInt64 = 0

    // Relative sequence numbers of the last SYN / FIN / RST, for history (`update_history`).
    var histLastSYN: UInt64 = 0
    var histLastFIN: UInt64 = 0
    var histLastRST: UInt64 = 0

    // Log-scaled history counters (`Connection::ScaledHistoryEntry`, base 10).
    var checksumErrors = ScaledCounter()
    var retransmissions = ScaledCounter()
    var zeroWindows = ScaledCounter()
    var gaps = ScaledCounter()

    // TCP_Reassembler state for this endpoint's byte stream (relative sequence numbers).
    /// `last_reassem_seq`: everything below has been delivered (or declared a gap).
    var lastReassemSeq: UInt64 = 1
    /// `trim_seq`: everything below has been acknowledged and dropped.
    var trimSeq: UInt64 = 0
    /// Undelivered blocks above `lastReassemSeq`: disjoint, sorted, not adjacent.
    /// Only out-of-order data lands here, so the array stays empty in the common case.
    var blocks: [(lower: UInt64, upper: UInt64)] = []

    init(isOrig: Bool) { self.isOrig = isOrig }

    /// `SetState`: `prev_state` records the state before the last real change.
    mutating func setState(_ new: ZeekEndpointState) {
        if new != state {
            prevState = state
            state = new
        }
    }

    /// `StartSeq()`: start_seq as a 32-bit sequence number.
    var startSeq32: UInt32 { UInt32(truncatingIfNeeded: startSeq) }

    mutating func initStart(_ seq: UInt32) { startSeq = Int64(seq) }

    /// `UpdateLastSeq`: a numerically smaller value counts as a wrap.
    mutating func updateLastSeq(_ seq: UInt32) {
        if seq < lastSeq { seqWraps &+= 1 }
        lastSeq = seq
    }

    /// `UpdateAckSeq`.
    mutating func updateAckSeq(_ seq: UInt32) {
        if seq < ackSeq { ackWraps &+= 1 }
        ackSeq = seq
    }

    static func fullSeqSpace(_ seq: UInt32, wraps: UInt32) -> UInt64 { (UInt64(wraps) << 32) &+ UInt64(seq) }

    /// `ToRelativeSeqSpace`.
    func relativeSeqSpace(_ seq: UInt32, wraps: UInt32) -> UInt64 {
        Self.relativeSeqSpace(seq, wraps: wraps, start: startSeq)
    }

    /// `ToRelativeSeqSpace` given only the endpoint's `startSeq`, for callers that hold the
    /// endpoint `inout`.
    static func relativeSeqSpace(_ seq: UInt32, wraps: UInt32, start: Int64) -> UInt64 {
        fullSeqSpace(seq, wraps: wraps) &- UInt64(bitPattern: start)
    }

    /// `NoDataAcked`: the peer acknowledged nothing beyond (possibly) the SYN.
    var noDataAcked: Bool {
        let ack = Self.fullSeqSpace(ackSeq, wraps: ackWraps)
        let start = UInt64(bitPattern: startSeq)
        return ack == start || ack == start &+ 1
    }

    /// `TCP_Endpoint::Size`: payload bytes in sequence space (what conn.log shows as
    /// orig_bytes / resp_bytes), excluding the SYN and FIN octets.
    func size(peerState: ZeekEndpointState) -> UInt64 {
        if prevState == .synSent && state == .reset && peerState == .inactive && !noDataAcked {
            // A half-open connection discovered and aborted: the numbers mean nothing.
            return 0
        }
        let last64 = Self.fullSeqSpace(lastSeq, wraps: seqWraps)
        let ack64 = Self.fullSeqSpace(ackSeq, wraps: ackWraps)
        var size = (last64 > ack64 ? last64 : ack64) &- UInt64(bitPattern: startSeq)
        if size != 0 { size -= 1 }
        if finCount > 0 && size != 0 { size -= 1 }
        return size
    }

    /// `is_clean` in TCP_Reassembler.cc.
    @inline(__always) var isClean: Bool { state == .established || (state == .closed && prevState == .established) }
}

/// `Connection::ScaledHistoryEntry` with base 10: the letter is recorded at the 1st,
/// 10th, 100th, ... occurrence.
struct ScaledCounter: Sendable {
    var count: UInt32 = 0
    var threshold: UInt32 = 1

    /// Counts one occurrence; true when the history letter is due.
    mutating func increment() -> Bool {
        count &+= 1
        guard count == threshold else { return false }
        // 32-bit wrapping multiplication, as in Zeek; a non-increasing result resets the count.
        let next = threshold &* 10
        if next <= threshold { count = 0 } else { threshold = next }
        return true
    }
}
