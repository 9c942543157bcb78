/// What one segment tells the observer about one side: the events on which RFC 9293's state
/// diagram (§3.3.2, Figure 5) moves, as seen from between the two endpoints.
///
/// A segment is an event for its sender (it sent a SYN, a FIN, an RST, an acknowledgment) and,
/// by inference, for its receiver (its SYN or FIN was acknowledged, the peer's FIN reached it).
/// `Connection` derives the events from the segment and the sequence numbers it keeps; the one
/// place where a side's state changes is `TCPState.next(on:)`.
enum SideEvent: Sendable, Hashable, CaseIterable {
    /// The side sent a SYN: it opened actively (§3.10.1 OPEN call; §3.10.2 SEND in LISTEN).
    case sendSYN
    /// The side answered a SYN with SYN-ACK (§3.10.7.2: LISTEN receives a SYN).
    case sendSYNACK
    /// The side acknowledged the peer's SYN with a segment without SYN, so it had the peer's
    /// SYN-ACK (§3.10.7.3: SYN-SENT sends the handshake's third segment).
    case sendACKOfSYN
    /// The peer's SYN-ACK acknowledged the side's SYN (§3.10.7.3, SYN-SENT, fourth step).
    case receiveSYNACK
    /// A segment without SYN acknowledged the side's SYN (§3.10.7.4, fifth step, SYN-RECEIVED).
    case receiveACKOfSYN
    /// The side closed: its FIN (§3.10.4 CLOSE call).
    case sendFIN
    /// The peer's FIN reached the side: it acknowledged the FIN, or the peer sent something
    /// after it, which cannot arrive first (§3.10.7.4, eighth step: check the FIN bit).
    case receiveFIN
    /// The peer acknowledged the side's FIN (§3.10.7.4, fifth step, in FIN-WAIT-1, CLOSING and
    /// LAST-ACK).
    case receiveACKOfFIN
    /// The side sent an RST that the peer accepted (§3.10.5 ABORT call; or §3.10.7.1, the answer
    /// to a segment for a connection that does not exist).
    case sendRST
    /// The side accepted the peer's RST (§3.10.7.3 in SYN-SENT, §3.10.7.4 second step otherwise;
    /// in TIME-WAIT as Linux does, RFC 1337 §3 notwithstanding).
    case receiveRST
    /// The capture began after the handshake: a side's first segment carried no SYN, which
    /// proves both sides synchronized (an observer's event, not the RFC's; gopacket's
    /// assembler makes the same inference).
    case joinMidstream
}

extension TCPState {
    /// The state a side enters on `event`: RFC 9293's state diagram (§3.3.2, Figure 5, and
    /// Figure 13 for the simultaneous close), as inferred from the segments between the two
    /// endpoints. An event the RFC does not act on in a state leaves it as it is.
    @inline(__always)
    func next(on event: SideEvent) -> TCPState {
        switch (self, event) {
        // §3.10.1 OPEN call (active) in CLOSED, §3.10.2 SEND call in LISTEN: -> SYN-SENT.
        case (.closed, .sendSYN), (.listen, .sendSYN):
            return .synSent
        // Any other SYN is a retransmission or a new incarnation (which `Connection` handles).
        case (_, .sendSYN):
            return self

        // §3.10.7.2 LISTEN: a SYN arrives and is answered with SYN-ACK -> SYN-RECEIVED. (A side
        // first taken for the originator, in CLOSED, was in fact listening.)
        case (.listen, .sendSYNACK), (.closed, .sendSYNACK):
            return .synReceived
        // A retransmitted SYN-ACK, or the SYN-ACK of a simultaneous open (Figure 8).
        case (_, .sendSYNACK):
            return self

        // §3.10.7.3 SYN-SENT, fourth step: SYN and an acceptable ACK -> ESTABLISHED.
        case (.synSent, .receiveSYNACK):
            return .established
        case (_, .receiveSYNACK):
            return self

        // §3.10.7.3 SYN-SENT, the handshake's third segment: it sends the ACK of the peer's SYN
        // from ESTABLISHED, so the SYN-ACK did arrive.
        case (.synSent, .sendACKOfSYN):
            return .established
        case (_, .sendACKOfSYN):
            return self

        // §3.10.7.4 fifth step, SYN-RECEIVED: an acceptable ACK -> ESTABLISHED.
        case (.synReceived, .receiveACKOfSYN):
            return .established
        case (_, .receiveACKOfSYN):
            return self

        // §3.10.4 CLOSE call: ESTABLISHED (and SYN-RECEIVED) -> FIN-WAIT-1.
        case (.established, .sendFIN), (.synReceived, .sendFIN):
            return .finWait1
        // §3.10.4 CLOSE call: CLOSE-WAIT -> LAST-ACK.
        case (.closeWait, .sendFIN):
            return .lastAck
        // A FIN where the RFC sends none (SYN-SENT, no connection) changes nothing observable.
        case (_, .sendFIN):
            return self

        // §3.10.7.4 eighth step: SYN-RECEIVED and ESTABLISHED -> CLOSE-WAIT.
        case (.synReceived, .receiveFIN), (.established, .receiveFIN):
            return .closeWait
        // §3.10.7.4 eighth step, FIN-WAIT-1, its FIN not yet acknowledged -> CLOSING (Figure 13).
        // (Had the ACK of its FIN come first, `receiveACKOfFIN` would have moved it on already:
        // the peer's segment that acknowledges it is seen before the FIN can be inferred delivered.)
        case (.finWait1, .receiveFIN):
            return .closing
        // §3.10.7.4 eighth step, FIN-WAIT-2 -> TIME-WAIT.
        case (.finWait2, .receiveFIN):
            return .timeWait
        // In CLOSE-WAIT, CLOSING, LAST-ACK and TIME-WAIT the FIN was received already.
        case (_, .receiveFIN):
            return self

        // §3.10.7.4 fifth step, FIN-WAIT-1: the FIN is acknowledged -> FIN-WAIT-2.
        case (.finWait1, .receiveACKOfFIN):
            return .finWait2
        // §3.10.7.4 fifth step, CLOSING: the FIN is acknowledged -> TIME-WAIT.
        case (.closing, .receiveACKOfFIN):
            return .timeWait
        // §3.10.7.4 fifth step, LAST-ACK: the FIN is acknowledged -> CLOSED.
        case (.lastAck, .receiveACKOfFIN):
            return .closed
        case (_, .receiveACKOfFIN):
            return self

        // §3.10.5 ABORT call, §3.10.7.1: the side that sent an accepted RST holds no connection.
        case (_, .sendRST):
            return .closed
        // §3.10.7.3 SYN-SENT: an RST with an acceptable ACK -> CLOSED.
        case (.synSent, .receiveRST):
            return .closed
        // §3.10.7.4 second step: an acceptable RST -> CLOSED (from TIME-WAIT too, as Linux does
        // with net.ipv4.tcp_rfc1337=0).
        case (_, .receiveRST):
            return .closed

        // Joined mid-stream: the first segment without SYN proves a synchronized connection.
        case (.closed, .joinMidstream), (.listen, .joinMidstream):
            return .established
        case (_, .joinMidstream):
            return self
        }
    }
}
