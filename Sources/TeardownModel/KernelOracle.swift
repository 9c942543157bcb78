import TeardownKernel
import TeardownWire

/// One side's inferred states checked against the kernel's (the kernel lane as an oracle for the
/// state machine): the kernel's state changes of that side's socket, read in RFC 9293's terms,
/// each looked for among the side's inferred transitions.
public struct KernelStateCheck: Sendable, Hashable {
    /// The kernel's transitions of the side, as read (`KernelOracle.read`), and how many of them
    /// teardown inferred too.
    public var seen: Int
    public var agree: Int
    /// Kernel transitions teardown did not infer, and inferred ones the kernel did not take
    /// (transitions out of TIME-WAIT aside: the kernel's TIME-WAIT socket is not traced).
    public var kernelOnly: [StateTransition]
    public var inferredOnly: [StateTransition]

    public init(seen: Int, agree: Int, kernelOnly: [StateTransition], inferredOnly: [StateTransition]) {
        self.seen = seen; self.agree = agree; self.kernelOnly = kernelOnly; self.inferredOnly = inferredOnly
    }

    public var agrees: Bool { kernelOnly.isEmpty && inferredOnly.isEmpty }
}

/// Compares inferred states with the kernel's, mapping the differences of representation
/// explicitly and nothing else:
///
/// - Linux hands TIME-WAIT to a separate minisocket (tcp_time_wait, net/ipv4/tcp_minisocks.c):
///   the full socket's trace reads FIN-WAIT-2 → CLOSE or CLOSING → CLOSE with no RST. When the
///   peer's FIN had come (the capture shows it), that change is read as → TIME-WAIT. An orphan
///   handed over in FIN-WAIT-2 (tcp_fin_timeout, the peer never closed) stays FIN-WAIT-2 → CLOSED:
///   its minisocket's end is traced by nothing, so it stands for the end teardown infers.
/// - A change to the state the socket is already in (tcp_set_state is traced even then: CLOSING
///   → CLOSING when a second FIN crosses) is not a transition.
/// - The kernel's CLOSE is RFC 9293's CLOSED, TCP_SYN_RECV (also a request socket,
///   TCP_NEW_SYN_RECV) its SYN-RECEIVED.
public enum KernelOracle {
    static func state(_ k: KernelTCPState) -> TCPState? {
        switch k {
        case .established: return .established
        case .synSent: return .synSent
        case .synRecv, .newSynRecv: return .synReceived
        case .finWait1: return .finWait1
        case .finWait2: return .finWait2
        case .timeWait: return .timeWait
        case .close: return .closed
        case .closeWait: return .closeWait
        case .lastAck: return .lastAck
        case .listen: return .listen
        case .closing: return .closing
        default: return nil
        }
    }

    /// The kernel's transitions of `side`'s socket in RFC 9293's terms.
    static func read(_ rows: [KernelRow], side: Side, peerSentFIN: Bool) -> [StateTransition] {
        let mine = rows.filter { $0.side == side }
        let reset = mine.contains {
            if case .sendReset = $0.event.kind { return true }
            if case .receiveReset = $0.event.kind { return true }
            return false
        }
        var out: [StateTransition] = []
        for row in mine {
            guard case .stateChange(let f, let t, _) = row.event.kind, let from = state(f), var to = state(t), from != to else { continue }
            if to == .closed, from == .finWait2 || from == .closing, !reset, peerSentFIN { to = .timeWait }
            out.append(StateTransition(side: side, from: from, to: to))
        }
        return out
    }

    /// The kernel's transitions of `side`'s socket in `record`, read as `check` reads them
    /// (the TIME-WAIT handover included): nil without the kernel lane or when the kernel traced
    /// nothing of that socket. The experiments cite them where the kernel decides a claim.
    public static func transitions(of record: ConnectionRecord, side: Side) -> [StateTransition]? {
        guard let rows = record.kernelEvents, rows.contains(where: { $0.side == side }) else { return nil }
        let peerSentFIN = record.events.contains {
            if case .packet(let p) = $0 { return p.from == side.other && p.flags.contains(.fin) }
            return false
        }
        return read(rows, side: side, peerSentFIN: peerSentFIN)
    }

    /// The check of each side whose socket the kernel traced (nil for a side it did not: a
    /// remote host, or a socket whose events were not recorded).
    public static func check(_ record: ConnectionRecord, _ rows: [KernelRow]) -> KernelStateChecks {
        var inferred: [Side: [StateTransition]] = [.orig: [], .resp: []]
        var finFrom = Set<Side>()
        for event in record.events {
            guard case .packet(let p) = event else { continue }
            if p.flags.contains(.fin) { finFrom.insert(p.from) }
            for t in p.transitions { inferred[t.side, default: []].append(t) }
        }
        func side(_ s: Side) -> KernelStateCheck? {
            guard rows.contains(where: { $0.side == s }) else { return nil }
            let kernel = read(rows, side: s, peerSentFIN: finFrom.contains(s.other))
            var left = inferred[s] ?? []
            var kernelOnly: [StateTransition] = []
            for t in kernel {
                if let i = left.firstIndex(of: t) { left.remove(at: i) } else { kernelOnly.append(t) }
            }
            let inferredOnly = left.filter { $0.from != .timeWait }
            return KernelStateCheck(seen: kernel.count, agree: kernel.count - kernelOnly.count,
                                    kernelOnly: kernelOnly, inferredOnly: inferredOnly)
        }
        return KernelStateChecks(orig: side(.orig), resp: side(.resp))
    }
}
