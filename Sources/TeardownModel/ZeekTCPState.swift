import TeardownWire

/// Emulates Zeek's TCP analyzer for one connection, so that `connState` and `history`
/// agree with the `conn_state` and `history` columns of Zeek's conn.log.
///
/// Feed every segment of the connection in capture order. `fromOriginator` is relative
/// to the roles Zeek chose: start with `ZeekRoles.shouldFlip` for the first segment,
/// and when `observe` returns `true` Zeek has just flipped the roles (the SYN/SYN+ACK
/// reversal below), so from the next segment on the caller must swap its notion of
/// originator and responder.
///
/// The rules, as implemented (Zeek 6-8 sources; file names relative to zeek/zeek):
///
/// **Per packet** (`TCPSessionAdapter::Process`, src/packet_analysis/protocol/tcp/
/// TCPSessionAdapter.cc), in this order:
/// 1. `init_endpoint`: the first packet of a side fixes its initial sequence number
///    (the SYN's, or `seq - 1` without a SYN, "as though we saw a SYN"); a later SYN
///    re-initialises it in SYN_SENT (new seq), ESTABLISHED/PARTIAL, or RESET-after-nothing.
/// 2. `update_history` (letters upper case for the originator, lower case for the
///    responder; "once" letters are remembered per direction in one connection-wide
///    mask that a role flip does not swap):
///    - more than one of SYN/FIN/RST: `I` if FIN+RST, else `Q` (once);
///    - exactly one: SYN → `S`, or `H` with ACK; FIN → `F`; RST → `R`. Each is added the
///      first time, and again whenever its relative sequence number (for FIN: the end
///      of the segment's data) differs from the previous one of the same kind;
///    - none: payload → `D` (once); else ACK → `A` (once, a "pure ACK").
/// 3. `update_window`: a zero window → `W`, log-scaled (1st, 10th, 100th, ...), unless the
///    segment has RST, the sender already sent an RST, or the *peer* has sent a FIN.
/// 4. ACK processing (`init_peer`, `update_ack_seq`, not for RSTs), then
///    `update_last_seq`: a segment with payload that does not advance the highest
///    sequence number seen is a retransmission → `T`, log-scaled. (An RST's payload does
///    not count as sequence space, so an RST carrying data counts as a retransmission.)
/// 5. The endpoint state machine (`UpdateStateMachine` and its `Update*State`):
///    INACTIVE → SYN_SENT (SYN from the originator), SYN_ACK_SENT (SYN+ACK from the
///    originator), ESTABLISHED (SYN from the responder; it also moves a SYN_SENT
///    originator to ESTABLISHED), PARTIAL (anything else, except a zero-length ACK from
///    the responder while the originator is in SYN_SENT, which leaves it INACTIVE; and a
///    pure ACK from an originator whose SYN was missed while the responder is
///    ESTABLISHED, which makes it ESTABLISHED). FIN → CLOSED and RST → RESET from any
///    state but RESET; from CLOSED, an RST counts only if the peer is not CLOSED too.
///    A FIN from one side turns a peer that went CLOSED → RESET back into CLOSED.
///    A SYN (no ACK) from the responder while the originator is in SYN_ACK_SENT is a
///    SYN/SYN+ACK reversal: Zeek flips the roles and adds `^` (after the SYN's letter).
/// 6. Content gaps (TCP_Reassembler.cc, Reassembler.cc): when the peer acknowledges
///    sequence space of this side that was never seen (below the acknowledgment, capped
///    before the FIN), each hole is a gap → `G`, log-scaled, recorded only while both
///    sides are ESTABLISHED or closed cleanly from ESTABLISHED. Payload cut by the
///    snap length is never handed to the reassembler, so acknowledging it is a gap too.
///
/// **Bad checksums** (`TCPAnalyzer::ValidateChecksum`, TCP.cc): the segment is dropped
/// and `C` is recorded, log-scaled; see `observeBadChecksum(fromOriginator:)`.
///
/// **Role flips** (`Connection::FlipRoles`, src/Conn.cc) append `^` to the history.
///
/// **conn_state** (`conn_state()` in scripts/base/protocols/conn/main.zeek): see
/// `connState`.
/// What one segment asked of the timers Zeek keeps for its connection
/// (src/packet_analysis/protocol/tcp/TCPSessionAdapter.cc); `ZeekConnTracker` runs them.
public struct ZeekSegmentEffects: Sendable, Equatable {
    /// What `ConnectionClosed` scheduled when this segment closed one side (a FIN or an RST
    /// that `UpdateStateMachine` reports as a close).
    public enum Close: Sendable, Equatable {
        case none
        /// Both sides are done (an RST, the second FIN, or the peer never spoke): the analyzer's
        /// other timers are cancelled and the connection is removed `tcp_close_delay` after its
        /// last time (`ConnDeleteTimer`).
        case delete
        /// One side closed: look again `tcp_session_timer` after the last time (`ExpireTimer`).
        case expire
        /// A side never seen before closed: `PartialCloseTimer` (scheduled only when a script
        /// handles `connection_partial_close`, which Zeek's base scripts do not).
        case partialClose
    }

