import TeardownWire

/// What the diagnoses (`Diagnosis`) measure, gathered as the packets come, at the moments that
/// matter only: the first FIN, the RST, a SYN-ACK repeated after the handshake, a side's run of
/// retransmissions, a side's zero window, and the packet before each. A plain data or ACK segment
/// updates nothing here but the previous packet (`Connection.Facts.previous`), so the trail costs
/// the same in every output mode, `--summary` included, and a connection's diagnoses do not
/// depend on whether its timeline rows were kept.
public struct EndingTrail: Sendable, Hashable {
    /// One packet, as the trail keeps it.
    public struct Mark: Sendable, Hashable {
        public var number: Int
        public var time: Timestamp
        public var from: Side
        public var payloadLength: Int
        public init(number: Int, time: Timestamp, from: Side, payloadLength: Int) {
            self.number = number; self.time = time; self.from = from; self.payloadLength = payloadLength
        }
    }

    /// Retransmissions of one segment (the same sequence number) by one side, with nothing from
    /// the peer in between: how TCP's retransmission timer backs off (RFC 6298 §5.5) until it
    /// gives up (Linux: `tcp_retries2`, `TCP_USER_TIMEOUT`).
    public struct RetransmissionRun: Sendable, Hashable {
        /// The retransmitted segment's sequence number (raw).
        public var sequence: SequenceNumber
        /// Retransmissions in the run (the original transmission not counted).
        public var count: Int
        public var first: Mark
        public var last: Mark
        /// Time between the first two retransmissions, and between the last two (0 until there are two).
        public var firstGap: Int64 = 0
        public var lastGap: Int64 = 0
        /// Each gap at least 1.5 times the one before (exponential backoff; Linux doubles).
        public var gapsGrow = true
        /// The peer's segments when the run began: the run is unanswered while this stays.
        public var peerPacketsAtStart: Int
    }

    /// A side's advertised window at 0 since `since` (and not reopened since).
    public struct ZeroWindow: Sendable, Hashable {
        public var since: Mark
        /// The peer's segments when the window closed (the rest are probes and what followed).
        public var peerPacketsAtStart: Int
    }

    /// TCP keep-alive probes from one side (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6): segments of no
    /// data (or one byte already sent, as some stacks send) at one less than the next sequence
    /// number, without SYN, FIN or RST (Wireshark's `tcp.analysis.keep_alive`), which Linux
    /// sends after TCP_KEEPIDLE of silence and then every TCP_KEEPINTVL (tcp(7)). A run is the
    /// probes of a side that sent nothing else in between; answered or not.
    public struct KeepAliveRun: Sendable, Hashable {
        public var count: Int
        public var first: Mark
        public var last: Mark
        /// The silence before the first probe (the connection's previous packet to it).
        public var idleBefore: Int64
        /// The time between the last two probes (0 while there is one).
        public var interval: Int64 = 0
        /// The sender's segments at the last probe: the run goes on while it sends nothing else.
        var senderPackets: Int
        /// The peer's segments when the run began: no answer while this stays.
        public var peerPacketsAtStart: Int
    }

    /// A silence of at least `Diagnosis.Threshold.idleReset` within the connection, and the
    /// first segment after it (not a retransmission); the peer's segments then.
    public struct Silence: Sendable, Hashable {
        public var length: Int64
        public var end: Mark
        public var peerPackets: Int
    }

