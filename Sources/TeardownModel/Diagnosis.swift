import TeardownWire

/// Why a connection ended as it did, in one of the patterns people meet in production (issue
/// 16, docs/diagnoses.md): a stable code, the packets that show it, how sure the packets make
/// it, and the numbers measured (`Finding`). Model decides and measures; Render words it, with
/// what to change.
public struct Diagnosis: Sendable, Hashable {
    /// The codes, as JSON writes them and `replay --diagnosis` takes them. A code is never
    /// renamed or given another meaning.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        case keepaliveRace = "keepalive-race"
        case idleTimeoutReset = "idle-timeout-reset"
        case closeUnreadRequest = "close-unread-request"
        case closeWaitLeak = "close-wait-leak"
        case middleboxReset = "middlebox-reset"
        case zeroWindowAbort = "zero-window-abort"
        case peerRestarted = "peer-restarted"
        case retransmissionGiveUp = "retransmission-give-up"
        case timeWaitAssassination = "time-wait-assassination"
        case harmlessReset = "harmless-reset"
        case listenOverflow = "listen-overflow"
    }

    /// How far the packets settle it. Lowered one step when the capture holds one direction
    /// only or started mid-connection.
    public enum Confidence: String, Sendable, Hashable, CaseIterable {
        case high, medium, low

        var lowered: Confidence { self == .high ? .medium : .low }
    }

    /// What was measured, per code. Durations in nanoseconds of packet time.
    public enum Finding: Sendable, Hashable {
        /// `closer` closed (FIN) after `idle` without a packet, while `requester` sent
        /// `requestBytes` of new data; `closer`'s TCP answered with an RST.
        case keepaliveRace(closer: Side, idle: Int64, requestBytes: Int)
        /// `closer` sent `responseBytes` and closed while `unreadBytes` of its peer's data were
        /// unread, as the socket calls show (nil: known from the kernel's reason alone), so its
        /// close sent an RST; `inFlight` of its bytes were unacknowledged then. `kernelReason`:
        /// the kernel lane gave the RST the reason TCP_ABORT_ON_CLOSE.
        case closeUnreadRequest(closer: Side, unreadBytes: UInt64?, responseBytes: UInt64, inFlight: UInt64?, kernelReason: Bool = false)
        /// `closer`'s FIN was acknowledged, and its peer sent nothing and never closed for
        /// `silence`: until the input's end (`atEnd`), or until the idle timeout reported it.
        case closeWaitLeak(closer: Side, silence: Int64, atEnd: Bool)
        /// The RST that claims to come from `resetter` was sent by something on the path: its
        /// TTL or hop limit `rstHopLimit` differs from the `sideHopLimit` all of `resetter`'s
        /// other segments carried (0: not compared), and/or `resetter` sent `bytesAfter` bytes
        /// after it, which a TCP that reset cannot; `notSentHere`: the kernel lane traced
        /// `resetter`'s socket on this host and no reset of this host accounts for the RST.
        case middleboxReset(resetter: Side, rstHopLimit: UInt8, sideHopLimit: UInt8, bytesAfter: UInt64, notSentHere: Bool = false)
        /// An RST from `resetter` after `silence` without a packet: answering the peer's first
        /// segment after it (`prompted`: its data, or its keep-alive probe, `probes`), or
        /// unprompted. `probes` nil: none was seen in the silence.
        case idleTimeoutReset(resetter: Side, silence: Int64, prompted: Bool, fromPath: Bool, probes: KeepAliveProbes? = nil)
        /// `sender` was silent for `silence`, then sent `segments` segments over `span` and the
        /// peer answered none: retransmissions of its first segment after the silence, or
        /// (`keepAlive`) keep-alive probes; then it reset the connection (`reset`) or sent
        /// nothing more. A path that dropped the connection's state in the silence and drops
        /// what it no longer knows. Code `idle-timeout-reset`.
        case idleTimeoutDrop(sender: Side, silence: Int64, segments: Int, span: Int64, reset: Bool, keepAlive: Bool)
        /// `receiver` advertised a zero window for `duration` until `resetter`'s RST; its peer
        /// sent `probes` segments into it.
        case zeroWindowAbort(receiver: Side, resetter: Side, duration: Int64, probes: Int)
        /// A bare RST from `resetter`, which had sent no FIN, answered `bytes` of the peer's data
        /// that came after `silence`.
        case peerRestarted(resetter: Side, silence: Int64, bytes: Int)
        /// `sender` sent one segment `retransmissions` more times over `span`, the gaps growing
        /// from `firstGap` to `lastGap`, unanswered; then reset (`reset`) or sent nothing more.
        /// `timedOut`: the kernel lane shows `sender`'s socket closing with ETIMEDOUT after the
        /// last retransmission (its TCP gave up, sending nothing).
        case retransmissionGiveUp(sender: Side, retransmissions: Int, span: Int64, firstGap: Int64, lastGap: Int64, reset: Bool, timedOut: Bool = false)
        /// An RST from `resetter` ended `timeWaitSide`'s TIME-WAIT (RFC 1337).
        case timeWaitRST(resetter: Side, timeWaitSide: Side)
        /// A SYN opened this connection while a side of connection `previous` on the same 4-tuple
        /// was in TIME-WAIT, accepted for `why` (RFC 6191).
        case timeWaitSYN(previous: Int, why: TupleReuse)
        /// An RST from `resetter` that destroyed nothing: after both FINs were acknowledged
        /// (`afterClose`), or after its own FIN with every byte acknowledged both ways.
        case harmlessReset(resetter: Side, afterClose: Bool)
        /// The responder repeated its SYN-ACK `repeats` times after the originator had
        /// acknowledged it; or (`repeats` 0) reset the completed handshake having sent nothing else.
        case listenOverflow(repeats: Int)
    }

    /// Keep-alive probes seen (`EndingTrail.KeepAliveRun`): `count` from `from`, the first after
    /// `idle` of silence, then every `interval` (0: one probe).
    public struct KeepAliveProbes: Sendable, Hashable {
        public var from: Side
        public var count: Int
        public var idle: Int64
        public var interval: Int64
        public init(from: Side, count: Int, idle: Int64, interval: Int64) {
            self.from = from; self.count = count; self.idle = idle; self.interval = interval
        }
    }

    public var finding: Finding
    /// Packet numbers (within the file) that show it, in order.
    public var evidence: [Int]
    public var confidence: Confidence

    public init(_ finding: Finding, evidence: [Int], confidence: Confidence) {
        self.finding = finding
        var e = evidence.filter { $0 > 0 }
        e.sort()
        var unique: [Int] = []
        for n in e where unique.last != n { unique.append(n) }
        self.evidence = unique
        self.confidence = confidence
    }

    public var code: Code {
        switch finding {
        case .keepaliveRace: return .keepaliveRace
        case .idleTimeoutReset, .idleTimeoutDrop: return .idleTimeoutReset
        case .closeUnreadRequest: return .closeUnreadRequest
        case .closeWaitLeak: return .closeWaitLeak
        case .middleboxReset: return .middleboxReset
        case .zeroWindowAbort: return .zeroWindowAbort
        case .peerRestarted: return .peerRestarted
        case .retransmissionGiveUp: return .retransmissionGiveUp
        case .timeWaitRST, .timeWaitSYN: return .timeWaitAssassination
        case .harmlessReset: return .harmlessReset
        case .listenOverflow: return .listenOverflow
        }
    }
}