    /// The originator's first SYN: `AttemptTimer` in `tcp_attempt_delay`.
    public var attemptTimer = false
    /// An RST after this side's FIN, the peer not closed: `ResetTimer` in `tcp_reset_delay`.
    public var resetTimer = false
    public var close = Close.none
    /// The connection's last time moves to this segment's time (`SetLastTime`, skipped once
    /// both sides have closed: conn.log's duration leaves out trailing ACKs).
    public var setsLastTime = true

    public init() {}
}

public struct ZeekTCPState: Sendable {
    // The two endpoint objects. Zeek swaps its `orig`/`resp` pointers on a flip; here the
    // objects stay in their slots and `origIsFirst` says which slot is the originator.
    private var first = ZeekTCPEndpoint(isOrig: true)
    private var second = ZeekTCPEndpoint(isOrig: false)
    /// Everything that is not one endpoint's. Kept apart from `first` and `second` so that a
    /// segment updates all three in place (no copies of the endpoints per packet).
    private var session = Session()

    /// The connection-wide part of Zeek's state (`Connection` / `Session` / the
    /// `TCPSessionAdapter` fields). The per-packet steps below are its methods; they take the
    /// sending endpoint `e` and its peer `p` as `inout`.
    fileprivate struct Session {
        var origIsFirst = true
        /// `Connection::history`.
        var history = ZeekHistory()
        /// `Session::hist_seen`: once-only letters; responder bits are shifted left by 16.
        var histSeen: UInt32 = 0
        /// `TCPSessionAdapter::is_partial` (the connection did not start with a SYN).
        var isPartial = false
        /// `first_packet_seen` bits: 1 = originator, 2 = responder.
        var firstPacketSeen: UInt8 = 0
        /// How many times Zeek flipped the roles (at creation included).
        var flipCount = 0
        /// Bytes in content gaps of cleanly established connections (conn.log `missed_bytes`).
        var missedBytes: UInt64 = 0
        /// `TCPSessionAdapter::is_active`: cleared when the connection finished, was reset, or
        /// its attempt timed out; inactive connections stop rescheduling their expire timer.
        var isActive = true
        /// What the last segment asked of the connection's timers.
        var effects = ZeekSegmentEffects()
    }

    /// `Connection::history`.
    public var history: String { session.history.string }
    /// Bytes missed in content gaps while both sides were cleanly established (conn.log
    /// `missed_bytes`, the sum of Zeek's `content_gap` lengths).
    public var missedBytes: UInt64 { session.missedBytes }
    /// What the last segment passed to `observe` asked of Zeek's timers.
    public var effects: ZeekSegmentEffects { session.effects }
    /// `TCPSessionAdapter::is_active`.
    public var isActive: Bool { session.isActive }
    /// Clears `is_active` (`AttemptTimer`, `ConnectionReset` from `ResetTimer`).
    public mutating func deactivate() { session.isActive = false }
    /// `orig->did_close`: the originator's FIN or RST was reported as a close.
    public var originatorDidClose: Bool { originator.didClose }
    /// `resp->did_close`.
    public var responderDidClose: Bool { responder.didClose }
    /// `IsClosed()`: either side closed.
    public var isClosed: Bool { first.didClose || second.didClose }
    /// Both endpoints are still in handshake states (INACTIVE, SYN_SENT, SYN_ACK_SENT): the
    /// connection's inactivity timeout is still the one set at creation (`TCP_Endpoint::SetState`
    /// switches to `tcp_inactivity_timeout` on the transition that ends this).
    public var isInHandshake: Bool { Self.isHandshake(first.state) && Self.isHandshake(second.state) }

    private static func isHandshake(_ s: ZeekEndpointState) -> Bool {
        s == .inactive || s == .synSent || s == .synAckSent
    }

    /// `TCPSessionAdapter::IsReuse`: whether a segment arriving on this connection's 4-tuple
    /// starts a new connection instead (the old one is logged first). Only a SYN can: a SYN
    /// without ACK whose sequence number is not the originator's initial one (unless it is the
    /// SYN of a SYN/SYN-ACK reversal), or a SYN+ACK of a half connection whose responder's
    /// initial number differs; on a connection that has closed, any such SYN.
    public func isReuse(flags: TCPFlags, sequence: SequenceNumber) -> Bool {
        guard flags.contains(.syn) else { return false }
        var connOrig = originator
        if flags.contains(.ack) {
            guard originator.state == .inactive else { return false } // not a half connection
            connOrig = responder
        }
        if !isClosed {
            let seq = sequence.rawValue
            if seq == connOrig.startSeq32 { return false }
            if !flags.contains(.ack) && connOrig.state == .synAckSent && responder.state == .inactive
                && seq == responder.startSeq32 {
                return false // the SYN of a SYN/SYN-ACK reversal
            }
        }
        return true
    }
    /// How many times Zeek flipped the roles (at creation included).
    public var flipCount: Int { session.flipCount }

