import Testing
import TeardownModel
@testable import TeardownRender

/// The words of every diagnosis: the numbers measured appear as measured, and each says what
/// to change.
@Suite struct DiagnosisWordingTests {
    private static let s: Int64 = 1_000_000_000

    @Test func keepaliveRace_givesTheIdleGap_andTheServersWithThatTimeout() {
        let d = Diagnosis(.keepaliveRace(closer: .resp, idle: 5_020_000_000, requestBytes: 1_200), evidence: [7, 8, 9], confidence: .high)
        #expect(d.text == "the server closed the connection after 5.0 s idle (its FIN, packet 7) as the client sent 1,200 bytes of new data on it (packet 8); the server's TCP answered with an RST (packet 9): the data is lost, and the client sees ECONNRESET, or EOF and then EPIPE. 5.0 s is close to the default keep-alive timeout of Node.js's http server and Apache httpd (5 s): make the client's pool retire idle connections sooner than that, or retry requests that are safe to retry")
        let other = Diagnosis(.keepaliveRace(closer: .resp, idle: 30 * Self.s, requestBytes: 10), evidence: [7, 8, 9], confidence: .high)
        #expect(other.text.contains("30.0 s is the server's keep-alive (idle) timeout"))
    }

    @Test func everyFinding_hasWords_withItsNumbers() {
        let cases: [(Diagnosis, [String])] = [
            (Diagnosis(.idleTimeoutReset(resetter: .resp, silence: 350 * Self.s, prompted: true, fromPath: false), evidence: [40, 41], confidence: .medium),
             ["packet 41", "after 350.0 s of silence (packet 40)", "AWS NLB 350 s", "packets alone do not tell",
              "No keep-alive probe was seen in the silence: enable TCP keep-alive (SO_KEEPALIVE, with TCP_KEEPIDLE"]),
            (Diagnosis(.idleTimeoutReset(resetter: .orig, silence: 60 * Self.s, prompted: false, fromPath: false), evidence: [41], confidence: .medium),
             ["the client sent an RST (packet 41) after 60.0 s without a packet"]),
            (Diagnosis(.idleTimeoutReset(resetter: .resp, silence: 12 * Self.s, prompted: true, fromPath: true), evidence: [14, 15], confidence: .high),
             ["which sent the RST itself (see middlebox-reset). No keep-alive probe was seen"]),
            (Diagnosis(.idleTimeoutReset(resetter: .resp, silence: 11 * Self.s, prompted: true, fromPath: true,
                                         probes: .init(from: .orig, count: 1, idle: 11 * Self.s, interval: 0)),
                       evidence: [14, 15], confidence: .high),
             ["the server's RST (packet 15) answered the client's keep-alive probe (packet 14), its first segment after 11.0 s of silence",
              "Keep-alive probes were seen (the client's: 1, the first after 11.0 s idle): probes every 11.0 s did not keep the path's state; set TCP_KEEPIDLE and TCP_KEEPINTVL below that"]),
            (Diagnosis(.idleTimeoutReset(resetter: .resp, silence: 15 * Self.s, prompted: true, fromPath: false,
                                         probes: .init(from: .orig, count: 4, idle: 20 * Self.s, interval: 15 * Self.s)),
                       evidence: [14, 15], confidence: .medium),
             ["(the client's: 4, the first after 20.0 s idle, then every 15.0 s): probes every 15.0 s did not keep"]),
            (Diagnosis(.idleTimeoutDrop(sender: .orig, silence: 12 * Self.s, segments: 6, span: 3_400_000_000, reset: false, keepAlive: false),
                       evidence: [14, 19], confidence: .medium),
             ["the client was silent for 12.0 s, then sent again (packet 14) and the server answered nothing: 6 transmissions of one segment, the last (packet 19) 3.4 s after the silence ended; then the client sent nothing more (see retransmission-give-up)",
              "`ct state invalid drop`", "or the server went away meanwhile", "No keep-alive probe was seen"]),
            (Diagnosis(.idleTimeoutDrop(sender: .orig, silence: 20 * Self.s, segments: 3, span: 3 * Self.s, reset: true, keepAlive: true),
                       evidence: [7, 9, 10], confidence: .medium),
             ["the client was silent for 20.0 s, then sent 3 keep-alive probes (packets 7–9) over 3.0 s and the server answered none; then its TCP gave up and reset the connection (packet 10)",
              "came after 20.0 s idle, too late to keep the path's state: set TCP_KEEPIDLE below the path's idle timer"]),
            (Diagnosis(.closeUnreadRequest(closer: .resp, unreadBytes: 50, responseBytes: 2_000, inFlight: 1_000),
                       evidence: [9], confidence: .high),
             ["the server sent 2,000 bytes (its response) and closed with 50 bytes from the client unread (as its socket calls show)",
              "RST (packet 9)", "1,000 of its bytes were still in flight", "RFC 9112 §9.6", "shutdown(SHUT_WR)"]),
            (Diagnosis(.closeUnreadRequest(closer: .resp, unreadBytes: nil, responseBytes: 2_000, inFlight: 0, kernelReason: true),
                       evidence: [9], confidence: .high),
             ["closed with data from the client unread (the kernel's reason for the RST: TCP_ABORT_ON_CLOSE)"]),
            (Diagnosis(.closeUnreadRequest(closer: .resp, unreadBytes: 50, responseBytes: 2_000, inFlight: 0, kernelReason: true),
                       evidence: [9], confidence: .high),
             ["50 bytes from the client unread (as its socket calls show, and the kernel's reason for the RST, TCP_ABORT_ON_CLOSE)"]),
            (Diagnosis(.middleboxReset(resetter: .resp, rstHopLimit: 0, sideHopLimit: 0, bytesAfter: 0, notSentHere: true), evidence: [9], confidence: .high),
             ["claims to come from the server was not sent by it (the kernel lane traced the server's socket on this host, and no reset of this host accounts for it): a firewall"]),
            (Diagnosis(.middleboxReset(resetter: .resp, rstHopLimit: 61, sideHopLimit: 52, bytesAfter: 0, notSentHere: true), evidence: [9], confidence: .high),
             ["own segments: the kernel lane traced its socket on this host, and no reset of this host accounts for it; its TTL (hop limit) is 61"]),
            (Diagnosis(.closeWaitLeak(closer: .orig, silence: 95 * Self.s, atEnd: true), evidence: [7, 8], confidence: .medium),
             ["the client's FIN (packet 7) was acknowledged", "never closed for 95.0 s, until the capture ended", "CLOSE-WAIT"]),
            (Diagnosis(.closeWaitLeak(closer: .orig, silence: 300 * Self.s, atEnd: false), evidence: [7, 8], confidence: .medium),
             ["until the idle timeout reported it"]),
            (Diagnosis(.middleboxReset(resetter: .resp, rstHopLimit: 61, sideHopLimit: 52, bytesAfter: 500), evidence: [9], confidence: .high),
             ["the RST (packet 9) that claims to come from the server", "its TTL (hop limit) is 61 where all the others had 52",
              ", and the server sent 500 bytes after it", "NDSS 2009", "IP ID of 0"]),
            (Diagnosis(.middleboxReset(resetter: .orig, rstHopLimit: 0, sideHopLimit: 0, bytesAfter: 10), evidence: [9], confidence: .medium),
             ["own segments: the client sent 10 bytes after it"]),
            (Diagnosis(.zeroWindowAbort(receiver: .resp, resetter: .orig, duration: 3_502_000_000, probes: 2), evidence: [5, 10], confidence: .high),
             ["zero window from packet 5 for 3.5 s", "sent 2 segments into it", "gave up and reset it (packet 10)"]),
            (Diagnosis(.peerRestarted(resetter: .resp, silence: 2 * Self.s, bytes: 10), evidence: [7, 8], confidence: .medium),
             ["a bare RST from the server (packet 8)", "answered 10 bytes from the client (packet 7, after 2.0 s of silence)"]),
            (Diagnosis(.retransmissionGiveUp(sender: .orig, retransmissions: 4, span: 2_800_000_000, firstGap: 400_000_000, lastGap: 1_600_000_000, reset: true),
                       evidence: [5, 8, 9], confidence: .high),
             ["again 4 times (packets 5–8) over 2.8 s", "from 0.400 s to 1.6 s", "reset the connection (packet 9)", "tcp_retries2"]),
            (Diagnosis(.retransmissionGiveUp(sender: .orig, retransmissions: 5, span: 3_100_000_000, firstGap: 200_000_000, lastGap: 1_700_000_000, reset: false, timedOut: true),
                       evidence: [9, 13], confidence: .high),
             ["then the client sent nothing more (the kernel lane shows its socket closed with ETIMEDOUT: its TCP gave up)"]),
            (Diagnosis(.timeWaitRST(resetter: .resp, timeWaitSide: .orig), evidence: [9, 10], confidence: .high),
             ["the server's RST (packet 10) ended the client's TIME-WAIT early", "tcp_rfc1337=1"]),
            (Diagnosis(.timeWaitSYN(previous: 1, why: .aboveTimeWait), evidence: [10], confidence: .high),
             ["SYN (packet 10) reused the 4-tuple of connection 1", "sequence number was above"]),
            (Diagnosis(.harmlessReset(resetter: .resp, afterClose: false), evidence: [7, 9, 10], confidence: .high),
             ["the server's RST (packet 10) came after its own FIN (packet 7)", "harmless"]),
            (Diagnosis(.harmlessReset(resetter: .orig, afterClose: true), evidence: [9, 10], confidence: .high),
             ["after both FINs were acknowledged"]),
            (Diagnosis(.listenOverflow(repeats: 2), evidence: [4], confidence: .medium),
             ["SYN-ACK again 2 times after the client had acknowledged it (from packet 4)", "somaxconn"]),
            (Diagnosis(.listenOverflow(repeats: 0), evidence: [4, 5], confidence: .medium),
             ["with an RST (packet 5)", "tcp_abort_on_overflow=1"]),
        ]
        var codes = Set<Diagnosis.Code>()
        for (d, parts) in cases {
            codes.insert(d.code)
            for p in parts { #expect(d.text.contains(p), "\(d.code): \(d.text)") }
            #expect(!d.text.contains("\""), "no quote: JSON writes the words verbatim")
            #expect(!d.text.contains("\\"))
        }
        codes.insert(.keepaliveRace)
        #expect(codes == Set(Diagnosis.Code.allCases), "every code is worded here")
    }

    @Test func evidence_isSortedAndUnique_withoutZeros() {
        let d = Diagnosis(.harmlessReset(resetter: .resp, afterClose: false), evidence: [9, 0, 7, 9], confidence: .high)
        #expect(d.evidence == [7, 9])
    }
}
