import TeardownWire

extension Connection {
    /// Whether the capture holds only one direction of this connection: one side sent nothing
    /// at all, and the other shows that it did (`OneSided.Evidence`). Two-sided traffic never
    /// qualifies, whatever it lost: both sides sent something.
    func oneSided() -> OneSided? {
        for seen in Connection.bothSides {
            let v = side(seen), m = side(seen.other)
            guard m.packets == 0, v.packets > 0 else { continue }
            // Sequence space of the missing side acknowledged since the seen side's first
            // acknowledgment (where the missing side's numbering was taken from).
            let moved = v.hasAcked && m.hasBase ? UInt64(max(0, v.highestAck.distance(from: m.dataStart))) : 0
            let finInferred = moved > 0 && v.fin != .unsent && v.highestAck.distance(from: v.previousAck) == 1
            let evidence: OneSided.Evidence
            if moved > 0 {
                evidence = .acknowledgedUnseenData
            } else if v.sentSYN && v.packets > Int(v.synCount) + Int(v.rstCount)
                        && (seen == .resp || v.hasAcked) {
                evidence = .handshakeAnswered
            } else {
                continue
            }
            return OneSided(seen: seen, evidence: evidence, acknowledgedBytes: moved - (finInferred ? 1 : 0),
                            finInferred: finInferred)
        }
        return nil
    }

    /// Classifies the ending (see `TeardownKind`) and who started it.
    func classify() -> (TeardownKind, ClosedBy?) { classify(oneSided: oneSided()) }

    /// `classify()`, with `oneSided()` known. With one direction missing, the ending is read
    /// from the side that was seen: its RST, its FIN, and the other's FIN where it is inferred.
    func classify(oneSided one: OneSided?) -> (TeardownKind, ClosedBy?) {
        if let one, facts.endingRST == nil {
            let v = side(one.seen)
            guard v.fin != .unsent else { return (.open, nil) }
            guard one.finInferred else { return (.halfClosed, closedBy(one.seen)) }
            // The missing side closed first if the seen side's FIN already acknowledged its FIN.
            let missingFirst = v.ackAtFIN == v.highestAck
            return (.graceful, closedBy(missingFirst ? one.missing : one.seen))
        }
        if let rst = facts.endingRST {
            if facts.refused { return (.refused, .resp) }
            if rst.shape == .bare && (facts.respSentSYNACK || midstream) {
                // A segment reached a socket that was gone: the close (if seen) started it.
                return (.resetAfterClose, closedBy(facts.firstFIN) ?? closedBy(rst.from))
            }
            return (rst.from == .orig ? .abortByOriginator : .abortByResponder, closedBy(rst.from))
        }
        // Nothing ever came back: an unanswered attempt, whatever flags the probe carried (SYN+FIN).
        if facts.origSentSYN && resp.packets == 0 { return (.unanswered, nil) }
        if orig.fin != .unsent && resp.fin != .unsent {
            return facts.finsCrossed ? (.simultaneousClose, .both) : (.graceful, closedBy(facts.firstFIN))
        }
        if orig.fin != .unsent || resp.fin != .unsent { return (.halfClosed, closedBy(facts.firstFIN)) }
        return (.open, nil)
    }

    private func closedBy(_ side: Side?) -> ClosedBy? {
        switch side {
        case .orig?: return .orig
        case .resp?: return .resp
        case nil: return nil
        }
    }

    private func ledger(_ s: SideTracker, peer: SideTracker, oneSided one: OneSided?) -> DirectionLedger {
        var l = DirectionLedger()
        l.sent = s.sent
        l.retransmitted = s.retransmitted
        l.acked = peer.hasAcked ? s.payloadCovered(by: peer.highestAck) : 0
        l.inFlightAtRST = s.inFlightAtRST
        l.sentAfterRST = s.sentAfterRST
        if let one {
            if s.endpoint == side(one.seen).endpoint {
                // Its acknowledgments travelled the missing direction.
                l.acked = 0
                l.unknown = [.acked, .inFlightAtRST]
            } else {
                // Only what the seen side acknowledged of it is known.
                l.sent = 0
                l.retransmitted = 0
                l.acked = one.acknowledgedBytes
                l.unknown = [.sent, .retransmitted, .inFlightAtRST, .sentAfterRST]
            }
        }
        return l
    }

    private func summary(_ s: SideTracker, peer: SideTracker, oneSided one: OneSided?) -> SideSummary {
        var out = SideSummary(endpoint: s.endpoint, state: s.state, initialSequence: s.isn)
        out.packets = s.packets
        out.payloadBytes = s.payloadBytes
        out.syn = Int(s.synCount)
        out.fin = Int(s.finCount)
        out.rst = Int(s.rstCount)
        out.bytes = ledger(s, peer: peer, oneSided: one)
        return out
    }