    /// A new connection. `rolesFlippedAtCreation` is `ZeekRoles.shouldFlip(...)` for the
    /// first segment; when true the history starts with `^`, as Zeek's does.
    public init(rolesFlippedAtCreation: Bool = false) {
        if rolesFlippedAtCreation {
            session.history.append(UInt8(ascii: "^"))
            session.flipCount = 1
        }
    }

    // MARK: - Results

    /// Zeek's `conn_state` for the connection as seen so far
    /// (`conn_state()`, scripts/base/protocols/conn/main.zeek):
    /// - responder RESET: REJ if the originator is SYN_SENT or SYN_ACK_SENT, or RESET with
    ///   both sizes 0; else RSTRH if the originator is INACTIVE/PARTIAL; else RSTR;
    /// - originator RESET: if the responder is INACTIVE/PARTIAL, RSTOS0 when the history
    ///   matches `^?S[^HAFGIQ]*R.*`, else OTH; otherwise RSTO;
    /// - both CLOSED: SF; originator CLOSED: SH if the responder is INACTIVE/PARTIAL,
    ///   else S2; responder CLOSED: SHR if the originator is INACTIVE/PARTIAL, else S3;
    /// - SYN_SENT and INACTIVE: S0; both ESTABLISHED: S1; anything else: OTH.
    public var connState: ZeekConnState {
        let os = originator.state
        let rs = responder.state
        let oInactive = os == .inactive || os == .partial
        let rInactive = rs == .inactive || rs == .partial
        if rs == .reset {
            if os == .synSent || os == .synAckSent || (os == .reset && originatorSize == 0 && responderSize == 0) {
                return .REJ
            }
            return oInactive ? .RSTRH : .RSTR
        }
        if os == .reset {
            if rInactive { return Self.looksLikeSYNThenRST(history) ? .RSTOS0 : .OTH }
            return .RSTO
        }
        if rs == .closed && os == .closed { return .SF }
        if os == .closed { return rInactive ? .SH : .S2 }
        if rs == .closed { return oInactive ? .SHR : .S3 }
        if os == .synSent && rs == .inactive { return .S0 }
        if os == .established && rs == .established { return .S1 }
        return .OTH
    }

    /// The originator's Zeek endpoint state (`c$orig$state`).
    public var originatorState: ZeekEndpointState { originator.state }
    /// The responder's Zeek endpoint state (`c$resp$state`).
    public var responderState: ZeekEndpointState { responder.state }
    /// `c$orig$size`: conn.log's `orig_bytes`.
    public var originatorSize: UInt64 { originator.size(peerState: responder.state) }
    /// `c$resp$size`: conn.log's `resp_bytes`.
    public var responderSize: UInt64 { responder.size(peerState: originator.state) }

    private var originator: ZeekTCPEndpoint { session.origIsFirst ? first : second }
    private var responder: ZeekTCPEndpoint { session.origIsFirst ? second : first }

    /// Zeek's pattern `/\^?S[^HAFGIQ]*R.*/` matched against the whole history.
    static func looksLikeSYNThenRST(_ history: String) -> Bool {
        var bytes = history.utf8.makeIterator()
        guard var c = bytes.next() else { return false }
        if c == UInt8(ascii: "^") {
            guard let next = bytes.next() else { return false }
            c = next
        }
        guard c == UInt8(ascii: "S") else { return false }
        while let b = bytes.next() {
            switch b {
            case UInt8(ascii: "R"): return true
            case UInt8(ascii: "H"), UInt8(ascii: "A"), UInt8(ascii: "F"), UInt8(ascii: "G"),
                 UInt8(ascii: "I"), UInt8(ascii: "Q"):
                return false
            default: continue
            }
        }
        return false
    }

    // MARK: - Input

    /// A segment that Zeek drops for a bad TCP checksum: only `C`/`c` (log-scaled) is
    /// recorded. Zeek validates checksums unless run with `-C` (ignore_checksums), and
    /// captures taken on the sending host often carry unfinished (offloaded) checksums.
    public mutating func observeBadChecksum(fromOriginator: Bool) {
        let inFirst = fromOriginator == session.origIsFirst
        let due = inFirst ? first.checksumErrors.increment() : second.checksumErrors.increment()
        if due { session.history.append(UInt8(ascii: fromOriginator ? "C" : "c")) }
    }

