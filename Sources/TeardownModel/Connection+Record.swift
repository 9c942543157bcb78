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
        if orig.sentFIN && resp.sentFIN {
            return facts.finsCrossed ? (.simultaneousClose, .both) : (.graceful, closedBy(facts.firstFIN))
        }
        if orig.sentFIN || resp.sentFIN { return (.halfClosed, closedBy(facts.firstFIN)) }
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
        out.syn = s.synCount
        out.fin = s.finCount
        out.rst = s.rstCount
        out.bytes = ledger(s, peer: peer)
        return out
    }

    /// The record of a connection being reported, made where the connection lies (`mutating`
    /// so that the table's slot is reached in place: a non-mutating call through the slot
    /// subscript would copy the kilobyte-sized connection first).
    mutating func record(forgottenReason reason: String?, recordNotes: Bool) -> ConnectionRecord {
        if let reason { forgottenReason = reason }
        return makeRecord(recordNotes: recordNotes)
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
                rows.append(.note(NoteEvent(time: end, side: nil,
                    text: "\(Format.thousands(log.droppedRows)) further rows not kept (timeline row limit)")))
            }
        }
        let halfClose = (kind == .graceful || kind == .halfClosed || kind == .simultaneousClose)
            && (orig.bytesAfterPeerFIN > 0 || resp.bytesAfterPeerFIN > 0)
        return ConnectionRecord(
            index: index, orig: o, resp: r,
            teardown: Teardown(kind: kind, midstream: midstream && kind != .refused && kind != .unanswered),
            closedBy: closedBy, halfClose: halfClose, rst: facts.endingRST,
            connState: zeek.connState, history: zeek.history,
            start: start, end: end, midstream: midstream,
            firstPacketNumber: firstPacketNumber, lastPacketNumber: lastPacketNumber,
            events: rows,
            notes: recordNotes ? notes(kind: kind, closedBy: closedBy, orig: o, resp: r) : [])
    }

    private func side(_ s: Side) -> SideTracker { s == .orig ? orig : resp }

    private static func name(_ side: Side) -> String { side == .orig ? "client" : "server" }

    /// Connection-level notes in plain words, most important first.
    func notes(kind: TeardownKind, closedBy: ClosedBy?, orig o: SideSummary, resp r: SideSummary) -> [String] {
        var out: [String] = []
        let n = Connection.name
        switch kind {
        case .graceful:
            if let f = facts.firstFIN { out.append("\(n(f)) closed first; \(n(f.other)) closed after it") }
            if !(orig.finAcked && resp.finAcked) { out.append("the last FIN's acknowledgment was not captured") }
        case .simultaneousClose:
            out.append("both sides closed at once: the FINs crossed and both passed through CLOSING")
        case .halfClosed:
            if let f = facts.firstFIN {
                out.append("\(n(f)) closed (FIN); \(n(f.other)) never closed before the capture ended")
            }
        case .abortByOriginator, .abortByResponder:
            if let rst = facts.endingRST {
                out.append("RST with ACK: the \(n(rst.from)) aborted (SO_LINGER {1, 0}, or close() with unread data)")
            }
        case .resetAfterClose:
            if let rst = facts.endingRST {
                out.append("RST without ACK: data arrived at the \(n(rst.from)) for a socket that no longer exists")
            }
            if let f = facts.firstFIN { out.append("the \(n(f)) had closed first") }
        case .refused:
            out.append("connection refused: the server answered the SYN with RST (nothing listening)")
        case .unanswered:
            out.append(facts.synRetransmissions > 0
                ? "SYN sent \(facts.synRetransmissions + 1) times, never answered"
                : "SYN never answered")
        case .open:
            out.append("no ending seen before the capture ended")
        }
        if midstream && kind != .refused && kind != .unanswered {
            out.append("the capture starts mid-connection: roles were guessed from the ports")
        }
        if let rst = facts.endingRST, kind != .refused {
            for (side, sum) in [(Side.orig, o), (Side.resp, r)] {
                if let f = sum.bytes.inFlightAtRST, f > 0 {
                    out.append("\(Format.thousands(f)) bytes sent by the \(n(side)) were never acknowledged (in flight at the RST)")
                }
                if let a = sum.bytes.sentAfterRST, a > 0 {
                    out.append("the \(n(side)) put \(Format.thousands(a)) bytes on the wire after the RST")
                }
            }
            if let a = rst.acknowledged, rst.shape == .withACK, side(rst.from.other).sent > 0 {
                out.append("the \(n(rst.from)) had acknowledged \(Format.thousands(a)) bytes of the \(n(rst.from.other))'s data when it reset")
            }
        } else if facts.endingRST == nil {
            for (side, sum) in [(Side.orig, o), (Side.resp, r)] where sum.bytes.sent > sum.bytes.acked {
                out.append("\(Format.thousands(sum.bytes.sent - sum.bytes.acked)) bytes sent by the \(n(side)) were not acknowledged before the capture ended")
            }
        }
        for side in [Side.orig, Side.resp] {
            let t = side == .orig ? orig : resp
            if t.bytesAfterPeerFIN > 0 {
                out.append("the \(n(side)) sent \(Format.thousands(t.bytesAfterPeerFIN)) bytes after receiving the \(n(side.other))'s FIN (half-close)")
            }
        }
        if let late = facts.lateRST {
            out.append("an RST from the \(n(late.from)) arrived after the close (packet \(late.packetNumber))")
        }
        if facts.ignoredRSTs > 0 {
            out.append("\(facts.ignoredRSTs) RST\(facts.ignoredRSTs == 1 ? " was" : "s were") not accepted (wrong sequence number, RFC 5961)")
        }
        for side in [Side.orig, Side.resp] {
            let t = side == .orig ? orig : resp
            if t.hasAdvertisedWindow && t.window == 0 {
                out.append("the \(n(side))'s last advertised window was 0: its application was not reading")
            }
        }
        if let why = forgottenReason { out.append(why) }
        if facts.dataAfterOwnFIN { out.append("a side sent data after its own FIN (protocol violation)") }
        if kind == .graceful || kind == .simultaneousClose {
            for side in [Side.orig, Side.resp] where (side == .orig ? orig : resp).state == .timeWait {
                out.append("the \(n(side)) is left in TIME-WAIT")
            }
        }
        return out
    }
}

/// Number formatting shared by notes (no Foundation here).
public enum Format {
    /// `29994` -> `29,994`.
    public static func thousands<T: BinaryInteger>(_ v: T) -> String {
        let digits = String(v.magnitude)
        var out = ""
        out.reserveCapacity(digits.count + digits.count / 3 + 1)
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return v < 0 ? "-" + out : out
    }
}