extension Diagnosis {
    /// The thresholds of the rules (docs/diagnoses.md gives their sources).
    public enum Threshold {
        /// Silence before a close that makes it an idle close (keep-alive timeouts are seconds:
        /// Node.js and Apache 5 s, nginx 75 s).
        public static let idleClose: Int64 = 1_000_000_000
        /// Silence before an RST that makes it an idle timeout's (NAT, conntrack and load
        /// balancer idle timers are tens of seconds to minutes: AWS NLB 350 s, Azure 4 min).
        public static let idleReset: Int64 = 10_000_000_000
        /// The least gap before a segment for it to be looked at as a keep-alive probe: Linux
        /// sends the first after TCP_KEEPIDLE and the next every TCP_KEEPINTVL, each at least
        /// 1 s (tcp(7)), so the gap before a probe, even after the answer to the one before, is
        /// 1 s less a round trip.
        public static let keepAliveGap: Int64 = 500_000_000
        /// A zero window held this long before the RST.
        public static let zeroWindow: Int64 = 1_000_000_000
        /// A peer silent in CLOSE-WAIT this long when the connection was reported (a socket its
        /// application never closes; servers' own idle timeouts are seconds to minutes).
        public static let closeWait: Int64 = 60_000_000_000
        /// Retransmissions of one segment, unanswered, with growing gaps.
        public static let retransmissions = 3
    }