    /// Feeds one segment (with a valid checksum), in capture order.
    ///
    /// - Parameters:
    ///   - fromOriginator: the sender is the originator under the current roles.
    ///   - payloadLength: TCP payload length from the IP length.
    ///   - window: the raw (unscaled) window field.
    ///   - payloadCaptured: false when the snap length cut the payload; Zeek then does not
    ///     reassemble it, and acknowledging it later shows up as a gap.
    /// - Returns: true if Zeek flipped the roles on this segment: from the next segment
    ///   on, the side that was the responder is the originator.
    @discardableResult
    public mutating func observe(fromOriginator isOrig: Bool, flags: TCPFlags, sequence: SequenceNumber,
                                 acknowledgment: SequenceNumber, payloadLength: Int, window: UInt16,
                                 payloadCaptured: Bool = true) -> Bool {
        // The endpoints never change slots; the sender's slot is passed as `e`, its peer's as `p`.
        let flipsBefore = session.flipCount
        if isOrig == session.origIsFirst {
            session.process(isOrig: isOrig, e: &first, p: &second, flags: flags, baseSeq: sequence.rawValue,
                            ackSeq: acknowledgment.rawValue, len: max(0, payloadLength), window: window,
                            payloadCaptured: payloadCaptured)
        } else {
            session.process(isOrig: isOrig, e: &second, p: &first, flags: flags, baseSeq: sequence.rawValue,
                            ackSeq: acknowledgment.rawValue, len: max(0, payloadLength), window: window,
                            payloadCaptured: payloadCaptured)
        }
        return session.flipCount != flipsBefore
    }
}

extension ZeekTCPState.Session {

    // MARK: - TCPSessionAdapter::Process

    private static let tooLargeSeqDelta: Int32 = 1_048_576
    /// `tcp_max_initial_window` (init-bare.zeek).
    private static let maxInitialWindow: UInt64 = 16_384
    /// `tcp_max_above_hole_without_any_acks` (init-bare.zeek).
    private static let maxAboveHoleWithoutAnyAcks: UInt64 = 16_384
    /// `tcp_excessive_data_without_further_acks` (init-bare.zeek).
    private static let excessiveDataWithoutFurtherAcks: UInt64 = 10 * 1024 * 1024

    private static func seqDelta(_ a: UInt32, _ b: UInt32) -> Int32 { Int32(bitPattern: a &- b) }

    fileprivate mutating func process(isOrig: Bool, e: inout ZeekTCPEndpoint, p: inout ZeekTCPEndpoint,
                                  flags: TCPFlags, baseSeq: UInt32, ackSeq: UInt32, len: Int,
                                  window: UInt16, payloadCaptured: Bool) {
        let syn = flags.contains(.syn), fin = flags.contains(.fin)
        let rst = flags.contains(.rst), ack = flags.contains(.ack)
        effects = ZeekSegmentEffects()
        // `SetLastTime` unless both sides closed (did_close changes only in ConnectionClosed,
        // at the end of this segment, so it reads the same here as where Zeek reads it).
        effects.setsLastTime = !(e.didClose && p.didClose)

        setPartialStatus(flags, endpointIsOrig: e.isOrig)

        // get_segment_len: SYN and FIN take one octet each; an RST's payload is not stream data.
        var segLen = len
        if syn { segLen += 1 }
        if fin { segLen += 1 }
        if rst { segLen -= len }
        let seqOnePast = baseSeq &+ UInt32(truncatingIfNeeded: segLen)

        Self.initEndpoint(&e, flags, firstSegSeq: baseSeq, lastSeq: seqOnePast)

        var seqUnderflow = false
        let relSeq = Self.relativeSeq(start: e.startSeq, curBase: baseSeq, last: e.lastSeq, wraps: e.seqWraps, underflow: &seqUnderflow)

        updateHistory(flags, endpoint: &e, relSeq: relSeq, len: len)

        // update_window: only the zero-window test matters here (window << scale is zero
        // exactly when the raw window is zero).
        if window == 0 && !rst && p.state != .closed && e.state != .reset {
            if e.zeroWindows.increment() { history.append(e.isOrig ? "W" : "w") }
        }

        if fin {
            e.finCount += 1
            e.finSeq = relSeq &+ UInt64(bitPattern: Int64(segLen))
        }
        if rst { e.rstCount += 1 }

        var relAck: UInt64 = 0
        if ack {
            if p.state == .inactive {
                relAck = 1
                // init_peer: number the peer as if its SYN had been seen.
                p.initStart(ackSeq &- 1)
                p.ackSeq = ackSeq &- 1
                p.lastSeq = ackSeq &- 1
            } else {
                var ackUnderflow = false
                relAck = Self.relativeSeq(start: p.startSeq, curBase: ackSeq, last: p.ackSeq, wraps: p.ackWraps, underflow: &ackUnderflow)
                if ackUnderflow {
                    relAck = 0
                } else if !rst {
                    // update_ack_seq; acks in RST packets are not trusted.
                    let deltaAck = Self.seqDelta(ackSeq, p.ackSeq)
                    if ackSeq == 0 && deltaAck > Self.tooLargeSeqDelta {
                        // More likely a broken ack than a wrap landing on 0.
                    } else if deltaAck > 0 {
                        p.updateAckSeq(ackSeq)
                    }
                }
            }
        }

        updateLastSeq(&e, lastSeq: seqOnePast, flags: flags, len: len)

        var doClose = false, genEvent = false
        updateStateMachine(isOrig: isOrig, e: &e, p: &p, flags: flags, baseSeq: baseSeq, len: len,
                           doClose: &doClose, genEvent: &genEvent)

        // The peer is passed as the one fact these steps read of it, not copied whole.
        if ack { ackReceived(&p, peerIsClean: e.isClean, seq: relAck) }

        // CheckPIA_FirstPacket (uses the packet's direction as it arrived).
        firstPacketSeen |= isOrig ? 1 : 2

        let relDataSeq = syn ? relSeq &+ 1 : relSeq
        if len > 0 && !rst && !seqUnderflow && payloadCaptured {
            dataSent(&e, peerState: p.state, seq: relDataSeq, len: UInt64(len))
        }

        // After DataSent, so that data carried with a FIN counts first.
        if doClose { connectionClosed(&e, &p, genEvent: genEvent) }
    }

