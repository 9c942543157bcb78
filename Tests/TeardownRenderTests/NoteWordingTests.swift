import Foundation
import Testing
import TeardownKernel
import TeardownModel
@testable import TeardownRender

/// The words of every note, each written out here as the timeline prints it, and the codes
/// JSON writes beside them.
@Suite struct NoteWordingTests {
    /// One note (or more, where the words branch) of every code, with its words.
    static let samples: [(note: Note, text: String)] = [
        (.truncated, "captured bytes cut short by the snapshot length"),
        (.synRetransmitted(withACK: false), "SYN retransmitted"),
        (.synRetransmitted(withACK: true), "SYN-ACK retransmitted"),
        (.partlyRetransmitted, "partly retransmitted"),
        (.retransmission, "retransmission"),
        (.dataAfterOwnFIN, "data after this side's own FIN"),
        (.dataAfterPeerFIN, "data after the peer's FIN (half-close)"),
        (.finRetransmitted, "FIN retransmitted"),
        (.secondFIN, "a second FIN at a different sequence number"),
        (.finsCrossed, "the FINs crossed: simultaneous close"),
        (.finCarriesLastBytes(1448), "FIN carries the last 1448 bytes"),
        (.finAndRST, "FIN and RST in one segment: treated as an RST"),
        (.rstAfterReset(sameSide: true), "another RST after the connection was reset"),
        (.rstAfterReset(sameSide: false), "RST answering a segment after the reset"),
        (.rstInWindow, "RST in the window but not at RCV.NXT: Linux answers with a challenge ACK and keeps the connection (RFC 5961 §3.2)"),
        (.rstOutOfWindow, "RST outside the receive window: ignored (RFC 5961 §3.2)"),
        (.rstInTimeWait, "RST in TIME-WAIT: Linux drops the TIME-WAIT socket at once (net.ipv4.tcp_rfc1337=0)"),
        (.rstAfterClose, "RST after the connection had closed"),
        (.rstRefused, "connection refused: RST answered the SYN"),
        (.rstAborted(by: .orig), "RST with ACK: the client aborted"),
        (.rstAborted(by: .resp), "RST with ACK: the server aborted"),
        (.rstForMissingSocket(answeringData: true), "RST without ACK: data arrived for a socket that no longer exists"),
        (.rstForMissingSocket(answeringData: false), "RST without ACK: a segment without data arrived for a socket that no longer exists"),
        (.rstForMissingSocket(answeringData: nil), "RST without ACK: a segment arrived for a socket that no longer exists"),
        (.synInConnection, "SYN at another sequence number in a live connection: not a new connection; the receiver answers with a challenge ACK (RFC 5961 §4)"),
        (.synInTimeWait, "SYN into TIME-WAIT, neither above the old sequence numbers nor with a newer timestamp: an old duplicate, not a new connection (RFC 6191)"),
        (.rowsDropped(12_345), "12,345 further rows not kept (timeline row limit)"),
        (.closedFirst(.orig), "client closed first; server closed after it"),
        (.closedFirst(.resp), "server closed first; client closed after it"),
        (.lastFINUnacknowledged, "the last FIN's acknowledgment was not captured"),
        (.simultaneousClose, "both sides closed at once: the FINs crossed and both passed through CLOSING"),
        (.peerNeverClosed(closer: .orig), "client closed (FIN); server never closed before the capture ended"),
        (.peerNeverClosed(closer: .resp), "server closed (FIN); client never closed before the capture ended"),
        (.aborted(.orig), "RST with ACK: the client aborted (SO_LINGER {1, 0}, or close() with unread data)"),
        (.aborted(.resp), "RST with ACK: the server aborted (SO_LINGER {1, 0}, or close() with unread data)"),
        (.resetClosedSocket(.orig, answeringData: true), "RST without ACK: data arrived at the client for a socket that no longer exists"),
        (.resetClosedSocket(.resp, answeringData: true), "RST without ACK: data arrived at the server for a socket that no longer exists"),
        (.resetClosedSocket(.resp, answeringData: false), "RST without ACK: a segment without data arrived at the server for a socket that no longer exists"),
        (.resetClosedSocket(.resp, answeringData: nil), "RST without ACK: a segment arrived at the server for a socket that no longer exists"),
        (.hadClosedFirst(.orig), "the client had closed first"),
        (.hadClosedFirst(.resp), "the server had closed first"),
        (.refused, "connection refused: the server answered the SYN with RST (nothing listening)"),
        (.synUnanswered(attempts: 1), "SYN never answered"),
        (.synUnanswered(attempts: 1234), "SYN sent 1234 times, never answered"),
        (.noEnding, "no ending seen before the capture ended"),
        (.midstream, "the capture starts mid-connection: roles were guessed from the ports"),
        (.oneSided(seen: .orig, .acknowledgedUnseenData, acknowledged: 12_345),
         "one-sided capture: only the client → server direction was captured; the client acknowledged 12,345 bytes the server sent, never seen"),
        (.oneSided(seen: .orig, .handshakeAnswered, acknowledged: 0),
         "one-sided capture: only the client → server direction was captured; the client acknowledged a SYN-ACK that was not captured"),
        (.oneSided(seen: .resp, .handshakeAnswered, acknowledged: 0),
         "one-sided capture: only the server → client direction was captured; the server went on after its SYN-ACK, which was acknowledged out of sight"),
        (.finInferred(.resp), "the server's FIN was not captured: inferred from the client's acknowledgment of it"),
        (.peerCloseUnknown(closer: .orig), "client closed (FIN); whether the server closed is unknown: its direction was not captured"),
        (.tupleReused(previous: 1, .afterRefusal), "a new SYN reopened the 4-tuple of connection 1, which was refused (its client was closed)"),
        (.tupleReused(previous: 7, .refusedSYNRepeated), "the refused SYN of connection 7 came again with the same initial sequence number: a retransmission, so the RST had not reached the client's TCP (a client that takes it closes, and a new connect() picks another; RFC 9293 §3.10.7.3)"),
        (.tupleReused(previous: 2, .afterReset), "a new SYN reopened the 4-tuple of connection 2, which was reset"),
        (.tupleReused(previous: 3, .afterClose), "a new SYN reopened the 4-tuple of connection 3, which had closed"),
        (.tupleReused(previous: 4, .aboveTimeWait), "a new SYN reopened the 4-tuple of connection 4, in TIME-WAIT: its sequence number is above the old connection's (RFC 9293 §3.10.7.4)"),
        (.tupleReused(previous: 5, .newerTimestamp), "a new SYN reopened the 4-tuple of connection 5, in TIME-WAIT: its timestamp is newer than the old connection's (RFC 6191)"),
        (.tupleReused(previous: 12345, .connectRetried), "a new SYN reopened the 4-tuple of connection 12345 with a new initial sequence number before the handshake completed: connect() retried"),
        (.inFlightAtRST(.orig, bytes: 1_000), "1,000 bytes sent by the client were never acknowledged (in flight at the RST)"),
        (.sentAfterRST(.resp, bytes: 2_048), "the server put 2,048 bytes on the wire after the RST"),
        (.acknowledgedBeforeRST(resetter: .resp, bytes: 30_000),
         "the server had acknowledged 30,000 bytes of the client's data when it reset"),
        (.unacknowledgedAtEnd(.resp, bytes: 999), "999 bytes sent by the server were not acknowledged before the capture ended"),
        (.halfCloseBytes(.resp, bytes: 9_656_712), "the server sent 9,656,712 bytes after receiving the client's FIN (half-close)"),
        (.lateRST(from: .orig, packet: 12345), "an RST from the client arrived after the close (packet 12345)"),
        (.rstsNotAccepted(1), "1 RST was not accepted (wrong sequence number, RFC 5961)"),
        (.rstsNotAccepted(1000), "1000 RSTs were not accepted (wrong sequence number, RFC 5961)"),
        (.zeroWindow(.orig), "the client's last advertised window was 0: its application was not reading"),
        (.idleTimeout(seconds: 3600), "no packet for 3600 s: reported as idle and forgotten"),
        (.unansweredTimeout(seconds: 130), "no answer for 130 s: reported and forgotten"),
        (.evicted(limit: 500_000), "evicted: more than 500,000 connections were open at once"),
        (.dataAfterFIN, "a side sent data after its own FIN (protocol violation)"),
        (.leftInTimeWait(.orig), "the client is left in TIME-WAIT"),
        (.leftInTimeWait(.resp), "the server is left in TIME-WAIT"),
        (.ledgerMismatch(sender: .orig, [.readExceedsWritten(read: 40_000, written: 30_000),
                                         .sentExceedsWritten(sent: 35_000, written: 30_000)]),
         "LEDGER DOES NOT ADD UP (client → server): the peer read 40,000 bytes but only 30,000 were written; "
            + "35,000 bytes on the wire but only 30,000 written"),
        (.ledgerMismatch(sender: .resp, [.readExceedsSent(read: 5_000, sent: 4_000)]),
         "LEDGER DOES NOT ADD UP (server → client): the peer read 5,000 bytes but only 4,000 were put on the wire"),
        (.ledgerMismatch(sender: .orig, [.partsDoNotAddUp(neverSent: 1000, unacked: 2000, unread: 3000, lost: 7000)]),
         "LEDGER DOES NOT ADD UP (client → server): never sent 1,000 + unacked 2,000 + unread 3,000 ≠ lost 7,000"),
        (.ledgerMismatch(sender: .orig, [.partsDoNotAddUp(neverSent: 1, unacked: 2, unread: 3, lost: nil)]),
         "LEDGER DOES NOT ADD UP (client → server): never sent 1 + unacked 2 + unread 3 ≠ lost missing"),
        (.ledgerMismatch(sender: .resp, [.lostIsNotWrittenMinusRead(writtenMinusRead: 6_000, lost: 5_000)]),
         "LEDGER DOES NOT ADD UP (server → client): written − read = 6,000 but lost = 5,000"),
        (.ledgerMismatch(sender: .resp, [.lostIsNotWrittenMinusRead(writtenMinusRead: 6, lost: nil), .partsOverflow]),
         "LEDGER DOES NOT ADD UP (server → client): written − read = 6 but lost = missing; "
            + "never sent + unacked + unread overflows"),
        (.bytesLost(sender: .orig, Note.BytesLost(lost: 150_000, written: 300_000, neverSent: 100_000, unacked: 4_000,
                                                  unread: 46_000)),
         "150,000 of 300,000 bytes the client wrote were lost: 100,000 never left the client's send queue, "
            + "4,000 were sent but never acknowledged, 46,000 reached the server but were never read"),
        (.bytesLost(sender: .resp, Note.BytesLost(lost: 10, written: 10, neverSent: 0, unacked: nil, unread: 10)),
         "10 of 10 bytes the server wrote were lost: 10 reached the client but were never read"),
        (.bytesLost(sender: .orig, Note.BytesLost(lost: 5, written: 5, neverSent: nil, unacked: nil, unread: nil)),
         "5 of 5 bytes the client wrote were lost"),
    ]