    /// The diagnoses of a finished connection, from its record and what the tracker measured
    /// as its packets came (`EndingTrail`): pure, most specific first. An RST is explained once: the rules that
    /// name a cause (keep-alive race, zero window, retransmissions, TIME-WAIT, listen overflow)
    /// come before the ones that read only silence (idle timeout, peer restarted) and before
    /// harmless.
    public static func diagnose(_ r: ConnectionRecord, trail t: EndingTrail) -> [Diagnosis] {
        // Nothing to diagnose in the common case: no RST, no retransmission run, no SYN-ACK
        // repeated, no reuse.
        if r.rst == nil && t.rstAfterClose == nil && t.origRun == nil && t.respRun == nil
            && t.synACKsAfterHandshake == 0 && t.reusedTimeWait == nil && t.silenceAtEnd == nil {
            return []
        }
        let partial = r.oneSided != nil || r.midstream
        func sure(_ c: Confidence) -> Confidence { partial ? c.lowered : c }
        var out: [Diagnosis] = []
        var rstExplained = false

        // time-wait-assassination: an RST into TIME-WAIT, or a SYN reusing one.
        if let tw = t.rstIntoTimeWait, let rst = t.rstAfterClose {
            out.append(Diagnosis(.timeWaitRST(resetter: rst.from, timeWaitSide: tw),
                                 evidence: [t.beforeRST?.number ?? 0, rst.number], confidence: sure(.high)))
        }
        if let reuse = t.reusedTimeWait {
            out.append(Diagnosis(.timeWaitSYN(previous: reuse.previous, why: reuse.why),
                                 evidence: [r.firstPacketNumber], confidence: sure(.high)))
        }

        // close-wait-leak: a FIN acknowledged, and the peer silent in CLOSE-WAIT until the report.
        // At the end of the input the silence may only be where the capture stopped: the FIN
        // receiver must have been heard alive (its host, or a responder's service, on another
        // connection) at least the threshold after this connection's last packet.
        if r.teardown.kind == .halfClosed, r.oneSided == nil, let silence = t.silenceAtEnd,
           silence >= Threshold.closeWait, let fin = t.firstFIN,
           r.side(fin.from.other).state == .closeWait, r.side(fin.from.other).fin == 0,
           !t.silenceRunsToInputEnd
            || (fin.from == .orig ? t.respHostHeard : t.origHostHeard).map({ $0 &- r.end.nanoseconds >= Threshold.closeWait }) == true {
            out.append(Diagnosis(.closeWaitLeak(closer: fin.from, silence: silence, atEnd: t.silenceRunsToInputEnd),
                                 evidence: [fin.number, r.lastPacketNumber], confidence: sure(.medium)))
        }

        // listen-overflow.
        if t.synACKsAfterHandshake > 0, let first = t.firstSYNACKAfterHandshake {
            out.append(Diagnosis(.listenOverflow(repeats: t.synACKsAfterHandshake),
                                 evidence: [first.number], confidence: sure(.medium)))
        } else if let rst = r.rst, rst.from == .resp, r.teardown.kind != .refused, r.resp.syn > 0,
                  r.resp.packets == r.resp.syn + r.resp.rst, r.orig.packets > r.orig.syn, r.orig.syn > 0,
                  answers(rst, t) {
            out.append(Diagnosis(.listenOverflow(repeats: 0),
                                 evidence: [t.beforeRST?.number ?? 0, rst.packetNumber], confidence: sure(.medium)))
            rstExplained = true
        }

        // keepalive-race: an idle close, new data from the other side after it, the closer's RST.
        if let fin = t.firstFIN, t.silenceBeforeFirstFIN >= Threshold.idleClose,
           let data = t.dataAfterPeerFIN, data.from == fin.from.other, data.number > fin.number,
           let rstMark = closerRST(r, t, from: fin.from), rstMark > data.number,
           r.side(data.from).bytes.sent > UInt64(max(0, data.payloadLength)) {
            out.append(Diagnosis(.keepaliveRace(closer: fin.from, idle: t.silenceBeforeFirstFIN, requestBytes: data.payloadLength),
                                 evidence: [fin.number, data.number, rstMark], confidence: sure(.high)))
            rstExplained = true
        }

        // retransmission-give-up: one segment again and again, backing off, unanswered.
        for side in Side.allCases {
            guard let run = t.run(of: side), run.count >= Threshold.retransmissions, run.gapsGrow,
                  r.side(side.other).packets == run.peerPacketsAtStart else { continue }
            let reset = r.rst.map { $0.from == side && $0.packetNumber > run.last.number } ?? false
            let silent = r.rst == nil && r.lastPacketNumber == run.last.number
            guard reset || silent else { continue }
            out.append(Diagnosis(.retransmissionGiveUp(sender: side, retransmissions: run.count,
                                                        span: run.last.time.nanoseconds &- run.first.time.nanoseconds,
                                                        firstGap: run.firstGap, lastGap: run.lastGap, reset: reset),
                                 evidence: [run.first.number, run.last.number, reset ? r.rst!.packetNumber : 0],
                                 confidence: sure(reset ? .high : .medium)))
            if reset { rstExplained = true }
            // idle-timeout-reset, its silent form: the run's segment was the sender's first after a
            // long silence, and the peer answered nothing since (the path forgot the connection
            // and drops what it no longer knows; or the peer went away in the silence: medium).
            if let s = t.lastSilence, s.end.from == side, s.end.number <= run.first.number,
               r.side(side.other).packets == s.peerPackets {
                let end = reset ? r.rst!.time.nanoseconds : run.last.time.nanoseconds
                out.append(Diagnosis(.idleTimeoutDrop(sender: side, silence: s.length, segments: run.count + 1,
                                                      span: end &- s.end.time.nanoseconds, reset: reset, keepAlive: false),
                                     evidence: [s.end.number, run.last.number, reset ? r.rst!.packetNumber : 0],
                                     confidence: sure(.medium)))
            }
        }

        guard let rst = r.rst, r.teardown.kind != .refused else {
            if let late = t.rstAfterClose, t.rstIntoTimeWait == nil {
                out.append(Diagnosis(.harmlessReset(resetter: late.from, afterClose: true),
                                     evidence: [t.beforeRST?.number ?? 0, late.number], confidence: sure(.high)))
            }
            return out
        }

        // middlebox-reset: the RST does not fit the side it claims to come from (Weaver, Sommer
        // and Paxson, NDSS 2009): another TTL than all its other segments (at least two), or
        // data from that side after it. Not an explanation of why: the rules below still run,
        // but none that says the endpoint itself reset.
        var fromPath = false
        let claimed = r.side(rst.from)
        let ttlDiffers = t.rstHopLimit != 0 && t.senderHopLimit != 0 && t.rstHopLimit != t.senderHopLimit
            && claimed.packets - claimed.rst >= 2
        let after = claimed.bytes.unknown.contains(.sentAfterRST) ? 0 : (claimed.bytes.sentAfterRST ?? 0)
        if ttlDiffers || after > 0 {
            out.append(Diagnosis(.middleboxReset(resetter: rst.from, rstHopLimit: ttlDiffers ? t.rstHopLimit : 0,
                                                 sideHopLimit: ttlDiffers ? t.senderHopLimit : 0, bytesAfter: after),
                                 evidence: [rst.packetNumber], confidence: sure(ttlDiffers && after > 0 ? .high : .medium)))
            fromPath = true
        }

        // zero-window-abort: a window held at 0 until the RST.
        if !rstExplained {
            for receiver in Side.allCases {
                guard let z = t.zeroWindow(of: receiver), z.since.number < rst.packetNumber else { continue }
                let held = rst.time.nanoseconds &- z.since.time.nanoseconds
                guard held >= Threshold.zeroWindow else { continue }
                let probes = r.side(receiver.other).packets - z.peerPacketsAtStart - (rst.from == receiver.other ? 1 : 0)
                out.append(Diagnosis(.zeroWindowAbort(receiver: receiver, resetter: rst.from, duration: held, probes: max(0, probes)),
                                     evidence: [z.since.number, rst.packetNumber], confidence: sure(.high)))
                rstExplained = true
                break
            }
        }

        // idle-timeout-reset, keep-alive's form: after a long silence a side's keep-alive probes
        // went unanswered until its TCP gave up and reset (Linux: TCP_KEEPCNT probes).
        let resetter = r.side(rst.from)
        if !rstExplained, resetter.fin == 0, let before = t.beforeRST, before.from == rst.from,
           let run = t.probes(of: rst.from), run.last.number == before.number,
           run.idleBefore >= Threshold.idleReset, r.side(rst.from.other).packets == run.peerPacketsAtStart {
            out.append(Diagnosis(.idleTimeoutDrop(sender: rst.from, silence: run.idleBefore, segments: run.count,
                                                  span: rst.time.nanoseconds &- run.first.time.nanoseconds, reset: true, keepAlive: true),
                                 evidence: [run.first.number, run.last.number, rst.packetNumber], confidence: sure(.medium)))
            rstExplained = true
        }

        // idle-timeout-reset and peer-restarted: an RST from a side that had not closed, after
        // silence or answering the first segment after it (data, or a keep-alive probe).
        if !rstExplained, resetter.fin == 0, let before = t.beforeRST {
            let byData = before.from == rst.from.other && before.payloadLength > 0
            let probe = before.from == rst.from.other ? t.probes(of: before.from).flatMap { $0.last.number == before.number ? $0 : nil } : nil
            let prompted = byData || probe != nil
            let silence = prompted ? t.silenceBeforeThat : rst.time.nanoseconds &- before.time.nanoseconds
            if silence >= Threshold.idleReset {
                let probes = probe.map { KeepAliveProbes(from: $0.first.from, count: $0.count, idle: $0.idleBefore, interval: $0.interval) }
                out.append(Diagnosis(.idleTimeoutReset(resetter: rst.from, silence: silence, prompted: prompted, fromPath: fromPath, probes: probes),
                                     evidence: [prompted ? before.number : 0, rst.packetNumber],
                                     confidence: sure(fromPath ? .high : .medium)))
                rstExplained = true
            } else if byData, !fromPath, rst.shape == .bare, rst.validity == .exact, resetter.packets > resetter.rst {
                out.append(Diagnosis(.peerRestarted(resetter: rst.from, silence: silence, bytes: before.payloadLength),
                                     evidence: [before.number, rst.packetNumber], confidence: sure(.medium)))
                rstExplained = true
            }
        }

        // harmless-reset: after the close, or after the resetter's own FIN with nothing lost.
        if !rstExplained, !fromPath, resetter.fin > 0, let fin = t.firstFIN, fin.from == rst.from,
           let before = t.beforeRST, before.payloadLength == 0, answers(rst, t),
           r.orig.bytes.inFlightAtRST == 0, r.resp.bytes.inFlightAtRST == 0,
           (r.orig.bytes.sentAfterRST ?? 0) == 0, (r.resp.bytes.sentAfterRST ?? 0) == 0,
           r.orig.bytes.unknown.isEmpty, r.resp.bytes.unknown.isEmpty {
            out.append(Diagnosis(.harmlessReset(resetter: rst.from, afterClose: false),
                                 evidence: [fin.number, before.number, rst.packetNumber], confidence: sure(.high)))
        }
        return out
    }

