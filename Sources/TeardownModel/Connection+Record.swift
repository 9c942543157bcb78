import TeardownWire

extension Connection {
    /// Classifies the ending (see `TeardownKind`) and who started it.
    func classify() -> (TeardownKind, ClosedBy?) {
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

    private func ledger(_ s: SideTracker, peer: SideTracker) -> DirectionLedger {
        var l = DirectionLedger()
        l.sent = s.sent
        l.retransmitted = s.retransmitted
        l.acked = peer.hasAcked ? s.payloadCovered(by: peer.highestAck) : 0
        l.inFlightAtRST = s.inFlightAtRST
        l.sentAfterRST = s.sentAfterRST
        return l
    }

    private func summary(_ s: SideTracker, peer: SideTracker) -> SideSummary {
        var out = SideSummary(endpoint: s.endpoint, state: s.state, initialSequence: s.isn)
        out.packets = s.packets
        out.payloadBytes = s.payloadBytes
        out.syn = Int(s.synCount)
        out.fin = Int(s.finCount)
        out.rst = Int(s.rstCount)
        out.bytes = ledger(s, peer: peer)
        return out
    }

    /// Builds the record handed to renderers. `recordNotes` is false in summary/no-events modes.
    func makeRecord(recordNotes: Bool) -> ConnectionRecord {
        let (kind, closedBy) = classify()
        let o = summary(orig, peer: resp)
        let r = summary(resp, peer: orig)
        var rows: [TimelineEvent] = []
        if var log = events?.log {
            rows = log.finish()
            if log.droppedRows > 0 {
                rows.append(.note(NoteEvent(time: end, side: nil, note: .rowsDropped(log.droppedRows))))
            }
        }
        let halfClose = (kind == .graceful || kind == .halfClosed || kind == .simultaneousClose)
            && (orig.bytesAfterPeerFIN > 0 || resp.bytesAfterPeerFIN > 0)
        return ConnectionRecord(
            index: index, orig: o, resp: r,
            teardown: Ending(kind: kind, midstream: midstream && kind != .refused && kind != .unanswered),
            closedBy: closedBy, halfClose: halfClose, rst: facts.endingRST,
            connState: zeek.connState, history: zeek.history,
            start: start, end: end, midstream: midstream,
            firstPacketNumber: firstPacketNumber, lastPacketNumber: lastPacketNumber,
            events: rows,
            notes: recordNotes ? notes(kind: kind, closedBy: closedBy, orig: o, resp: r) : [])
    }

    private func side(_ s: Side) -> SideTracker { s == .orig ? orig : resp }

    /// Both sides, originator first: a constant, where an array literal in a loop allocates.
    private static let bothSides: [Side] = [.orig, .resp]

    /// Connection-level notes, most important first (Render words them).
    func notes(kind: TeardownKind, closedBy: ClosedBy?, orig o: SideSummary, resp r: SideSummary) -> [Note] {
        var out: [Note] = []
        out.reserveCapacity(4)
        switch kind {
        case .graceful:
            if let f = facts.firstFIN { out.append(.closedFirst(f)) }
            if !(orig.fin == .acknowledged && resp.fin == .acknowledged) { out.append(.lastFINUnacknowledged) }
        case .simultaneousClose:
            out.append(.simultaneousClose)
        case .halfClosed:
            if let f = facts.firstFIN { out.append(.peerNeverClosed(closer: f)) }
        case .abortByOriginator, .abortByResponder:
            if let rst = facts.endingRST { out.append(.aborted(rst.from)) }
        case .resetAfterClose:
            if let rst = facts.endingRST { out.append(.resetClosedSocket(rst.from)) }
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
                if let f = sum.bytes.inFlightAtRST, f > 0 { out.append(.inFlightAtRST(side, bytes: f)) }
                if let a = sum.bytes.sentAfterRST, a > 0 { out.append(.sentAfterRST(side, bytes: a)) }
            }
            if let a = rst.acknowledged, rst.shape == .withACK, side(rst.from.other).sent > 0 {
                out.append(.acknowledgedBeforeRST(resetter: rst.from, bytes: a))
            }
        } else if facts.endingRST == nil {
            for side in Connection.bothSides {
                let sum = side == .orig ? o : r
                if sum.bytes.sent > sum.bytes.acked {
                    out.append(.unacknowledgedAtEnd(side, bytes: sum.bytes.sent - sum.bytes.acked))
                }
            }
        }
        for side in Connection.bothSides {
            let t = side == .orig ? orig : resp
            if t.bytesAfterPeerFIN > 0 { out.append(.halfCloseBytes(side, bytes: t.bytesAfterPeerFIN)) }
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