    /// The kernel lane's notes, kept apart from `samples` so that the perturbed goldens, which
    /// draw their notes from `samples`, stay the records they were.
    static let kernelSamples: [(note: Note, text: String)] = [
        (.kernelReset(RSTReason(rawValue: 11, name: "TCP_ABORT_ON_CLOSE")), "the kernel reset it: close() with unread data (TCP_ABORT_ON_CLOSE)"),
        (.kernelReset(RSTReason(rawValue: 99, name: nil)), "the kernel reset it: reason 99"),
        (.kernelReset(nil), "the kernel sent it (tcp_send_reset; this kernel gives no reason)"),
        (.kernelStatesDiffer(.resp, kernelOnly: [StateTransition(side: .resp, from: .finWait1, to: .closing)],
                             inferredOnly: [StateTransition(side: .resp, from: .finWait1, to: .timeWait),
                                            StateTransition(side: .resp, from: .finWait2, to: .closed)]),
         "the server's states differ from the kernel's: the kernel went FIN-WAIT-1 → CLOSING, which teardown did not infer; "
            + "teardown inferred FIN-WAIT-1 → TIME-WAIT, FIN-WAIT-2 → CLOSED, which the kernel did not take"),
        (.kernelStatesDiffer(.orig, kernelOnly: [], inferredOnly: [StateTransition(side: .orig, from: .established, to: .closed)]),
         "the client's states differ from the kernel's: teardown inferred ESTABLISHED → CLOSED, which the kernel did not take"),
        (.rstNotFromThisHost, "not sent by this host: the kernel traced the socket but sent no such RST (a middlebox, a firewall, or an injected reset)"),
    ]

