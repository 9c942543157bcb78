import TeardownKernel
import TeardownModel

// The words of every note (`Note`), in one place: the timeline prints them, JSON writes them
// as `text` beside the note's `code`. Byte counts are grouped by thousands (`29,994`); packet
// numbers, attempts, seconds and RST counts are written plain, as they always were.

extension Note {
    /// The note in words.
    public var text: String { ByteCursor.string { write(to: &$0) } }

    /// The start of a bare RST's note: what arrived for the missing socket, as far as the packet
    /// before the RST shows it (the other side's data, the other side's segment without data, or
    /// nothing of the other side's: not seen).
    static func arrived(_ data: Bool?) -> StaticString {
        switch data {
        case true?: return "RST without ACK: data arrived"
        case false?: return "RST without ACK: a segment without data arrived"
        case nil: return "RST without ACK: a segment arrived"
        }
    }

    /// Writes the note's words. They hold no quote, backslash or control character, so they go
    /// into a terminal and into a JSON string as they are.
    func write(to c: inout ByteCursor) {
        switch self {
        case .truncated:
            c.write("captured bytes cut short by the snapshot length")
        case .synRetransmitted(let withACK):
            c.write(withACK ? "SYN-ACK retransmitted" : "SYN retransmitted")
        case .partlyRetransmitted:
            c.write("partly retransmitted")
        case .retransmission:
            c.write("retransmission")
        case .dataAfterOwnFIN:
            c.write("data after this side's own FIN")
        case .dataAfterPeerFIN:
            c.write("data after the peer's FIN (half-close)")
        case .finRetransmitted:
            c.write("FIN retransmitted")
        case .secondFIN:
            c.write("a second FIN at a different sequence number")
        case .finsCrossed:
            c.write("the FINs crossed: simultaneous close")
        case .finCarriesLastBytes(let bytes):
            c.write("FIN carries the last ")
            c.writeInt(bytes)
            c.write(" bytes")
        case .finAndRST:
            c.write("FIN and RST in one segment: treated as an RST")
        case .rstAfterReset(let sameSide):
            c.write(sameSide ? "another RST after the connection was reset" : "RST answering a segment after the reset")
        case .rstInWindow:
            c.write("RST in the window but not at RCV.NXT: Linux answers with a challenge ACK and keeps the connection (RFC 5961 §3.2)")
        case .rstOutOfWindow:
            c.write("RST outside the receive window: ignored (RFC 5961 §3.2)")
        case .rstInTimeWait:
            c.write("RST in TIME-WAIT: Linux drops the TIME-WAIT socket at once (net.ipv4.tcp_rfc1337=0)")
        case .rstAfterClose:
            c.write("RST after the connection had closed")
        case .rstRefused:
            c.write("connection refused: RST answered the SYN")
        case .rstAborted(let side):
            c.write("RST with ACK: the ")
            c.write(side.roleText)
            c.write(" aborted")
        case .rstForMissingSocket(let data):
            c.write(Self.arrived(data))
            c.write(" for a socket that no longer exists")
        case .synInConnection:
            c.write("SYN at another sequence number in a live connection: not a new connection; the receiver answers with a challenge ACK (RFC 5961 §4)")
        case .synInTimeWait:
            c.write("SYN into TIME-WAIT, neither above the old sequence numbers nor with a newer timestamp: an old duplicate, not a new connection (RFC 6191)")
        case .kernelReset(let reason):
            if let reason {
                c.write("the kernel reset it: ")
                c.writeTerminalSafe(KernelWording.reasonPhrase(reason))
            } else {
                c.write("the kernel sent it (tcp_send_reset; this kernel gives no reason)")
            }
        case .rstNotFromThisHost:
            c.write("not sent by this host: the kernel traced the socket but sent no such RST (a middlebox, a firewall, or an injected reset)")

        case .rowsDropped(let rows):
            c.writeGrouped(signed: Int64(rows))
            c.write(" further rows not kept (timeline row limit)")

        case .closedFirst(let side):
            c.write(side.roleText)
            c.write(" closed first; ")
            c.write(side.other.roleText)
            c.write(" closed after it")
        case .lastFINUnacknowledged:
            c.write("the last FIN's acknowledgment was not captured")
        case .simultaneousClose:
            c.write("both sides closed at once: the FINs crossed and both passed through CLOSING")
        case .peerNeverClosed(let closer):
            c.write(closer.roleText)
            c.write(" closed (FIN); ")
            c.write(closer.other.roleText)
            c.write(" never closed before the capture ended")
        case .aborted(let side):
            c.write("RST with ACK: the ")
            c.write(side.roleText)
            c.write(" aborted (SO_LINGER {1, 0}, or close() with unread data)")
        case .resetClosedSocket(let side, let data):
            c.write(Self.arrived(data))
            c.write(" at the ")
            c.write(side.roleText)
            c.write(" for a socket that no longer exists")
        case .hadClosedFirst(let side):
            c.write("the ")
            c.write(side.roleText)
            c.write(" had closed first")
        case .refused:
            c.write("connection refused: the server answered the SYN with RST (nothing listening)")
        case .synUnanswered(let attempts):
            if attempts > 1 {
                c.write("SYN sent ")
                c.writeInt(attempts)
                c.write(" times, never answered")
            } else {
                c.write("SYN never answered")
            }
        case .noEnding:
            c.write("no ending seen before the capture ended")
        case .midstream:
            c.write("the capture starts mid-connection: roles were guessed from the ports")
        case .oneSided(let seen, let evidence, let acknowledged):
            c.write("one-sided capture: only the ")
            c.write(seen.roleText)
            c.write(" → ")
            c.write(seen.other.roleText)
            c.write(" direction was captured; ")
            switch evidence {
            case .acknowledgedUnseenData:
                c.write("the ")
                c.write(seen.roleText)
                c.write(" acknowledged ")
                c.writeGrouped(acknowledged)
                c.write(" bytes the ")
                c.write(seen.other.roleText)
                c.write(" sent, never seen")
            case .handshakeAnswered:
                c.write("the ")
                c.write(seen.roleText)
                c.write(seen == .orig ? " acknowledged a SYN-ACK that was not captured"
                                      : " went on after its SYN-ACK, which was acknowledged out of sight")
            }
        case .finInferred(let side):
            c.write("the ")
            c.write(side.roleText)
            c.write("'s FIN was not captured: inferred from the ")
            c.write(side.other.roleText)
            c.write("'s acknowledgment of it")
        case .peerCloseUnknown(let closer):
            c.write(closer.roleText)
            c.write(" closed (FIN); whether the ")
            c.write(closer.other.roleText)
            c.write(" closed is unknown: its direction was not captured")
        case .tupleReused(let previous, let why):
            c.write(why == .refusedSYNRepeated ? "the refused SYN of connection " : "a new SYN reopened the 4-tuple of connection ")
            c.writeInt(previous)
            switch why {
            case .refusedSYNRepeated:
                c.write(" came again with the same initial sequence number: a retransmission, so the RST had not reached")
                c.write(" the client's TCP (a client that takes it closes, and a new connect() picks another;")
                c.write(" RFC 9293 §3.10.7.3)")
            case .afterRefusal: c.write(", which was refused (its client was closed)")
            case .afterReset: c.write(", which was reset")
            case .afterClose: c.write(", which had closed")
            case .aboveTimeWait: c.write(", in TIME-WAIT: its sequence number is above the old connection's (RFC 9293 §3.10.7.4)")
            case .newerTimestamp: c.write(", in TIME-WAIT: its timestamp is newer than the old connection's (RFC 6191)")
            case .connectRetried: c.write(" with a new initial sequence number before the handshake completed: connect() retried")
            }
        case .inFlightAtRST(let side, let bytes):
            c.writeGrouped(bytes)
            c.write(" bytes sent by the ")
            c.write(side.roleText)
            c.write(" were never acknowledged (in flight at the RST)")
        case .sentAfterRST(let side, let bytes):
            c.write("the ")
            c.write(side.roleText)
            c.write(" put ")
            c.writeGrouped(bytes)
            c.write(" bytes on the wire after the RST")
        case .acknowledgedBeforeRST(let resetter, let bytes):
            c.write("the ")
            c.write(resetter.roleText)
            c.write(" had acknowledged ")
            c.writeGrouped(bytes)
            c.write(" bytes of the ")
            c.write(resetter.other.roleText)
            c.write("'s data when it reset")
        case .unacknowledgedAtEnd(let side, let bytes):
            c.writeGrouped(bytes)
            c.write(" bytes sent by the ")
            c.write(side.roleText)
            c.write(" were not acknowledged before the capture ended")
        case .halfCloseBytes(let side, let bytes):
            c.write("the ")
            c.write(side.roleText)
            c.write(" sent ")
            c.writeGrouped(bytes)
            c.write(" bytes after receiving the ")
            c.write(side.other.roleText)
            c.write("'s FIN (half-close)")
        case .lateRST(let side, let packet):
            c.write("an RST from the ")
            c.write(side.roleText)
            c.write(" arrived after the close (packet ")
            c.writeInt(packet)
            c.write(")")
        case .rstsNotAccepted(let count):
            c.writeInt(count)
            c.write(count == 1 ? " RST was" : " RSTs were")
            c.write(" not accepted (wrong sequence number, RFC 5961)")
        case .zeroWindow(let side):
            c.write("the ")
            c.write(side.roleText)
            c.write("'s last advertised window was 0: its application was not reading")
        case .idleTimeout(let seconds):
            c.write("no packet for ")
            c.writeInt(seconds)
            c.write(" s: reported as idle and forgotten")
        case .unansweredTimeout(let seconds):
            c.write("no answer for ")
            c.writeInt(seconds)
            c.write(" s: reported and forgotten")
        case .evicted(let limit):
            c.write("evicted: more than ")
            c.writeGrouped(signed: Int64(limit))
            c.write(" connections were open at once")
        case .dataAfterFIN:
            c.write("a side sent data after its own FIN (protocol violation)")
        case .leftInTimeWait(let side):
            c.write("the ")
            c.write(side.roleText)
            c.write(" is left in TIME-WAIT")
        case .kernelStatesDiffer(let side, let kernelOnly, let inferredOnly):
            c.write("the ")
            c.write(side.roleText)
            c.write("'s states differ from the kernel's: ")
            func list(_ ts: [StateTransition], _ c: inout ByteCursor) {
                for (i, t) in ts.enumerated() {
                    if i > 0 { c.write(", ") }
                    c.writeTerminalSafe(t.from.rawValue)
                    c.write(" → ")
                    c.writeTerminalSafe(t.to.rawValue)
                }
            }
            if !kernelOnly.isEmpty {
                c.write("the kernel went ")
                list(kernelOnly, &c)
                c.write(", which teardown did not infer")
            }
            if !inferredOnly.isEmpty {
                c.write(kernelOnly.isEmpty ? "teardown inferred " : "; teardown inferred ")
                list(inferredOnly, &c)
                c.write(", which the kernel did not take")
            }
        case .ledgerMismatch(let sender, let problems):
            c.write("LEDGER DOES NOT ADD UP (")
            c.write(sender.roleText)
            c.write(" → ")
            c.write(sender.other.roleText)
            c.write("): ")
            LedgerProblem.write(problems, to: &c)
        case .bytesLost(let sender, let l):
            c.writeGrouped(l.lost)
            c.write(" of ")
            c.writeGrouped(l.written)
            c.write(" bytes the ")
            c.write(sender.roleText)
            c.write(" wrote were lost")
            var first = true
            func part(_ c: inout ByteCursor) {
                c.write(first ? ": " : ", ")
                first = false
            }
            if let n = l.neverSent, n > 0 {
                part(&c)
                c.writeGrouped(n)
                c.write(" never left the ")
                c.write(sender.roleText)
                c.write("'s send queue")
            }
            if let n = l.unacked, n > 0 {
                part(&c)
                c.writeGrouped(n)
                c.write(" were sent but never acknowledged")
            }
            if let n = l.unread, n > 0 {
                part(&c)
                c.writeGrouped(n)
                c.write(" reached the ")
                c.write(sender.other.roleText)
                c.write(" but were never read")
            }
        }
    }
}