    /// Builds the record handed to renderers. `recordNotes` is false in summary/no-events modes;
    /// `inputEnd` is the time of the input's last packet when the connection is reported at the
    /// end of the input.
    func makeRecord(recordNotes: Bool, inputEnd: Int64? = nil, heard: (orig: Int64?, resp: Int64?) = (nil, nil)) -> ConnectionRecord {
        let one = oneSided()
        let (kind, closedBy) = classify(oneSided: one)
        let o = summary(orig, peer: resp, oneSided: one)
        let r = summary(resp, peer: orig, oneSided: one)
        var rows: [TimelineEvent] = []
        if var log = events?.log {
            rows = log.finish()
            if log.droppedRows > 0 {
                rows.append(.note(NoteEvent(time: end, side: nil, note: .rowsDropped(log.droppedRows))))
            }
        }
        let halfClose = (kind == .graceful || kind == .halfClosed || kind == .simultaneousClose)
            && (orig.bytesAfterPeerFIN > 0 || resp.bytesAfterPeerFIN > 0 || missingBytesAfterSeenFIN(one) > 0)
        var record = ConnectionRecord(
            index: index, orig: o, resp: r,
            teardown: Ending(kind: kind, midstream: midstream && kind != .refused && kind != .unanswered),
            closedBy: closedBy, halfClose: halfClose, rst: facts.endingRST,
            connState: zeek.connState, history: zeek.history,
            start: start, end: end, midstream: midstream,
            firstPacketNumber: firstPacketNumber, lastPacketNumber: lastPacketNumber,
            events: rows,
            notes: recordNotes ? notes(kind: kind, closedBy: closedBy, orig: o, resp: r, oneSided: one) : [],
            oneSided: one)
        record.tunnelRoutes = tunnelRoutes
        record.expired = forgottenReason
        // The diagnoses read the record and what the tracker measured (`EndingTrail`): made
        // here only when something that matters happened (an RST, a retransmission, a zero
        // window, data after a FIN ...; a SYN into TIME-WAIT), so a plain connection pays one test.
        var reusedTimeWait: (previous: Int, why: TupleReuse)?
        if case .tupleReused(let previous, let why)? = follows, why == .aboveTimeWait || why == .newerTimestamp {
            reusedTimeWait = (previous, why)
        }
        // How long the connection was silent when it was reported: until the input's end, or
        // for the idle timeout that reported it.
        var silenceAtEnd: Int64?
        if let inputEnd {
            silenceAtEnd = max(0, inputEnd &- end.nanoseconds)
        } else if case .idleTimeout(let seconds)? = forgottenReason {
            silenceAtEnd = seconds.multipliedReportingOverflow(by: 1_000_000_000).partialValue
        }
        if trailBox != nil || reusedTimeWait != nil || (kind == .halfClosed && silenceAtEnd != nil) {
            var t = trail(reusedTimeWait: reusedTimeWait)
            t.silenceAtEnd = silenceAtEnd
            t.silenceRunsToInputEnd = inputEnd != nil
            t.origHostHeard = heard.orig
            t.respHostHeard = heard.resp
            record.diagnoses = Diagnosis.diagnose(record, trail: t)
        }
        return record
    }

    private func side(_ s: Side) -> SideTracker { s == .orig ? orig : resp }

    /// The trail as the diagnoses read it: what the box holds, with what every connection keeps
    /// inline (the first FIN, the handshake's delay) and the reuse of a 4-tuple in TIME-WAIT.
    func trail(reusedTimeWait: (previous: Int, why: TupleReuse)?) -> EndingTrail {
        var t = trailBox?.trail ?? EndingTrail()
        t.synACKDelay = facts.synACKDelay
        if facts.firstFINNumber > 0, let side = facts.firstFIN {
            t.firstFIN = EndingTrail.Mark(number: facts.firstFINNumber, time: Timestamp(nanoseconds: facts.firstFINTime),
                                          from: side, payloadLength: 0)
            t.silenceBeforeFirstFIN = facts.silenceBeforeFirstFIN
        }
        t.reusedTimeWait = reusedTimeWait
        return t
    }

    /// One-sided: payload bytes of the missing side that the seen side acknowledged after its
    /// own FIN (the missing side went on sending after it: a half-close), its inferred FIN left out.
    func missingBytesAfterSeenFIN(_ one: OneSided?) -> UInt64 {
        guard let one else { return 0 }
        let v = side(one.seen)
        guard v.fin != .unsent else { return 0 }
        let after = UInt64(max(0, v.highestAck.distance(from: v.ackAtFIN)))
        return after - min(after, one.finInferred ? 1 : 0)
    }

