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

    /// Both sides, originator first: a constant, where an array literal in a loop allocates.
    private static let bothSides: [Side] = [.orig, .resp]

    /// Connection-level notes in plain words, most important first.
    ///
    /// Built for every connection in JSON output: a note that varies only by side is one of two
    /// string literals, and notes with numbers are put together by `join`.
    func notes(kind: TeardownKind, closedBy: ClosedBy?, orig o: SideSummary, resp r: SideSummary) -> [String] {
        var out: [String] = []
        out.reserveCapacity(4)
        let n = Connection.name
        /// The literal for the side: `client` (the originator) or `server` (the responder).
        func pick(_ side: Side, _ client: String, _ server: String) -> String { side == .orig ? client : server }
        switch kind {
        case .graceful:
            if let f = facts.firstFIN {
                out.append(pick(f, "client closed first; server closed after it", "server closed first; client closed after it"))
            }
            if !(orig.fin == .acknowledged && resp.fin == .acknowledged) { out.append("the last FIN's acknowledgment was not captured") }
        case .simultaneousClose:
            out.append("both sides closed at once: the FINs crossed and both passed through CLOSING")
        case .halfClosed:
            if let f = facts.firstFIN {
                out.append(pick(f, "client closed (FIN); server never closed before the capture ended",
                                "server closed (FIN); client never closed before the capture ended"))
            }
        case .abortByOriginator, .abortByResponder:
            if let rst = facts.endingRST {
                out.append(pick(rst.from, "RST with ACK: the client aborted (SO_LINGER {1, 0}, or close() with unread data)",
                                "RST with ACK: the server aborted (SO_LINGER {1, 0}, or close() with unread data)"))
            }
        case .resetAfterClose:
            if let rst = facts.endingRST {
                out.append(pick(rst.from, "RST without ACK: data arrived at the client for a socket that no longer exists",
                                "RST without ACK: data arrived at the server for a socket that no longer exists"))
            }
            if let f = facts.firstFIN { out.append(pick(f, "the client had closed first", "the server had closed first")) }
        case .refused:
            out.append("connection refused: the server answered the SYN with RST (nothing listening)")
        case .unanswered:
            out.append(facts.synRetransmissions > 0
                ? join("SYN sent ", String(facts.synRetransmissions + 1), " times, never answered")
                : "SYN never answered")
        case .open:
            out.append("no ending seen before the capture ended")
        }
        if midstream && kind != .refused && kind != .unanswered {
            out.append("the capture starts mid-connection: roles were guessed from the ports")
        }
        if let rst = facts.endingRST, kind != .refused {
            for side in Connection.bothSides {
                let sum = side == .orig ? o : r
                if let f = sum.bytes.inFlightAtRST, f > 0 {
                    out.append(join(Format.thousands(f), " bytes sent by the ", n(side),
                                    " were never acknowledged (in flight at the RST)"))
                }
                if let a = sum.bytes.sentAfterRST, a > 0 {
                    out.append(join("the ", n(side), " put ", Format.thousands(a), " bytes on the wire after the RST"))
                }
            }
            if let a = rst.acknowledged, rst.shape == .withACK, side(rst.from.other).sent > 0 {
                out.append(join("the ", n(rst.from), " had acknowledged ", Format.thousands(a), " bytes of the ",
                                n(rst.from.other), "'s data when it reset"))
            }
        } else if facts.endingRST == nil {
            for side in Connection.bothSides {
                let sum = side == .orig ? o : r
                if sum.bytes.sent > sum.bytes.acked {
                    out.append(join(Format.thousands(sum.bytes.sent - sum.bytes.acked), " bytes sent by the ", n(side),
                                    " were not acknowledged before the capture ended"))
                }
            }
        }
        for side in Connection.bothSides {
            let t = side == .orig ? orig : resp
            if t.bytesAfterPeerFIN > 0 {
                out.append(join("the ", n(side), " sent ", Format.thousands(t.bytesAfterPeerFIN), " bytes after receiving the ",
                                n(side.other), "'s FIN (half-close)"))
            }
        }
        if let late = facts.lateRST {
            out.append(join("an RST from the ", n(late.from), " arrived after the close (packet ",
                            String(late.packetNumber), ")"))
        }
        if facts.ignoredRSTs > 0 {
            out.append(join(String(facts.ignoredRSTs), facts.ignoredRSTs == 1 ? " RST was" : " RSTs were",
                            " not accepted (wrong sequence number, RFC 5961)"))
        }
        for side in Connection.bothSides {
            let t = side == .orig ? orig : resp
            if t.hasAdvertisedWindow && t.window == 0 {
                out.append(pick(side, "the client's last advertised window was 0: its application was not reading",
                                "the server's last advertised window was 0: its application was not reading"))
            }
        }
        if let why = forgottenReason { out.append(why) }
        if facts.dataAfterOwnFIN { out.append("a side sent data after its own FIN (protocol violation)") }
        if kind == .graceful || kind == .simultaneousClose {
            for side in Connection.bothSides where (side == .orig ? orig : resp).state == .timeWait {
                out.append(pick(side, "the client is left in TIME-WAIT", "the server is left in TIME-WAIT"))
            }
        }
        return out
    }
}

/// `parts` as one string, allocated once at its final size.
private func join(_ a: String, _ b: String, _ c: String, _ d: String = "", _ e: String = "", _ f: String = "",
                  _ g: String = "") -> String {
    var s = ""
    s.reserveCapacity(a.utf8.count + b.utf8.count + c.utf8.count + d.utf8.count + e.utf8.count + f.utf8.count
                      + g.utf8.count)
    s.append(a); s.append(b); s.append(c); s.append(d); s.append(e); s.append(f); s.append(g)
    return s
}

/// Number formatting shared by notes (no Foundation here).
public enum Format {
    /// `29994` -> `29,994`.
    public static func thousands<T: BinaryInteger>(_ v: T) -> String {
        guard let m = UInt64(exactly: v.magnitude) else { return slowThousands(v) }
        // At most 20 digits, 6 commas and a sign: written from the end of a 27-byte buffer.
        return String(unsafeUninitializedCapacity: 27) { buffer in
            var end = 27, rest = m, written = 0
            repeat {
                if written > 0 && written % 3 == 0 { end -= 1; buffer[end] = UInt8(ascii: ",") }
                end -= 1
                buffer[end] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
                written += 1
            } while rest > 0
            if v < 0 { end -= 1; buffer[end] = UInt8(ascii: "-") }
            let count = 27 - end
            for i in 0..<count { buffer[i] = buffer[end + i] }
            return count
        }
    }

    /// `thousands` for magnitudes beyond 64 bits.
    private static func slowThousands<T: BinaryInteger>(_ v: T) -> String {
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