    /// `ConnectionClosed`: the sender's side is closed; either the whole connection is done
    /// (remove it after `tcp_close_delay`) or a timer looks again later. Zeek defers this
    /// while the reassembler holds data not yet delivered (`DataPending`); teardown delivers
    /// nothing to analyzers, so it never defers.
    private mutating func connectionClosed(_ e: inout ZeekTCPEndpoint, _ p: inout ZeekTCPEndpoint, genEvent: Bool) {
        if e.didClose { return } // nothing new to report
        e.didClose = true
        let closeComplete = e.state == .reset || p.didClose || p.state == .inactive
        if closeComplete {
            if (e.prevState != .inactive || p.state != .inactive) && genEvent {
                isActive = false // ConnectionFinished
            }
            effects.close = .delete
        } else if e.prevState == .inactive {
            effects.close = .partialClose
        } else {
            effects.close = .expire
        }
    }

    /// `SetPartialStatus`.
    private mutating func setPartialStatus(_ flags: TCPFlags, endpointIsOrig: Bool) {
        let syn = flags.contains(.syn), ack = flags.contains(.ack)
        if endpointIsOrig {
            if firstPacketSeen & 1 == 0 { isPartial = !syn || ack }
        } else {
            if firstPacketSeen & 2 == 0 && !isPartial { isPartial = !syn }
        }
    }

    /// `init_endpoint`.
    private static func initEndpoint(_ e: inout ZeekTCPEndpoint, _ flags: TCPFlags, firstSegSeq: UInt32, lastSeq: UInt32) {
        let syn = flags.contains(.syn)
        switch e.state {
        case .inactive:
            if syn {
                e.ackSeq = firstSegSeq
                e.initStart(firstSegSeq)
                e.lastSeq = lastSeq
            } else {
                // A partial connection: number as though a SYN preceded this segment,
                // and do not let this first segment look like a duplicate.
                e.ackSeq = firstSegSeq &- 1
                e.initStart(firstSegSeq &- 1)
                e.lastSeq = firstSegSeq
            }
        case .synSent, .synAckSent:
            if syn && firstSegSeq != e.startSeq32 {
                e.initStart(firstSegSeq)
                e.ackSeq = firstSegSeq
                e.lastSeq = lastSeq
            }
        case .established, .partial:
            if syn {
                e.initStart(firstSegSeq)
                e.ackSeq = firstSegSeq
                e.lastSeq = lastSeq
            }
        case .reset:
            if syn && e.prevState == .inactive {
                e.initStart(firstSegSeq)
                e.ackSeq = firstSegSeq
                e.lastSeq = lastSeq
            }
        case .closed:
            break
        }
    }

    /// `get_relative_seq`: the sequence number relative to the endpoint's start, in the
    /// 64-bit space; `underflow` when it lies before the start. Takes the endpoint's `startSeq`
    /// alone, as the caller holds the endpoint `inout`.
    private static func relativeSeq(start: Int64, curBase: UInt32, last: UInt32, wraps: UInt32,
                                    underflow: inout Bool) -> UInt64 {
        var wraps = wraps
        let delta = seqDelta(curBase, last)
        if delta < 0 {
            if wraps != 0 && curBase > last { wraps -= 1 }
        } else if delta > 0 {
            if curBase < last { wraps &+= 1 }
        }
        if wraps == 0 {
            let d = seqDelta(curBase, UInt32(truncatingIfNeeded: start))
            if d < 0 { underflow = true }
            return UInt64(bitPattern: Int64(d))
        }
        return ZeekTCPEndpoint.relativeSeqSpace(curBase, wraps: wraps, start: start)
    }