    /// The diagnoses once the socket calls are known (`CallCorrelation` fills the ledger's
    /// application rows): close-unread-request, when a side that had sent data (its response)
    /// aborted (RST with ACK, no FIN) with its peer's data unread, as the calls show. From
    /// packets alone it cannot be told from SO_LINGER {1, 0} (captures/real/many-connections'
    /// server aborts with linger zero after the client's second message: the same packets), so
    /// it is decided here only. The calls prove the application reset, so a diagnosis that
    /// reads the RST as the path's or a vanished socket's (idle timeout, peer restarted,
    /// harmless) gives way; one that names another cause first stays alone.
    public static func withCalls(_ r: ConnectionRecord) -> [Diagnosis] {
        var out = r.diagnoses
        guard let rst = r.rst, r.teardown.kind != .refused, rst.shape == .withACK else { return out }
        let resetter = r.side(rst.from)
        guard resetter.fin == 0, resetter.bytes.sent > 0,
              let unread = r.side(rst.from.other).bytes.unread, unread > 0 else { return out }
        let named: [Code] = [.keepaliveRace, .zeroWindowAbort, .retransmissionGiveUp, .listenOverflow, .closeUnreadRequest]
        if out.contains(where: { named.contains($0.code) }) { return out }
        out.removeAll { [.idleTimeoutReset, .peerRestarted, .harmlessReset].contains($0.code) }
        let partial = r.oneSided != nil || r.midstream
        out.append(Diagnosis(.closeUnreadRequest(closer: rst.from, unreadBytes: unread, responseBytes: resetter.bytes.sent,
                                                 inFlight: resetter.bytes.inFlightAtRST),
                             evidence: [rst.packetNumber], confidence: partial ? .medium : .high))
        return out
    }

