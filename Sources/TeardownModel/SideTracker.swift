import TeardownWire

/// What one endpoint has sent and acknowledged, as seen from the capture point.
///
/// The state is *inferred*: an observer never sees an endpoint's TCB, only the segments it
/// sends and the acknowledgments it receives. See `Connection` for the inference rules.
struct SideTracker {
    // The fields are declared by size, not by topic: Swift lays a struct out in declaration
    // order, and the tracker reads every connection's two sides on every packet (on why
    // layout matters there, see TeardownSpeed).

    var endpoint: Endpoint

    // Sequence space.
    /// ISN: the SYN's sequence number, or (joined mid-stream) one before the first byte seen, so
    /// that relative numbers read the same way in both cases.
    var isn = SequenceNumber(0)
    /// Sequence number of the first payload byte (ISN + 1).
    var dataStart = SequenceNumber(0)
    /// One past the highest payload byte sent.
    var dataEnd = SequenceNumber(0)
    /// One past the highest sequence number sent, SYN and FIN included (SND.NXT as last seen).
    var sndNxt = SequenceNumber(0)
    /// The highest acknowledgment this side has sent (its RCV.NXT as far as we know).
    var highestAck = SequenceNumber(0)
    /// The acknowledgment this side sent before `highestAck` (equal to it after the first):
    /// the last step of its acknowledgments, by which a FIN the capture missed can show.
    var previousAck = SequenceNumber(0)
    /// `highestAck` when this side sent its first FIN.
    var ackAtFIN = SequenceNumber(0)
    /// Sequence number this side's FIN occupies (once `fin` is not `.unsent`).
    var finSequence = SequenceNumber(0)
    /// The TSval of this side's last segment that carried timestamps (RFC 7323 §3): a side in
    /// TIME-WAIT compares a new SYN's with it (RFC 6191).
    var lastTimestamp: UInt32 = 0

    // Segments carrying each flag (what SideSummary reports; they stop at 2³² − 1).
    var synCount: UInt32 = 0
    var finCount: UInt32 = 0
    var rstCount: UInt32 = 0

    /// Last advertised window (raw) of a non-RST segment, and the scale this side announced in
    /// its SYN (RFC 7323 §2.2). An RST's window field means nothing, so it is not taken.
    var window: UInt16 = 0
    var announcedWindowScale: UInt8?
    /// The IPv4 TTL or IPv6 hop limit of this side's segments other than RSTs (0: none yet), and
    /// whether it varied: an RST that claims to come from this side with another one was sent
    /// from another distance (`Diagnosis`, middlebox-reset).
    var hopLimit: UInt8 = 0
    var hopLimitVaries = false

    var state: TCPState
    /// How far this side's first FIN has got.
    var fin = FINProgress.unsent
    /// The sequence base is known (from a SYN, or guessed from the first segment or the peer's ACK).
    var hasBase = false
    /// Whether this side's SYN was seen (the base is exact, not guessed).
    var sentSYN = false
    /// This side has sent an acknowledgment (`highestAck` holds).
    var hasAcked = false
    var hasAdvertisedWindow = false
    /// `lastTimestamp` holds.
    var hasTimestamp = false

    // Counters (what SideSummary reports).
    var packets = 0
    var payloadBytes: UInt64 = 0
    /// Payload bytes sent after this side had received the peer's FIN (half-close data).
    var bytesAfterPeerFIN: UInt64 = 0

    // Ledger.
    var sent: UInt64 = 0
    var retransmitted: UInt64 = 0
    var inFlightAtRST: UInt64?
    var sentAfterRST: UInt64?

    init(endpoint: Endpoint, state: TCPState) {
        self.endpoint = endpoint
        self.state = state
    }

    /// Sets the sequence base from a SYN (exact) or a guess (mid-stream: `firstByte` is the first payload byte).
    mutating func setBase(isn: SequenceNumber, fromSYN: Bool) {
        hasBase = true
        sentSYN = fromSYN
        self.isn = isn
        dataStart = isn + 1
        dataEnd = isn + 1
        sndNxt = isn + 1
    }

    /// Whether `ack` (sent by the peer) covers this side's FIN.
    func isFINCovered(by ack: SequenceNumber) -> Bool {
        fin != .unsent && ack > finSequence
    }

    /// Payload bytes of this side that an acknowledgment number covers, clamped to what was sent.
    func payloadCovered(by ack: SequenceNumber) -> UInt64 {
        guard hasBase else { return 0 }
        let d = ack.distance(from: dataStart)
        if d <= 0 { return 0 }
        var n = UInt64(d)
        if isFINCovered(by: ack) { n -= 1 }
        return min(n, sent)
    }
}

/// How far a side's first FIN has got, as the segments show it: facts about one segment, not
/// states of the side (the side's state moves on them through `TCPState.next(on:)`). Each step
/// implies the one before: the acknowledgment that is seen proves the FIN arrived.
enum FINProgress: UInt8, Comparable {
    /// No FIN sent yet.
    case unsent
    /// Sent, not yet known to have arrived.
    case sent
    /// It reached the peer: the peer acknowledged it, or this side sent something after it
    /// (FIFO delivery).
    case delivered
    /// The peer's acknowledgment of it was seen (so the FIN's sender has it).
    case acknowledged

    static func < (a: FINProgress, b: FINProgress) -> Bool { a.rawValue < b.rawValue }
}