    /// `Session::CheckHistory` via `TCP_Endpoint::CheckHistory`: adds the letter the first
    /// time; returns whether it had been seen before.
    private mutating func checkHistory(_ mask: UInt32, _ code: Unicode.Scalar, isOrig: Bool) -> Bool {
        let m = isOrig ? mask : mask << 16
        if histSeen & m == 0 {
            histSeen |= m
            history.append(isOrig ? code : Self.lower(code))
            return false
        }
        return true
    }

    private static func lower(_ c: Unicode.Scalar) -> Unicode.Scalar {
        guard c.value >= 65, c.value <= 90 else { return c }
        return Unicode.Scalar(UInt8(truncatingIfNeeded: c.value) + 32)
    }

    private static let histSYN: UInt32 = 0x1, histFIN: UInt32 = 0x2, histRST: UInt32 = 0x4
    private static let histFINRST: UInt32 = 0x8, histData: UInt32 = 0x10, histACK: UInt32 = 0x20
    private static let histMultiFlag: UInt32 = 0x40

    /// `update_history`.
    private mutating func updateHistory(_ flags: TCPFlags, endpoint e: inout ZeekTCPEndpoint, relSeq: UInt64, len: Int) {
        let syn = flags.contains(.syn), fin = flags.contains(.fin)
        let rst = flags.contains(.rst), ack = flags.contains(.ack)
        let bitsSet = (syn ? 1 : 0) + (fin ? 1 : 0) + (rst ? 1 : 0)
        let o = e.isOrig
        if bitsSet > 1 {
            if fin && rst {
                _ = checkHistory(Self.histFINRST, "I", isOrig: o)
            } else {
                _ = checkHistory(Self.histMultiFlag, "Q", isOrig: o)
            }
        } else if bitsSet == 1 {
            if syn {
                let code: Unicode.Scalar = ack ? "H" : "S"
                if checkHistory(Self.histSYN, code, isOrig: o) && relSeq != e.histLastSYN {
                    history.append(o ? code : Self.lower(code))
                }
                e.histLastSYN = relSeq
            }
            if fin {
                // A FIN's sequence number is taken at the end of the segment's data.
                let finAt = relSeq &+ UInt64(len)
                if checkHistory(Self.histFIN, "F", isOrig: o) && finAt != e.histLastFIN {
                    history.append(o ? "F" : "f")
                }
                e.histLastFIN = finAt
            }
            if rst {
                if checkHistory(Self.histRST, "R", isOrig: o) && relSeq != e.histLastRST {
                    history.append(o ? "R" : "r")
                }
                e.histLastRST = relSeq
            }
        } else {
            if len > 0 {
                _ = checkHistory(Self.histData, "D", isOrig: o)
            } else if ack {
                _ = checkHistory(Self.histACK, "A", isOrig: o)
            }
        }
    }

    /// `update_last_seq`: moves the highest sequence number seen, or counts a retransmission.
    /// (Zeek also returns how far it moved, `delta_last`, for weirds only.)
    private mutating func updateLastSeq(_ e: inout ZeekTCPEndpoint, lastSeq: UInt32, flags: TCPFlags, len: Int) {
        let deltaLast = Self.seqDelta(lastSeq, e.lastSeq)
        if flags.contains(.syn) || flags.contains(.rst),
           deltaLast > Self.tooLargeSeqDelta || deltaLast < -Self.tooLargeSeqDelta {
            // Implausible SYN/RST sequence numbers are not trusted.
        } else if flags.contains(.fin) && e.lastSeq == e.startSeq32 &+ 1 {
            // Only the SYN seen so far (> 2 GB connections): trust the FIN.
            e.updateLastSeq(lastSeq)
        } else if e.state == .reset {
            // Nothing after an RST is trusted.
        } else if deltaLast > 0 {
            e.updateLastSeq(lastSeq)
        } else if len > 0 {
            // Payload that does not advance the sequence space: a retransmission.
            if e.retransmissions.increment() { history.append(e.isOrig ? "T" : "t") }
        }
    }

    // MARK: - UpdateStateMachine