    /// The diagnoses once the kernel lane is joined (`KernelJoin.attach` finds what the kernel
    /// says of the RST that ended the connection, `account`): the kernel's word is evidence about who sent the RST that
    /// ended the connection, and why. An RST in the name of a socket the kernel traced on this
    /// host that no reset of this host accounts for came from the path: `middlebox-reset`, of
    /// high confidence (raised, or made), and what says the endpoint's TCP sent it (peer
    /// restarted, harmless, close with the request unread) gives way, while an idle timeout's
    /// RST is then the path's. One that this host did send is no middlebox's. An RST with the
    /// reason TCP_ABORT_ON_CLOSE (close() with unread data) from a side that had sent data and no
    /// FIN is `close-unread-request`, with the socket calls or without them.
    public static func withKernel(_ r: ConnectionRecord, rstAccount account: KernelResetAccount) -> [Diagnosis] {
        var out = r.diagnoses
        guard let rst = r.rst, r.teardown.kind != .refused else { return out }
        let partial = r.oneSided != nil || r.midstream
        let sure: Confidence = partial ? .medium : .high
        switch account {
        case .notSentHere:
            if let i = out.firstIndex(where: { $0.code == .middleboxReset }),
               case let .middleboxReset(resetter, rstHop, sideHop, after, _) = out[i].finding {
                out[i] = Diagnosis(.middleboxReset(resetter: resetter, rstHopLimit: rstHop, sideHopLimit: sideHop, bytesAfter: after, notSentHere: true),
                                   evidence: out[i].evidence, confidence: sure)
            } else {
                out.append(Diagnosis(.middleboxReset(resetter: rst.from, rstHopLimit: 0, sideHopLimit: 0, bytesAfter: 0, notSentHere: true),
                                     evidence: [rst.packetNumber], confidence: sure))
            }
            out.removeAll { [.peerRestarted, .harmlessReset, .closeUnreadRequest].contains($0.code) }
            for i in out.indices {
                if case let .idleTimeoutReset(resetter, silence, prompted, false, probes) = out[i].finding {
                    out[i] = Diagnosis(.idleTimeoutReset(resetter: resetter, silence: silence, prompted: prompted, fromPath: true, probes: probes),
                                       evidence: out[i].evidence, confidence: sure)
                }
            }
        case .sent(let reason):
            out.removeAll { $0.code == .middleboxReset }
            let resetter = r.side(rst.from)
            guard reason?.name == "TCP_ABORT_ON_CLOSE", rst.shape == .withACK, resetter.fin == 0, resetter.bytes.sent > 0 else { break }
            if let i = out.firstIndex(where: { $0.code == .closeUnreadRequest }),
               case let .closeUnreadRequest(closer, unread, response, inFlight, _) = out[i].finding {
                out[i] = Diagnosis(.closeUnreadRequest(closer: closer, unreadBytes: unread, responseBytes: response, inFlight: inFlight, kernelReason: true),
                                   evidence: out[i].evidence, confidence: out[i].confidence)
                break
            }
            let named: [Code] = [.keepaliveRace, .zeroWindowAbort, .retransmissionGiveUp, .listenOverflow]
            if out.contains(where: { named.contains($0.code) }) { break }
            out.removeAll { [.idleTimeoutReset, .peerRestarted, .harmlessReset].contains($0.code) }
            let unread = r.side(rst.from.other).bytes.unread
            out.append(Diagnosis(.closeUnreadRequest(closer: rst.from, unreadBytes: unread.flatMap { $0 > 0 ? $0 : nil }, responseBytes: resetter.bytes.sent,
                                                     inFlight: resetter.bytes.inFlightAtRST, kernelReason: true),
                                 evidence: [rst.packetNumber], confidence: sure))
        }
        return out
    }