    /// Both sides, originator first: a constant, where an array literal in a loop allocates.
    private static let bothSides: [Side] = [.orig, .resp]

    /// Connection-level notes, most important first (Render words them).
    func notes(kind: TeardownKind, closedBy: ClosedBy?, orig o: SideSummary, resp r: SideSummary,
               oneSided one: OneSided? = nil) -> [Note] {
        var out: [Note] = []
        out.reserveCapacity(4)
        if let one { out.append(.oneSided(seen: one.seen, one.evidence, acknowledged: one.acknowledgedBytes)) }
        switch kind {
        case .graceful:
            if let one {
                if let first = closedBy, first != .both { out.append(.closedFirst(first == .orig ? .orig : .resp)) }
                if one.finInferred { out.append(.finInferred(one.missing)) }
            } else {
                if let f = facts.firstFIN { out.append(.closedFirst(f)) }
                if !(orig.fin == .acknowledged && resp.fin == .acknowledged) { out.append(.lastFINUnacknowledged) }
            }
        case .simultaneousClose:
            out.append(.simultaneousClose)
        case .halfClosed:
            if let one {
                out.append(.peerCloseUnknown(closer: one.seen))
            } else if let f = facts.firstFIN {
                out.append(.peerNeverClosed(closer: f))
            }
        case .abortByOriginator, .abortByResponder:
            if let rst = facts.endingRST { out.append(.aborted(rst.from)) }
        case .resetAfterClose:
            if let rst = facts.endingRST {
                let before = trailBox?.trail.beforeRST
                let answeringData = before.flatMap { $0.from != rst.from ? $0.payloadLength > 0 : nil }
                out.append(.resetClosedSocket(rst.from, answeringData: answeringData))
            }
            if let f = facts.firstFIN { out.append(.hadClosedFirst(f)) }
        case .refused:
            out.append(.refused)
        case .unanswered:
            out.append(.synUnanswered(attempts: facts.synRetransmissions + 1))
        case .open:
            out.append(.noEnding)
        }
        if midstream && kind != .refused && kind != .unanswered {
            out.append(.midstream)
        }
        if let follows { out.append(follows) }
        if let rst = facts.endingRST, kind != .refused {
            for side in Connection.bothSides {
                let sum = side == .orig ? o : r
                if let f = sum.bytes.inFlightAtRST, f > 0, !sum.bytes.unknown.contains(.inFlightAtRST) {
                    out.append(.inFlightAtRST(side, bytes: f))
                }
                if let a = sum.bytes.sentAfterRST, a > 0, !sum.bytes.unknown.contains(.sentAfterRST) {
                    out.append(.sentAfterRST(side, bytes: a))
                }
            }
            if let a = rst.acknowledged, rst.shape == .withACK,
               side(rst.from.other).sent > 0 || (one?.missing == rst.from.other && a > 0) {
                out.append(.acknowledgedBeforeRST(resetter: rst.from, bytes: a))
            }
        } else if facts.endingRST == nil {
            for side in Connection.bothSides {
                let sum = side == .orig ? o : r
                if sum.bytes.unknown.isDisjoint(with: [.sent, .acked]) && sum.bytes.sent > sum.bytes.acked {
                    out.append(.unacknowledgedAtEnd(side, bytes: sum.bytes.sent - sum.bytes.acked))
                }
            }
        }
        for side in Connection.bothSides {
            let t = side == .orig ? orig : resp
            if t.bytesAfterPeerFIN > 0 { out.append(.halfCloseBytes(side, bytes: t.bytesAfterPeerFIN)) }
        }
        if let one, case let n = missingBytesAfterSeenFIN(one), n > 0 {
            out.append(.halfCloseBytes(one.missing, bytes: n))
        }
        if let late = facts.lateRST { out.append(.lateRST(from: late.from, packet: late.packetNumber)) }
        if facts.ignoredRSTs > 0 { out.append(.rstsNotAccepted(facts.ignoredRSTs)) }
        for side in Connection.bothSides {
            let t = side == .orig ? orig : resp
            if t.hasAdvertisedWindow && t.window == 0 { out.append(.zeroWindow(side)) }
        }
        if let why = forgottenReason { out.append(why) }
        if facts.dataAfterOwnFIN { out.append(.dataAfterFIN) }
        if kind == .graceful || kind == .simultaneousClose {
            for side in Connection.bothSides where (side == .orig ? orig : resp).state == .timeWait {
                out.append(.leftInTimeWait(side))
            }
        }
        return out
    }
}