    /// `UpdateStateMachine`: the flags travel as one value, as Zeek passes `TCP_Flags`.
    private mutating func updateStateMachine(isOrig: Bool, e: inout ZeekTCPEndpoint, p: inout ZeekTCPEndpoint,
                                             flags: TCPFlags, baseSeq: UInt32, len: Int,
                                             doClose: inout Bool, genEvent: inout Bool) {
        let syn = flags.contains(.syn), fin = flags.contains(.fin)
        let rst = flags.contains(.rst), ack = flags.contains(.ack)
        switch e.state {
        case .inactive:
            updateInactiveState(isOrig: isOrig, e: &e, p: &p, flags: flags, baseSeq: baseSeq, len: len,
                                doClose: &doClose, genEvent: &genEvent)
        case .synSent, .synAckSent:
            // UpdateSYN_SentState.
            if fin {
                e.setState(.closed)
                doClose = true; genEvent = true
            }
            if rst {
                e.setState(.reset)
                isActive = false // ConnectionReset
                doClose = true
            }
        case .established, .partial:
            // UpdateEstablishedState.
            if syn && e.state == .partial && p.state == .inactive && !ack {
                e.setState(.synSent) // SYN_after_partial
            }
            if fin && !rst {
                e.setState(.closed)
                if p.state == .reset && p.prevState == .closed {
                    // The peer sent FIN then RST: that was a normal termination after all.
                    p.setState(.closed)
                }
                doClose = true; genEvent = true
            }
            if rst {
                e.setState(.reset)
                doClose = true
                if p.state != .reset || p.prevState != .established { isActive = false } // ConnectionReset
            }
        case .closed:
            // UpdateClosedState: after a FIN exchange an RST changes nothing.
            if rst && p.state != .closed {
                e.setState(.reset)
                if !e.didClose { doClose = true } // RST after FIN
                effects.resetTimer = true
            }
        case .reset:
            break // UpdateResetState only reports weirds.
        }
    }

    /// `UpdateInactiveState`.
    private mutating func updateInactiveState(isOrig: Bool, e: inout ZeekTCPEndpoint, p: inout ZeekTCPEndpoint,
                                              flags: TCPFlags, baseSeq: UInt32, len: Int,
                                              doClose: inout Bool, genEvent: inout Bool) {
        let syn = flags.contains(.syn), fin = flags.contains(.fin)
        let rst = flags.contains(.rst), ack = flags.contains(.ack)
        if syn {
            if isOrig {
                e.setState(ack ? .synAckSent : .synSent)
                effects.attemptTimer = true
            } else {
                if ack {
                    // A SYN+ACK: only a weird if it acknowledges the wrong thing.
                } else if p.state == .synAckSent && baseSeq == e.startSeq32 {
                    // SYN/SYN+ACK reversal: flip the endpoints and establish the connection.
                    isPartial = false
                    flipRoles(&e, &p)
                    p.setState(.established)
                    firstPacketSeen |= 1 // SetFirstPacketSeen(true)
                } else {
                    // simultaneous_open
                }
                if p.state == .synSent { p.setState(.established) }
                e.setState(.established)
            }
        }
        if fin {
            e.setState(.closed)
            doClose = true; genEvent = true
        }
        if rst {
            e.setState(.reset)
            // A reject (the responder refusing a SYN, or a reverse scan) raises no close event.
            let isReject = isOrig ? p.state == .established : (p.state == .synSent || p.state == .synAckSent)
            doClose = true
            genEvent = !isReject
        }

        if e.state == .inactive {
            // No control flags changed the state.
            let origState = e.isOrig ? e.state : p.state
            if !isOrig && len == 0 && origState == .synSent {
                // Some TCPs ACK a SYN before sending their SYN+ACK: not a partial connection.
            } else if ack && p.state == .established {
                // The SYN was missed, but the SYN+ACK and now this ACK were seen.
                e.setState(.established)
                isPartial = false
                firstPacketSeen |= isOrig ? 1 : 2
            } else {
                e.setState(.partial)
            }
        }
    }

    /// `TCPSessionAdapter::FlipRoles` + `Connection::FlipRoles`: swap the roles, toggle the
    /// endpoints' `is_orig`, swap the first-packet bits, and record `^`.
    private mutating func flipRoles(_ e: inout ZeekTCPEndpoint, _ p: inout ZeekTCPEndpoint) {
        origIsFirst.toggle()
        e.isOrig.toggle()
        p.isOrig.toggle()
        let o = firstPacketSeen & 1, r = firstPacketSeen & 2
        firstPacketSeen = (o != 0 ? 2 : 0) | (r != 0 ? 1 : 0)
        isPartial = false
        history.append("^")
        flipCount += 1
    }

    // MARK: - TCP_Reassembler (content gaps)

