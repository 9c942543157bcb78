import TeardownWire

/// One connection's observer-side state machine.
///
/// ## Inference rules
/// An endpoint's RFC 9293 state changes only on evidence:
/// 1. segments it sends (its SYN, SYN-ACK, FIN), and what those segments acknowledge
///    (acknowledging the peer's FIN proves it received it);
/// 2. receipt of an acknowledgment of its own SYN or FIN (the peer sent it, so it was on its way);
/// 3. FIFO delivery: a segment the peer sent *after* its FIN cannot arrive before that FIN, so
///    when it is seen, the FIN has been received.
/// Rule 3 is what makes crossing FINs come out right: both sides pass through CLOSING
/// (RFC 9293 §3.6, Figure 13). Each inference is an event for one side (`SideEvent`), and a
/// side's state changes in one place only, `TCPState.next(on:)`. A packet the capture shows but the receiver never got (loss) can
/// make an inferred state run ahead; retransmissions are never taken as evidence of delivery.
@usableFromInline package struct Connection {
    let index: Int
    var orig: SideTracker
    var resp: SideTracker
    var zeek: ZeekTCPState
    /// Zeek swapped the roles after creation (a SYN from the responder after a SYN-ACK from the
    /// originator, history `^`): from then on Zeek's originator is our responder. Our own roles
    /// stay as first chosen, so timelines stay readable; Zeek's fields follow Zeek's roles.
    var zeekRolesSwapped = false

    /// The first packet's time, and the latest time among the connection's packets (later
    /// than the last packet's when the capture's clock went back).
    var start: Timestamp
    var end: Timestamp
    var firstPacketNumber: Int
    var lastPacketNumber: Int
    /// The route (`TunnelIDs.route`) of the first tunnelled segment each side sent; 0 for none.
    var tunnelRoutes = TunnelRoutes.none

    /// What the connection as a whole has shown so far (as opposed to each side's own state).
    var facts = Facts()

    var events: EventLogBox?
    /// What the diagnoses measure (`EndingTrail`), held by reference and made at the first
    /// moment that matters (`trail()`), which most connections never have: their slots stay
    /// as small as they were, and as cheap to copy.
    var trailBox: EndingTrail.Box?
    var recordsEvents: Bool { events != nil }
    /// Why the connection was reported before its ending (idle timeout, eviction), if it was.
    var forgottenReason: Note? {
        get { facts.rare?.forgottenReason }
        set { facts.rareForWriting().forgottenReason = newValue }
    }
    /// The connection before it on the same 4-tuple, when a SYN opened this one while that one
    /// was still held (`Note.tupleReused`).
    var follows: Note? {
        get { facts.rare?.follows }
        set { facts.rareForWriting().follows = newValue }
    }

    init(index: Int, orig: Endpoint, resp: Endpoint, time: Timestamp, packetNumber: Int, recordEvents: Bool,
         rolesFlipped: Bool = false, zeekRolesFlipped: Bool? = nil, follows: Note? = nil) {
        self.index = index
        let zeekFlip = zeekRolesFlipped ?? rolesFlipped
        self.zeek = ZeekTCPState(rolesFlippedAtCreation: zeekFlip)
        self.zeekRolesSwapped = zeekFlip != rolesFlipped
        self.orig = SideTracker(endpoint: orig, state: .closed)
        self.resp = SideTracker(endpoint: resp, state: .listen)
        self.start = time
        self.end = time
        self.firstPacketNumber = packetNumber
        self.lastPacketNumber = packetNumber
        self.events = recordEvents ? EventLogBox() : nil
        if let follows { self.follows = follows }
    }

    /// The start was not captured: neither the originator's SYN nor the responder's SYN-ACK.
    var midstream: Bool { !facts.origSentSYN && !facts.respSentSYNACK }

    /// Only the originator's SYNs so far, and nothing came back (what `classify` calls
    /// unanswered; an originator that sent more than SYNs was answered, in a direction the
    /// capture may lack).
    var isUnansweredAttempt: Bool {
        facts.origSentSYN && resp.packets == 0 && orig.packets == Int(orig.synCount) && !facts.isFinished
    }

    /// Connection-wide facts, kept apart from the two sides, so that one segment updates both
    /// sides and these together (`apply` takes all three `inout`).
    struct Facts {
        /// Which side sent the first FIN, and when.
        var firstFIN: Side?
        /// The FINs crossed: a FIN was sent that did not acknowledge the peer's FIN already sent.
        var finsCrossed = false
        /// Both FINs were sent and acknowledged, or the connection was reset: the ending is complete.
        var isFinished = false
        /// The RST that ended the connection (accepted by the receiver's rules).
        var endingRST: RSTInfo? {
            get { rare?.endingRST }
            set { rareForWriting().endingRST = newValue }
        }
        /// An RST accepted after the connection had already closed gracefully (e.g. in TIME-WAIT).
        var lateRST: RSTInfo? {
            get { rare?.lateRST }
            set { rareForWriting().lateRST = newValue }
        }
        /// What few connections have (`RareFacts`), made when the first of it is written.
        var rare: RareFacts?

        mutating func rareForWriting() -> RareFacts {
            if let r = rare { return r }
            let r = RareFacts()
            rare = r
            return r
        }
        /// RSTs that did not end the connection (in-window challenge, out of window).
        var ignoredRSTs = 0
        /// The responder refused the SYN.
        var refused = false
        /// Data sent by a side after its own FIN (a protocol violation worth flagging).
        var dataAfterOwnFIN = false
        /// The responder answered the SYN with SYN-ACK (the handshake got that far).
        var respSentSYNACK = false
        /// A SYN without ACK was seen from the originator.
        var origSentSYN = false
        var synRetransmissions = 0
        /// The previous packet's silence before it, payload and sender (its number and time are
        /// the connection's `lastPacketNumber` and `end` before the current packet).
        var previousGap: Int64 = 0
        var previousLength: Int32 = 0
        var previousFrom = Side.orig
        /// A side's zero window is in force in the trail (so a reopened window clears it).
        var zeroWindowHeld = false
        /// The RST after the close hit a side in TIME-WAIT.
        var lateRSTIntoTimeWait = false
        /// The time from the originator's SYN (the connection's first packet) to the first
        /// SYN-ACK (`EndingTrail.synACKDelay`); the first FIN's packet number (0: none), time
        /// and the silence before it (`EndingTrail.firstFIN`). Kept here, not in the trail:
        /// nearly every connection has them, and the trail is made only for what is rarer.
        var synACKDelay: Int64 = 0
        var firstFINNumber = 0
        var firstFINTime: Int64 = 0
        var silenceBeforeFirstFIN: Int64 = 0
    }

    /// What few connections have, held by reference so that the others' slots do not carry it:
    /// an ending RST or a late one (about one connection in five on the benchmark's captures),
    /// a reason for being reported early, the connection before it on the 4-tuple. Inline,
    /// these took 120 of a slot's 960 bytes, the difference between a million open
    /// connections in 1.09 GB and in under 1 GB. Like `EventLogBox` and `EndingTrail.Box`, it
    /// is written only by the one thread that holds the connection, and read when the finished
    /// connection is made into its record, after the tracker is done with it.
    final class RareFacts {
        @exclusivity(unchecked) var endingRST: RSTInfo?
        @exclusivity(unchecked) var lateRST: RSTInfo?
        @exclusivity(unchecked) var forgottenReason: Note?
        @exclusivity(unchecked) var follows: Note?
    }

    /// Whether a SYN arriving now opens a new connection on this 4-tuple, and why (nil: it
    /// belongs to this one). Only a SYN without ACK can (a new active OPEN, RFC 9293 §3.10.1):
    /// - after an accepted RST (a refusal or a reset), the receiver is CLOSED, so any SYN is a
    ///   new attempt; one repeating the refused SYN's sequence number is a retransmission of it
    ///   (`refusedSYNRepeated`): the client never took the RST, for SYN-SENT takes an RST whose
    ///   ACK acknowledges its SYN and closes (§3.10.7.3), and a new `connect()` picks a new ISN;
    /// - into a side in TIME-WAIT, only a SYN whose sequence number is above what that side last
    ///   received, or whose timestamp is newer than the last it saw, and that PAWS does not
    ///   reject (§3.10.7.4 TIME-WAIT, RFC 6191 §2; Linux `tcp_timewait_state_process`); another
    ///   SYN is an old duplicate and TIME-WAIT only acknowledges it;
    /// - after both FINs were acknowledged, or when the sender itself is in TIME-WAIT or both
    ///   ends are CLOSED, any SYN;
    /// - from the originator with another initial sequence number while it has sent nothing but
    ///   SYNs: `connect()` was retried on a new socket before the handshake completed.
    /// Otherwise the SYN's sender is synchronized, the SYN is answered with a challenge ACK
    /// (RFC 5961 §4) and the connection goes on; a SYN with the side's own initial sequence
    /// number is a retransmission.
    func reuse(by seg: TCPSegment, from side: Side) -> TupleReuse? {
        guard seg.flags.contains(.syn), !seg.flags.contains(.ack), !seg.flags.contains(.rst) else { return nil }
        let sender = side == .orig ? orig : resp
        let receiver = side == .orig ? resp : orig
        if facts.endingRST != nil {
            guard facts.refused else { return .afterReset }
            return side == .orig && sender.sentSYN && seg.sequenceNumber == sender.isn ? .refusedSYNRepeated : .afterRefusal
        }
        if receiver.state == .timeWait {
            let seqAbove = sender.hasBase && seg.sequenceNumber > sender.sndNxt
            var tsNewer = false, pawsRejects = false
            if let ts = seg.options.timestampValue, sender.hasTimestamp {
                let age = Int32(bitPattern: sender.lastTimestamp &- ts)
                tsNewer = age < 0
                pawsRejects = age > 1   // Linux's TCP_PAWS_WINDOW
            }
            if pawsRejects { return nil }
            if seqAbove { return .aboveTimeWait }
            if tsNewer { return .newerTimestamp }
            return nil
        }
        if facts.isFinished || sender.state == .timeWait
            || (sender.state == .closed && receiver.state == .closed && sender.packets > 0) {
            return .afterClose
        }
        if sender.sentSYN && seg.sequenceNumber == sender.isn { return nil }  // a retransmitted SYN
        if side == .orig && sender.sentSYN && sender.packets == Int(sender.synCount) { return .connectRetried }
        return nil
    }

    // MARK: - Processing

    /// What a segment did to the connection (the tracker acts on it).
    enum Outcome {
        /// Applied; the connection goes on (or goes on lingering).
        case applied
        /// Applied, and it completed the connection's ending.
        case finished
        /// Not applied: a SYN opening a new connection on the 4-tuple; report this one and start anew.
        case newIncarnation(TupleReuse)
    }

    /// Applies one segment from whichever side sent it.
    mutating func process(_ seg: TCPSegment, time: Timestamp, packetNumber: Int) -> Outcome {
        let side: Side = orig.endpoint == seg.source ? .orig : .resp
        if let why = reuse(by: seg, from: side) { return .newIncarnation(why) }
        return process(seg, from: side, time: time, packetNumber: packetNumber) ? .finished : .applied
    }

    /// Applies one segment. Returns true when this segment completed the connection's ending.
    mutating func process(_ seg: TCPSegment, from side: Side, time: Timestamp, packetNumber: Int) -> Bool {
        // The latest time seen, not the last packet's: when the capture's clock went back, the
        // end stays at or after the start and a duration is never negative (docs/output.md).
        let previousNumber = lastPacketNumber == packetNumber ? 0 : lastPacketNumber, previousTime = end.nanoseconds
        if end < time { end = time }
        lastPacketNumber = packetNumber
        if seg.tunnel.route != 0 { tunnelRoutes.note(seg.tunnel.route, from: side) }
        let wasFinished = facts.isFinished
        var step = Step(side: side, recording: recordsEvents, time: time, packetNumber: packetNumber)

        // The sides and the facts are distinct stored properties: all three are updated in place.
        if side == .orig {
            Self.apply(seg, sender: &orig, receiver: &resp, facts: &facts, step: &step)
        } else {
            Self.apply(seg, sender: &resp, receiver: &orig, facts: &facts, step: &step)
        }
        Self.checkFinished(orig, resp, &facts)
        // What the trail takes from this packet, once `apply` has judged it: the moments that
        // matter are rare, so each is one test here on the common path.
        let flags = seg.flags
        let gap = previousNumber > 0 ? time.nanoseconds &- previousTime : 0
        // A keep-alive probe: no data, or one byte sent before, at one less than the sender's
        // next sequence number, no SYN, FIN or RST (tcp(7); Wireshark's `tcp.analysis.keep_alive`),
        // after a quiet moment (`Diagnosis.Threshold.keepAliveGap`: a segment close behind
        // another is not looked at, which keeps the test off the common path). Read after
        // `apply`, which such a segment leaves SND.NXT alone for; a byte sent before is a
        // retransmission, where a new byte at the edge would have moved SND.NXT past it.
        let len = seg.payloadLength
        var keepAlive = false
        if gap >= Diagnosis.Threshold.keepAliveGap {
            keepAlive = len <= 1 && (len == 0 || step.retransmission)
                && seg.sequenceNumber + 1 == (side == .orig ? orig.sndNxt : resp.sndNxt)
                && flags.isDisjoint(with: [.syn, .fin, .rst])
        }
        if flags.contains(.rst) || flags.contains(.syn) || step.retransmission || facts.zeroWindowHeld
            || (seg.window == 0 && !flags.contains(.rst)) || (facts.firstFINNumber == 0 && facts.firstFIN != nil)
            || (len > 0 && (side == .orig ? resp.fin : orig.fin) != .unsent)
            || keepAlive {
            noteMoment(seg, from: side, time: time, packetNumber: packetNumber, retransmission: step.retransmission,
                       keepAlive: keepAlive, previousNumber: previousNumber, previousTime: previousTime)
        }
        facts.previousGap = gap
        facts.previousLength = Int32(truncatingIfNeeded: seg.payloadLength)
        facts.previousFrom = side
        if zeek.observe(fromOriginator: (side == .orig) != zeekRolesSwapped, flags: seg.flags,
                        sequence: seg.sequenceNumber, acknowledgment: seg.acknowledgmentNumber,
                        payloadLength: seg.payloadLength, window: seg.window,
                        payloadCaptured: !seg.isTruncated) {
            zeekRolesSwapped.toggle()
        }

        if recordsEvents {
            // The row takes the step's arrays, and the two fields of each side it needs.
            let log = step.log.take() ?? Step.Log()
            let (senderHasBase, senderISN) = side == .orig ? (orig.hasBase, orig.isn) : (resp.hasBase, resp.isn)
            let (receiverHasBase, receiverISN) = side == .orig ? (resp.hasBase, resp.isn) : (orig.hasBase, orig.isn)
            let relAck: UInt32? = seg.flags.contains(.ack) && receiverHasBase
                ? seg.acknowledgmentNumber.relative(to: receiverISN) : nil
            let plain = log.transitions.isEmpty && log.notes.isEmpty && !step.retransmission
                && seg.flags.isDisjoint(with: [.syn, .fin, .rst]) && !seg.isTruncated
            let relSeq = senderHasBase ? seg.sequenceNumber.relative(to: senderISN) : 0
            if plain {
                events?.log.append(plain: PlainPacket(time: time, number: packetNumber, from: side, flags: seg.flags,
                                                      relativeSequence: relSeq, relativeAcknowledgment: relAck,
                                                      payloadLength: seg.payloadLength, window: seg.window,
                                                      origState: orig.state, respState: resp.state))
            } else {
                events?.log.append(PacketEvent(time: time, number: packetNumber, from: side, flags: seg.flags,
                                               relativeSequence: relSeq, relativeAcknowledgment: relAck,
                                               payloadLength: seg.payloadLength, window: seg.window,
                                               origState: orig.state, respState: resp.state,
                                               transitions: log.transitions, notes: log.notes,
                                               isRetransmission: step.retransmission, isTruncated: seg.isTruncated,
                                               rstValidity: step.rstValidity))
            }
        }
        return facts.isFinished && !wasFinished
    }

    /// Per-packet scratch: what changed, for the timeline row.
    struct Step {
        let side: Side
        /// The segment's capture time and packet number (an ending RST records them).
        let time: Timestamp
        let packetNumber: Int
        /// The row's transitions and notes; nil when events are not recorded (then a step
        /// holds no array, and there is nothing to release after every packet).
        var log: Log?
        var retransmission = false
        var rstValidity: RSTValidity?

        struct Log {
            var transitions: [StateTransition] = []
            var notes: [Note] = []
        }

        init(side: Side, recording: Bool, time: Timestamp, packetNumber: Int) {
            self.side = side
            self.time = time
            self.packetNumber = packetNumber
            self.log = recording ? Log() : nil
        }

        var recording: Bool { log != nil }
        var transitions: [StateTransition] { log?.transitions ?? [] }
        var notes: [Note] { log?.notes ?? [] }

        /// Adds a note to the row (when events are recorded).
        mutating func note(_ note: Note) {
            log?.notes.append(note)
        }
    }

    /// Passes one event about one side through the side's transition switch
    /// (`TCPState.next(on:)`, the one place where a state changes) and records a change on the
    /// packet's row. Returns whether the state changed.
    @inline(__always) @discardableResult
    private static func observe(_ event: SideEvent, _ t: inout SideTracker, _ who: Side, _ step: inout Step) -> Bool {
        let new = t.state.next(on: event)
        guard new != t.state else { return false }
        step.log?.transitions.append(StateTransition(side: who, from: t.state, to: new))
        t.state = new
        return true
    }

    private static func apply(_ seg: TCPSegment, sender s: inout SideTracker, receiver r: inout SideTracker,
                              facts f: inout Facts, step: inout Step) {
        let me = step.side, peer = step.side.other
        let flags = seg.flags
        let len = seg.payloadLength

        // Counters, as Wireshark counts them: per segment carrying the flag.
        s.packets += 1
        s.payloadBytes &+= UInt64(len)
        if flags.contains(.syn) && s.synCount < .max { s.synCount += 1 }
        if flags.contains(.fin) && s.finCount < .max { s.finCount += 1 }
        if flags.contains(.rst) && s.rstCount < .max { s.rstCount += 1 }
        if !flags.contains(.rst) {
            s.window = seg.window
            s.hasAdvertisedWindow = true
            if s.hopLimit != seg.hopLimit {
                if s.hopLimit == 0 { s.hopLimit = seg.hopLimit } else { s.hopLimitVaries = true }
            }
        }
        if let ts = seg.options.timestampValue {
            s.lastTimestamp = ts
            s.hasTimestamp = true
        }
        if seg.isTruncated { step.note(.truncated) }

        // Sequence base.
        if flags.contains(.syn) {
            if !s.sentSYN {
                s.setBase(isn: seg.sequenceNumber, fromSYN: true)
                s.announcedWindowScale = seg.options.windowScale
                if me == .orig && !flags.contains(.ack) { f.origSentSYN = true }
            } else if seg.sequenceNumber == s.isn {
                step.retransmission = true
                if me == .orig { f.synRetransmissions += 1 }
                step.note(.synRetransmitted(withACK: flags.contains(.ack)))
            } else if !flags.contains(.rst) {
                step.note(r.state == .timeWait ? .synInTimeWait : .synInConnection)
            }
        } else if !s.hasBase {
            // Joined mid-stream: pretend the ISN was just before the first byte seen.
            s.setBase(isn: SequenceNumber(seg.sequenceNumber.rawValue &- 1), fromSYN: false)
        }
        if flags.contains(.ack) && !r.hasBase {
            r.setBase(isn: SequenceNumber(seg.acknowledgmentNumber.rawValue &- 1), fromSYN: false)
        }

        // Rule 3 (FIFO): a segment sent after S's FIN means R has received that FIN.
        let payloadStart = seg.sequenceNumber + (flags.contains(.syn) ? 1 : 0)
        if s.fin == .sent && payloadStart > s.finSequence {
            s.fin = .delivered
            observe(.receiveFIN, &r, peer, &step)
        }

        // Payload accounting: new sequence space vs. retransmission. An RST occupies no
        // sequence space (RFC 9293 §3.10.7: it is judged, not queued), so it is left out here.
        let isRST = flags.contains(.rst)
        if len > 0 && !isRST {
            let segEnd = payloadStart + UInt32(truncatingIfNeeded: len)
            if segEnd > s.dataEnd {
                let from = payloadStart > s.dataEnd ? payloadStart : s.dataEnd
                let fresh = UInt64(max(0, Int64(segEnd.distance(from: from))))
                s.sent &+= fresh
                s.retransmitted &+= UInt64(len) &- min(UInt64(len), fresh)
                if fresh < UInt64(len) { step.retransmission = true; step.note(.partlyRetransmitted) }
                s.dataEnd = segEnd
                // A segment whose ACK covers the peer's FIN was sent after that FIN arrived, even
                // though Rule 1 below only records the arrival after this accounting.
                if r.fin >= .delivered || (flags.contains(.ack) && r.isFINCovered(by: seg.acknowledgmentNumber)) {
                    s.bytesAfterPeerFIN &+= fresh
                }
            } else {
                s.retransmitted &+= UInt64(len)
                step.retransmission = true
                step.note(.retransmission)
            }
            if s.fin != .unsent && payloadStart > s.finSequence {
                f.dataAfterOwnFIN = true
                step.note(.dataAfterOwnFIN)
            }
            if f.endingRST != nil { s.sentAfterRST = (s.sentAfterRST ?? 0) &+ UInt64(len) }
        }
        let seqEnd = seg.sequenceNumber + seg.sequenceLength
        if !isRST && seqEnd > s.sndNxt { s.sndNxt = seqEnd }

        if flags.contains(.ack) && (!s.hasAcked || seg.acknowledgmentNumber > s.highestAck) {
            s.previousAck = s.hasAcked ? s.highestAck : seg.acknowledgmentNumber
            s.hasAcked = true
            s.highestAck = seg.acknowledgmentNumber
        }

        if flags.contains(.rst) {
            handleRST(seg, sender: &s, receiver: &r, facts: &f, step: &step)
            return
        }

        // What the segment says its sender did.
        if flags.contains(.syn) && flags.contains(.ack) {
            if me == .resp { f.respSentSYNACK = true }
            // A SYN-ACK answers a SYN (§3.10.7.2): a peer that sent nothing captured had sent one.
            if !r.sentSYN && r.packets == 0 { observe(.sendSYN, &r, peer, &step) }
            observe(.sendSYNACK, &s, me, &step)
        } else if flags.contains(.syn) {
            observe(.sendSYN, &s, me, &step)
        } else if s.packets == 1 {
            // A side's first segment without SYN: the capture joined mid-stream, and both sides
            // were synchronized (the peer too, unless its own segments said otherwise already).
            if observe(.joinMidstream, &s, me, &step) { observe(.joinMidstream, &r, peer, &step) }
        } else if s.state == .synSent && flags.contains(.ack) && !r.sentSYN {
            // SYN-SENT sends an acknowledgment only once the peer's SYN-ACK has arrived
            // (§3.10.7.3): that SYN-ACK was not captured. The peer answered the SYN (LISTEN ->
            // SYN-RECEIVED, §3.10.7.2) and this acknowledgment is on its way to it.
            observe(.sendACKOfSYN, &s, me, &step)
            observe(.sendSYNACK, &r, peer, &step)
            observe(.receiveACKOfSYN, &r, peer, &step)
        } else if s.state == .synReceived && (len > 0 || flags.contains(.fin)
                    || (flags.contains(.ack) && r.hasBase && seg.acknowledgmentNumber > r.dataStart)) {
            // SYN-RECEIVED sends data or a FIN, or acknowledges data, only once its SYN-ACK was
            // acknowledged (§3.10.7.4, fifth step): the peer's acknowledgment was not captured.
            observe(.receiveACKOfSYN, &s, me, &step)
            if r.state == .synSent {
                observe(.sendACKOfSYN, &r, peer, &step)
            } else if r.state == .closed || r.state == .listen {
                observe(.joinMidstream, &r, peer, &step)
            }
        }

        // What this segment acknowledges.
        if flags.contains(.ack) {
            let ack = seg.acknowledgmentNumber
            // Rule 1: acknowledging R's FIN proves S received it.
            if r.fin == .sent && ack > r.finSequence {
                r.fin = .delivered
                observe(.receiveFIN, &s, me, &step)
            }
            // Rule 2: R receives the acknowledgment of its SYN ...
            let acksPeerSYN = r.sentSYN && ack.distance(from: r.isn) >= 1
            if acksPeerSYN {
                observe(flags.contains(.syn) ? .receiveSYNACK : .receiveACKOfSYN, &r, peer, &step)
            }
            // ... and of its FIN.
            // (Delivered just above if not before: the acknowledgment proves both.)
            if r.fin == .delivered && ack > r.finSequence {
                r.fin = .acknowledged
                observe(.receiveACKOfFIN, &r, peer, &step)
            }
            // S acknowledging R's SYN in a segment without SYN had R's SYN-ACK (the third segment).
            if acksPeerSYN && s.sentSYN && !flags.contains(.syn) {
                observe(.sendACKOfSYN, &s, me, &step)
            }
        }

        // Half-close: data from a side that had already received the peer's FIN.
        if len > 0 && r.fin >= .delivered && !step.retransmission && s.bytesAfterPeerFIN > 0 {
            step.note(.dataAfterPeerFIN)
        }

        // S's own FIN (RFC 9293 §3.10.4, CLOSE call).
        if flags.contains(.fin) {
            let finSeq = payloadStart + UInt32(truncatingIfNeeded: len)
            if s.fin != .unsent {
                if finSeq == s.finSequence {
                    step.retransmission = true
                    step.note(.finRetransmitted)
                } else {
                    step.note(.secondFIN)
                }
            } else {
                s.fin = .sent
                s.finSequence = finSeq
                s.ackAtFIN = s.highestAck
                let acksPeerFIN = flags.contains(.ack) && r.isFINCovered(by: seg.acknowledgmentNumber)
                if f.firstFIN == nil {
                    f.firstFIN = me
                } else if r.fin != .unsent && !acksPeerFIN {
                    f.finsCrossed = true
                    step.note(.finsCrossed)
                }
                if len > 0 { step.note(.finCarriesLastBytes(len)) }
                observe(.sendFIN, &s, me, &step)
            }
        }
    }

    private static func checkFinished(_ orig: SideTracker, _ resp: SideTracker, _ f: inout Facts) {
        guard !f.isFinished else { return }
        if orig.fin == .acknowledged && resp.fin == .acknowledged { f.isFinished = true }
    }

    // MARK: - RST

    /// Judges an RST as the receiver would (RFC 9293 §3.10.7.3 for SYN-SENT; RFC 5961 §3.2 otherwise).
    private static func judgeRST(_ seg: TCPSegment, sender s: SideTracker, receiver r: SideTracker) -> RSTValidity {
        if r.state == .synSent {
            // SYN-SENT: acceptable only if its ACK acknowledges our SYN.
            return seg.flags.contains(.ack) && seg.acknowledgmentNumber == r.isn + 1 ? .exact : .outOfWindow
        }
        guard s.hasBase else { return .unknown }
        let seq = seg.sequenceNumber
        // RCV.NXT of the receiver: everything the sender sent (assumed delivered), or what the
        // receiver last acknowledged, whichever matches.
        if seq == s.sndNxt || (r.hasAcked && seq == r.highestAck) { return .exact }
        guard r.hasAcked else { return .unknown }
        let scale = (r.announcedWindowScale != nil && s.announcedWindowScale != nil) ? min(14, Int(r.announcedWindowScale!)) : 0
        let wnd = Int64(r.window) << Int64(scale)
        let d = Int64(seq.distance(from: r.highestAck))
        if d > 0 && d < max(wnd, 1) { return .inWindow }
        return .outOfWindow
    }

    private static func handleRST(_ seg: TCPSegment, sender s: inout SideTracker, receiver r: inout SideTracker,
                                  facts f: inout Facts, step: inout Step) {
        let me = step.side, peer = step.side.other
        let shape: RSTShape = seg.flags.contains(.ack) ? .withACK : .bare
        if seg.flags.contains(.fin) { step.note(.finAndRST) }
        if let prior = f.endingRST {
            step.note(.rstAfterReset(sameSide: prior.from == me))
            step.rstValidity = .exact
            return
        }
        let validity = judgeRST(seg, sender: s, receiver: r)
        step.rstValidity = validity
        switch validity {
        case .inWindow:
            f.ignoredRSTs += 1
            step.note(.rstInWindow)
            return
        case .outOfWindow:
            f.ignoredRSTs += 1
            step.note(.rstOutOfWindow)
            return
        case .exact, .unknown:
            break
        }
        let acknowledged: UInt64? = shape == .withACK ? r.payloadCovered(by: seg.acknowledgmentNumber) : nil
        let info = RSTInfo(from: me, shape: shape, validity: validity, packetNumber: step.packetNumber,
                           time: step.time, acknowledged: acknowledged)
        let closedCleanly = s.fin != .unsent && r.fin != .unsent && f.isFinished
        if closedCleanly {
            f.lateRST = info
            f.lateRSTIntoTimeWait = r.state == .timeWait
            if r.state == .timeWait {
                step.note(.rstInTimeWait)
            } else {
                step.note(.rstAfterClose)
            }
            observe(.receiveRST, &r, peer, &step)
            observe(.sendRST, &s, me, &step)
            return
        }

        // The RST ends the connection: record what was in flight each way.
        if r.state == .synSent && me == .resp && !f.respSentSYNACK {
            f.refused = true
            step.note(.rstRefused)
        } else if shape == .withACK {
            step.note(.rstAborted(by: me))
        } else {
            // What it answered: the previous packet, when the other side's (not yet replaced;
            // the other side has sent none when this is the connection's first).
            step.note(.rstForMissingSocket(answeringData: r.packets > 0 && f.previousFrom != me ? f.previousLength > 0 : nil))
        }
        s.inFlightAtRST = s.sent &- min(s.sent, r.hasAcked ? s.payloadCovered(by: r.highestAck) : 0)
        r.inFlightAtRST = r.sent &- min(r.sent, s.hasAcked ? r.payloadCovered(by: s.highestAck) : 0)
        s.sentAfterRST = 0
        r.sentAfterRST = 0
        f.endingRST = info
        f.isFinished = true
        observe(.sendRST, &s, me, &step)
        observe(.receiveRST, &r, peer, &step)
    }
}