    static var allSamples: [(note: Note, text: String)] { samples + kernelSamples }

    @Test func everyCodeHasAWordedSample() {
        let sampled = Set(Self.allSamples.map(\.note.code))
        for code in Note.Code.allCases {
            #expect(sampled.contains(code), "no sample of \(code.rawValue)")
        }
    }

    @Test(arguments: NoteWordingTests.allSamples.indices)
    func words(_ i: Int) {
        let (note, text) = Self.allSamples[i]
        #expect(note.text == text)
    }

    /// The words go into JSON strings and terminals unescaped: no quote, backslash or control.
    @Test func wordsNeedNoEscape() {
        for (note, _) in Self.allSamples {
            let bad = note.text.unicodeScalars.contains { $0 == "\"" || $0 == "\\" || $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }
            #expect(!bad, "\(note.code.rawValue)")
        }
    }

    /// Codes are kebab-case and distinct (they are JSON's stable names).
    @Test func codesAreKebabCaseAndDistinct() {
        let codes = Note.Code.allCases.map(\.rawValue)
        #expect(Set(codes).count == codes.count)
        for code in codes {
            #expect(code.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }, "\(code)")
            #expect(!code.hasPrefix("-") && !code.hasSuffix("-") && !code.contains("--"), "\(code)")
        }
    }

    /// docs/output.md lists every code (a new code without its line fails here).
    @Test func everyCodeIsDocumented() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/output.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        for code in Note.Code.allCases {
            #expect(text.contains("| `\(code.rawValue)` |"), "docs/output.md does not list \(code.rawValue)")
        }
    }

    /// In JSON a note is `{"code":…,"text":…}`, the words unescaped.
    @Test func jsonObject() {
        let json = JSONWriter.text { w in JSONLinesRenderer.notes([.rstInWindow, .finCarriesLastBytes(7)], into: &w) }
        #expect(json == #"[{"code":"rst-in-window","text":"RST in the window but not at RCV.NXT: Linux answers with a challenge ACK and keeps the connection (RFC 5961 §3.2)"},{"code":"fin-carries-last-bytes","text":"FIN carries the last 7 bytes"}]"#)
    }
}