    /// `TCP_Reassembler::DataSent` + `Reassembler::NewBlock` + `BlockInserted`.
    private mutating func dataSent(_ e: inout ZeekTCPEndpoint, peerState: ZeekEndpointState, seq: UInt64, len: UInt64) {
        if e.skipDeliveries { return }
        var seq = seq
        let upper = seq &+ len
        // Data the peer already acknowledged is dropped or trimmed.
        let acked = e.relativeSeqSpace(e.ackSeq, wraps: e.ackWraps)
        if seq < acked {
            if upper <= acked { return }
            seq = acked
        }
        // NewBlock: old data below trim_seq is ignored.
        if upper <= e.trimSeq { return }
        if seq < e.trimSeq { seq = e.trimSeq }
        if seq < upper { Self.insertBlock(&e, lower: seq, upper: upper) }
        // BlockInserted: deliver whatever is now contiguous.
        let deliveredBefore = e.lastReassemSeq
        Self.deliverContiguous(&e)
        if e.lastReassemSeq != deliveredBefore && e.noDataAcked
            && e.size(peerState: peerState) > Self.maxInitialWindow {
            // Lots of data and no acks: presume the acks are not visible; stop holding data.
            e.trimSeq = max(e.trimSeq, e.lastReassemSeq)
        }

        if e.noDataAcked {
            let undelivered = e.blocks.last.map { $0.upper &- e.lastReassemSeq } ?? 0
            if undelivered > Self.maxAboveHoleWithoutAnyAcks {
                e.blocks.removeAll(keepingCapacity: true)
                e.skipDeliveries = true
                return
            }
        }
        // Buffered = delivered but not yet acknowledged + undelivered.
        let floor = max(e.trimSeq, 1)
        var buffered = e.lastReassemSeq > floor ? e.lastReassemSeq - floor : 0
        for b in e.blocks { buffered &+= b.upper &- b.lower }
        if buffered > Self.excessiveDataWithoutFurtherAcks {
            e.blocks.removeAll(keepingCapacity: true)
            e.skipDeliveries = true
        }
    }

    /// Records [lower, upper) above `lastReassemSeq`, merging with overlapping or adjacent blocks.
    private static func insertBlock(_ e: inout ZeekTCPEndpoint, lower: UInt64, upper: UInt64) {
        if upper <= e.lastReassemSeq { return } // already delivered
        if e.blocks.isEmpty && lower <= e.lastReassemSeq {
            // In-order data with nothing buffered (the common case): the block would be
            // inserted and delivered at once by `deliverContiguous`; deliver it directly.
            e.lastReassemSeq = upper
            return
        }
        var lo = max(lower, e.lastReassemSeq)
        var hi = upper
        var i = 0
        while i < e.blocks.count && e.blocks[i].upper < lo { i += 1 }
        while i < e.blocks.count && e.blocks[i].lower <= hi {
            lo = min(lo, e.blocks[i].lower)
            hi = max(hi, e.blocks[i].upper)
            e.blocks.remove(at: i)
        }
        e.blocks.insert((lo, hi), at: i)
    }

    /// Moves `lastReassemSeq` over blocks that start at or below it.
    private static func deliverContiguous(_ e: inout ZeekTCPEndpoint) {
        while let b = e.blocks.first, b.lower <= e.lastReassemSeq {
            if b.upper > e.lastReassemSeq { e.lastReassemSeq = b.upper }
            e.blocks.removeFirst()
        }
    }

    /// `TCP_Endpoint::AckReceived` → `TCP_Reassembler::AckReceived` → `TrimToSeq`
    /// (→ `Undelivered` for sequence space never seen).
    private mutating func ackReceived(_ e: inout ZeekTCPEndpoint, peerIsClean: Bool, seq: UInt64) {
        var seq = seq
        // The FIN's octet is not data.
        if e.finCount > 0 && seq >= e.finSeq { seq = e.finSeq &- 1 }
        if seq <= e.trimSeq { return }
        if seq > e.lastReassemSeq { undelivered(&e, peerIsClean: peerIsClean, upTo: seq) }
        while let b = e.blocks.first, b.upper <= seq, b.lower < seq { e.blocks.removeFirst() }
        e.trimSeq = seq
    }

    /// `TCP_Reassembler::Undelivered`: every hole below `upTo` is a content gap.
    private mutating func undelivered(_ e: inout ZeekTCPEndpoint, peerIsClean: Bool, upTo: UInt64) {
        if upTo <= 2 && isPartial {
            // The first ack of a partial connection: the faked initial numbers make it look
            // like a gap of one octet (or of a keep-alive's octet). Ignored, without moving on.
            return
        }
        if !e.skipDeliveries {
            while let b = e.blocks.first, b.lower < upTo {
                if b.lower > e.lastReassemSeq { gap(&e, peerIsClean: peerIsClean, length: b.lower - e.lastReassemSeq) }
                e.lastReassemSeq = max(e.lastReassemSeq, b.upper)
                e.blocks.removeFirst()
                Self.deliverContiguous(&e)
            }
            if upTo > e.lastReassemSeq { gap(&e, peerIsClean: peerIsClean, length: upTo - e.lastReassemSeq) }
        }
        if upTo > e.lastReassemSeq { e.lastReassemSeq = upTo }
    }

    /// `TCP_Reassembler::Gap` → `TCP_Endpoint::Gap`: only for cleanly established connections,
    /// which is also when conn.log's `missed_bytes` counts the gap (`content_gap`, raised under
    /// `report_gap`, whose `report_gaps_for_partial` is false by default).
    private mutating func gap(_ e: inout ZeekTCPEndpoint, peerIsClean: Bool, length: UInt64) {
        guard e.isClean && peerIsClean else { return }
        missedBytes &+= length
        if e.gaps.increment() { history.append(e.isOrig ? "G" : "g") }
    }
}