    /// Retransmissions that ended in silence, once the kernel lane is joined: when it shows the
    /// sender's socket closing (→ CLOSE) with ETIMEDOUT after the last retransmission, its TCP
    /// gave up (tcp_retries2 or TCP_USER_TIMEOUT), which the packets could only suppose (the
    /// capture might have ended first): confidence high.
    public static func withKernelStates(_ r: ConnectionRecord) -> [Diagnosis] {
        var out = r.diagnoses
        guard let rows = r.kernelEvents else { return out }
        for i in out.indices {
            guard case let .retransmissionGiveUp(sender, n, span, firstGap, lastGap, false, false) = out[i].finding else { continue }
            var closed = false, timedOut = false
            for row in rows where row.side == sender && row.event.time.nanoseconds >= r.end.nanoseconds {
                if case .stateChange(_, .close, _) = row.event.kind { closed = true }
                if case .errorReport(110, _) = row.event.kind { timedOut = true }   // ETIMEDOUT
            }
            guard closed && timedOut else { continue }
            let partial = r.oneSided != nil || r.midstream
            out[i] = Diagnosis(.retransmissionGiveUp(sender: sender, retransmissions: n, span: span, firstGap: firstGap, lastGap: lastGap,
                                                     reset: false, timedOut: true),
                               evidence: out[i].evidence, confidence: partial ? .medium : .high)
        }
        return out
    }

    /// Whether the RST answers the segment before it: one from the other side, within twice
    /// the handshake's round trip as the capture saw it (`EndingTrail.synACKDelay`) plus 1 ms.
    /// An application's abort (close() with unread data, SO_LINGER {1, 0}) comes when the
    /// application calls, not in answer to a segment.
    static func answers(_ rst: RSTInfo, _ t: EndingTrail) -> Bool {
        guard let before = t.beforeRST, before.from == rst.from.other else { return false }
        let delay = rst.time.nanoseconds &- before.time.nanoseconds
        // Packet times come from the file: a damaged one must give a wrong answer, never a trap.
        let limit = t.synACKDelay.multipliedReportingOverflow(by: 2).partialValue &+ 1_000_000
        return delay >= 0 && delay <= max(limit, 1_000_000)
    }

    /// The packet number of the first accepted RST from `side`: the one that ended the
    /// connection, or one after its close.
    private static func closerRST(_ r: ConnectionRecord, _ t: EndingTrail, from side: Side) -> Int? {
        if let rst = r.rst, rst.from == side { return rst.packetNumber }
        if let late = t.rstAfterClose, late.from == side { return late.number }
        return nil
    }
}