    /// The first FIN of the connection, and the time from the packet before it to it.
    public var firstFIN: Mark?
    public var silenceBeforeFirstFIN: Int64 = 0
    /// The first segment carrying new data from a side after the peer's FIN was captured
    /// (sent before or after that FIN arrived: a request crossing the close, or written after EOF).
    public var dataAfterPeerFIN: Mark?
    /// The packet before the first accepted RST (the one that ended the connection, or one after
    /// the close), and the silence before that packet.
    public var beforeRST: Mark?
    public var silenceBeforeThat: Int64 = 0
    /// The first accepted RST's TTL or hop limit, and the one every other segment of its
    /// sender carried (0: none, or they varied).
    public var rstHopLimit: UInt8 = 0
    public var senderHopLimit: UInt8 = 0
    /// The first accepted RST was seen (and `beforeRST` taken for it).
    var beforeRSTTaken = false
    /// The first accepted RST after both FINs were acknowledged, and whether it hit a side in
    /// TIME-WAIT (RFC 1337's hazard): that side.
    public var rstAfterClose: Mark?
    public var rstIntoTimeWait: Side?
    /// A SYN opened this connection on the 4-tuple of connection `previous` while a side of
    /// that one was in TIME-WAIT (`TupleReuse.aboveTimeWait`, `.newerTimestamp`).
    public var reusedTimeWait: (previous: Int, why: TupleReuse)? {
        get { reusedTimeWaitOf.map { ($0, reusedTimeWaitWhy) } }
        set { reusedTimeWaitOf = newValue?.previous; reusedTimeWaitWhy = newValue?.why ?? .aboveTimeWait }
    }
    private var reusedTimeWaitOf: Int?
    private var reusedTimeWaitWhy = TupleReuse.aboveTimeWait
    /// SYN-ACKs the responder repeated after the originator had acknowledged one: the
    /// handshake's last ACK was captured yet not taken (a full accept queue drops it).
    public var synACKsAfterHandshake = 0
    public var firstSYNACKAfterHandshake: Mark?
    /// The time from the originator's first SYN to the responder's first SYN-ACK (0 until both
    /// came): the round trip as seen from the capture point, by which an RST is judged to answer
    /// the segment before it.
    public var synACKDelay: Int64 = 0
    /// How long the connection was silent when it was reported: from its last packet to the
    /// input's last (reported at the end of the input), or the idle timeout that reported it;
    /// nil when it was reported for its ending.
    public var silenceAtEnd: Int64?
    public var silenceRunsToInputEnd = false
    /// Reported at the end of the input: when the originator's host (its address) and the
    /// responder's service (its endpoint) were last heard on any connection (`HostsHeard`).
    public var origHostHeard: Int64?
    public var respHostHeard: Int64?
    /// Each side's last retransmission run, and its zero window in force.
    public var origRun: RetransmissionRun?
    public var respRun: RetransmissionRun?
    public var origZeroWindow: ZeroWindow?
    public var respZeroWindow: ZeroWindow?
    /// The last run of keep-alive probes (of either side: a probe from the other starts a new
    /// one), and the last long silence that a segment ended and a retransmission of that
    /// segment followed (noted then, so a silence alone never boxes the trail).
    public var probes: KeepAliveRun?
    public var lastSilence: Silence?

    public init() {}

    /// A connection's trail, held by reference (`Connection.trailBox`). It is written only
    /// by the one thread that holds the connection, and read when the finished connection is
    /// made into its record, after the tracker is done with it (as `EventLogBox`).
    final class Box {
        @exclusivity(unchecked) var trail = EndingTrail()
    }

    public func run(of side: Side) -> RetransmissionRun? { side == .orig ? origRun : respRun }
    public func zeroWindow(of side: Side) -> ZeroWindow? { side == .orig ? origZeroWindow : respZeroWindow }
    public func probes(of side: Side) -> KeepAliveRun? { probes?.first.from == side ? probes : nil }

    /// A keep-alive probe by `side`, with the silence before it and both sides' segment counts
    /// (the probe counted).
    mutating func probed(_ mark: Mark, silence: Int64, senderPackets: Int, peerPackets: Int) {
        if var r = probes, r.first.from == mark.from, r.senderPackets == senderPackets - 1 {
            r.interval = mark.time.nanoseconds &- r.last.time.nanoseconds
            r.count += 1
            r.last = mark
            r.senderPackets = senderPackets
            probes = r
        } else {
            probes = KeepAliveRun(count: 1, first: mark, last: mark, idleBefore: silence,
                                  senderPackets: senderPackets, peerPacketsAtStart: peerPackets)
        }
    }

    /// A retransmission by `side` of the segment at `sequence`, with the peer's count of segments.
    mutating func retransmitted(_ mark: Mark, sequence: SequenceNumber, peerPackets: Int) {
        var run = mark.from == .orig ? origRun : respRun
        if var r = run, r.sequence == sequence, r.peerPacketsAtStart == peerPackets {
            let gap = mark.time.nanoseconds &- r.last.time.nanoseconds
            if r.count == 1 {
                r.firstGap = gap
            } else if gap.multipliedReportingOverflow(by: 2).partialValue < r.lastGap.multipliedReportingOverflow(by: 3).partialValue {
                r.gapsGrow = false
            }
            r.lastGap = gap
            r.count += 1
            r.last = mark
            run = r
        } else {
            run = RetransmissionRun(sequence: sequence, count: 1, first: mark, last: mark, peerPacketsAtStart: peerPackets)
        }
        if mark.from == .orig { origRun = run } else { respRun = run }
    }
}
