import TeardownKernel
import TeardownModel
import TeardownRender
import TeardownWire

/// The kernel lane as evidence (issue 14): why the kernel sent an RST (tcp:tcp_send_reset's
/// reason) and which states its sockets went through (sock:inet_sock_set_state). Every helper
/// gives nil, or accepts, when the run had no kernel lane (not root, no tracefs): the verdicts
/// then rest on packets and sock_diag as before, and their evidence reads as before.
extension Evidence {
    /// The run recorded the kernel lane (`KernelJoin` gave every record its kernel events, even
    /// an empty list).
    static func hasLane(_ r: ConnectionRecord) -> Bool { r.kernelEvents != nil }

    /// The kernel's reason for the RST segment `p`, when a tcp_send_reset of this host accounts
    /// for it and the kernel gives one (Linux 6.10 and later).
    static func reason(_ p: PacketEvent?) -> RSTReason? {
        if case .sent(let reason?)? = p?.kernelReset { return reason }
        return nil
    }

    /// What the kernel said of the RST `p` of `r`, for evidence text: "the kernel's reason:
    /// close() with unread data (TCP_ABORT_ON_CLOSE)"; nil without the lane or without an RST.
    static func resetText(_ r: ConnectionRecord, _ p: PacketEvent?) -> String? {
        guard hasLane(r), let p else { return nil }
        switch p.kernelReset {
        case .sent(let reason?)?: return "the kernel's reason: \(KernelWording.reasonPhrase(reason))"
        case .sent(nil)?: return "the kernel sent it (this kernel gives no reason)"
        case .notSentHere?: return "no tcp_send_reset of this host accounts for it"
        case nil: return "the kernel lane has no reset for it"
        }
    }

    /// `text` followed by "; " and what the kernel said of `p`, when it said anything.
    static func withReset(_ text: String, _ r: ConnectionRecord, _ p: PacketEvent?) -> String {
        resetText(r, p).map { text + "; " + $0 } ?? text
    }

    /// Whether the kernel's reason for `p` is one of `names`: true without the lane (the packets
    /// alone decide then), false when the lane is there and gives another reason or none. A
    /// kernel older than 6.10, which traces resets without a reason, confirms any reset it sent.
    static func reasonIs(_ r: ConnectionRecord, _ p: PacketEvent?, _ names: Set<String>) -> Bool {
        guard hasLane(r) else { return true }
        switch p?.kernelReset {
        case .sent(let reason?)?: return reason.name.map(names.contains) ?? false
        case .sent(nil)?: return true
        default: return false
        }
    }

    /// The reasons a segment gets an RST because no socket will take it: the application's
    /// socket closed and data came (TCP_ABORT_ON_DATA), only a timewait socket left
    /// (TCP_TIMEWAIT_SOCKET: TIME-WAIT, or an orphan handed over in FIN-WAIT-2), or none at all
    /// (NO_SOCKET).
    static let noSocketReasons: Set<String> = ["TCP_ABORT_ON_DATA", "TCP_TIMEWAIT_SOCKET", "NO_SOCKET"]

    /// The states the kernel's socket of `side` went through, from its last ESTABLISHED on
    /// (changes to the same state left out).
    static func kernelStates(_ r: ConnectionRecord, _ side: Side) -> [KernelTCPState]? {
        guard let rows = r.kernelEvents else { return nil }
        var states: [KernelTCPState] = []
        for row in rows where row.side == side {
            guard case .stateChange(let from, let to, _) = row.event.kind, from != to else { continue }
            if states.isEmpty { states.append(from) }
            states.append(to)
        }
        if let i = states.lastIndex(of: .established) { states.removeFirst(i) }
        return states
    }

    /// The kernel handed `side`'s connection over to a TIME-WAIT socket (the full socket traced
    /// FIN-WAIT-2 → CLOSED or CLOSING → CLOSED after the peer's FIN, without an RST:
    /// `KernelOracle`); nil without the lane or when the kernel traced nothing of the socket.
    static func kernelTimeWait(_ r: ConnectionRecord, _ side: Side) -> Bool? {
        KernelOracle.transitions(of: r, side: side).map { $0.contains { $0.to == .timeWait } }
    }

    /// The kernel's socket of `side` went through `state`; nil without the lane.
    static func kernelPassed(_ r: ConnectionRecord, _ side: Side, _ state: KernelTCPState) -> Bool? {
        kernelStates(r, side).map { $0.contains(state) }
    }

    /// An orphan handed over in FIN-WAIT-2: the full socket traced FIN-WAIT-2 → CLOSED without
    /// an RST and without the peer's FIN (tcp_time_wait with the FIN-WAIT-2 substate; the
    /// timewait socket that takes its place for tcp_fin_timeout is not traced).
    static func kernelOrphanHandover(_ r: ConnectionRecord, _ side: Side) -> Bool {
        guard let states = kernelStates(r, side), states.suffix(2) == [.finWait2, .close],
              let rows = r.kernelEvents, kernelTimeWait(r, side) == false,
              let close = rows.last(where: { row in
                  if case .stateChange(.finWait2, .close, _) = row.event.kind { return row.side == side }
                  return false
              })
        else { return false }
        // An RST of that socket (the orphan's own timer reset it) is no handover; one sent later
        // without a socket (NO_SOCKET, after the timewait socket expired) does not count.
        return !rows.contains { row in
            guard row.side == side, row.event.socket == close.event.socket else { return false }
            if case .sendReset = row.event.kind { return true }
            if case .receiveReset = row.event.kind { return true }
            return false
        }
    }

    /// "kernel: client ESTABLISHED → FIN-WAIT-1 → FIN-WAIT-2 → CLOSED, handed over to
    /// TIME-WAIT"; nil without the lane.
    static func kernelPath(_ r: ConnectionRecord, _ side: Side, _ who: String) -> String? {
        guard let states = kernelStates(r, side) else { return nil }
        guard !states.isEmpty else { return "kernel: no state change of the \(who)'s socket" }
        var s = "kernel: \(who) " + states.map(KernelWording.state).joined(separator: " → ")
        if kernelTimeWait(r, side) == true {
            s += ", handed over to TIME-WAIT"
        } else if kernelOrphanHandover(r, side) {
            s += ", handed over as an orphan in FIN-WAIT-2"
        }
        return s
    }

    /// `text` followed by "; " and the kernel's path of each of `sides`, when there is a lane.
    static func withPaths(_ text: String, _ r: ConnectionRecord, _ sides: [(Side, String)]) -> String {
        let paths = sides.compactMap { kernelPath(r, $0.0, $0.1) }
        return paths.isEmpty ? text : text + "; " + paths.joined(separator: "; ")
    }
}