extension LedgerProblem {
    /// The problems in words, separated by `; `.
    public static func text(_ problems: [LedgerProblem]) -> String { ByteCursor.string { write(problems, to: &$0) } }

    static func write(_ problems: [LedgerProblem], to c: inout ByteCursor) {
        for (i, p) in problems.enumerated() {
            if i > 0 { c.write("; ") }
            p.write(to: &c)
        }
    }

    func write(to c: inout ByteCursor) {
        switch self {
        case .readExceedsWritten(let read, let written):
            c.write("the peer read ")
            c.writeGrouped(read)
            c.write(" bytes but only ")
            c.writeGrouped(written)
            c.write(" were written")
        case .sentExceedsWritten(let sent, let written):
            c.writeGrouped(sent)
            c.write(" bytes on the wire but only ")
            c.writeGrouped(written)
            c.write(" written")
        case .readExceedsSent(let read, let sent):
            c.write("the peer read ")
            c.writeGrouped(read)
            c.write(" bytes but only ")
            c.writeGrouped(sent)
            c.write(" were put on the wire")
        case .lostIsNotWrittenMinusRead(let writtenMinusRead, let lost):
            c.write("written − read = ")
            c.writeGrouped(writtenMinusRead)
            c.write(" but lost = ")
            if let lost { c.writeGrouped(lost) } else { c.write("missing") }
        case .partsDoNotAddUp(let neverSent, let unacked, let unread, let lost):
            c.write("never sent ")
            c.writeGrouped(neverSent)
            c.write(" + unacked ")
            c.writeGrouped(unacked)
            c.write(" + unread ")
            c.writeGrouped(unread)
            c.write(" ≠ lost ")
            if let lost { c.writeGrouped(lost) } else { c.write("missing") }
        case .partsOverflow:
            c.write("never sent + unacked + unread overflows")
        }
    }
}
