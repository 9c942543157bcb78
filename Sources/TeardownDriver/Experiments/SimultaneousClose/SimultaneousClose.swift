import Foundation
import TeardownModel
import TeardownWire

/// Experiment 15: both sides call shutdown(SHUT_WR) at once, over repeated tries.
///
/// RFC 9293 §3.6 (Figure 13): when the FINs cross, each side receives a FIN while in
/// FIN-WAIT-1, goes to CLOSING, and on the ACK of its own FIN to TIME-WAIT; so both sides end
/// in TIME-WAIT. Whether the FINs cross on loopback is a race, so the experiment measures how
/// often it happens and judges the claim on the tries where it did.
public struct SimultaneousClose: Experiment {
    public var name: String { "simultaneous-close" }
    public var summary: String { "Simultaneous close: both sides shutdown(SHUT_WR) at once, 20 tries; how often the FINs cross, and whether both sides pass through CLOSING" }
    public var claims: [Claim] {
        [Claim("closing", "when both sides close at once and the FINs cross, each side passes through CLOSING (not FIN-WAIT-2) on its way to TIME-WAIT", source: "RFC 9293 §3.6"),
         Claim("both-time-wait", "after a simultaneous close both sides are left in TIME-WAIT (after an ordinary close only the first closer is)", source: "RFC 9293 §3.6")]
    }

    public static let tries = 20

    public init() {}

    /// What one try left behind.
    struct Attempt {
        var clientPort: UInt16
        /// The kernel's sockets on the client port just after both closed.
        var kernel: [KernelSocket]
    }

    public struct Findings: ExperimentFindings {
        var port: UInt16?
        /// By try, from 0.
        var attempts: [Int: Attempt] = [:]
        public init() {}
    }

    public func perform(_ lab: Lab, _ notes: Notebook<Findings>) throws {
        let listener = try lab.listener()
        let port = listener.local!.port
        notes.port = port
        for i in 0..<SimultaneousClose.tries {
            let barrier = SpinBarrier(parties: 2)
            lab.spawn("server") {
                let s = try listener.accept()
                barrier.wait()
                s.shutdown(.write)
                _ = s.readToEnd(chunk: 1024)
                s.close()
            }
            let c = try lab.socket("client")
            try c.connectOrFail(lab.endpoint(port))
            barrier.wait()
            c.shutdown(.write)
            _ = c.readToEnd(chunk: 1024)
            c.close()
            lab.join()
            lab.sleep(ms: 5)
            if let cp = c.local?.port {
                notes.attempts[i] = Attempt(clientPort: cp,
                                            kernel: KernelSockets.snapshot().filter { $0.local.port == cp || $0.remote.port == cp })
            }
        }
        listener.close()
    }

    /// What one try showed.
    public struct Try: Sendable {
        public var clientPort: UInt16
        /// Neither FIN acknowledges the other's FIN: each was sent before the other arrived.
        public var finsCrossed: Bool
        /// Both sides' inferred states went through CLOSING.
        public var bothClosing: Bool
        public var kind: TeardownKind
        /// The kernel listed both ends in TIME_WAIT afterwards.
        public var kernelBothTimeWait: Bool
        public var kernelTimeWaits: Int
        /// Every state the kernel listed for the try's two ends.
        public var kernelStates: [String]
        /// With the kernel lane: how many of the two sockets the kernel traced through CLOSING,
        /// and how many it handed over to TIME-WAIT (nil without the lane).
        public var kernelClosing: Int?
        public var kernelHandovers: Int?
    }

    /// Classifies each try from its packets, the inferred states and the kernel table.
    static func tries(_ o: Observation, _ found: Findings) -> [Try] {
        guard let port = found.port else { return [] }
        var out: [Try] = []
        let records = o.records(serverPort: port)
        for i in 0..<SimultaneousClose.tries {
            guard let attempt = found.attempts[i],
                  let r = records.first(where: { $0.orig.endpoint.port == attempt.clientPort }) else { continue }
            let kernel = attempt.kernel, cp = attempt.clientPort
            let f1 = o.packets(r, from: .orig, with: .fin).first, f2 = o.packets(r, from: .resp, with: .fin).first
            var crossed = false
            if let f1, let f2 {
                // A FIN that acknowledges the other FIN was sent after that FIN arrived.
                let ackOf = { (fin: PacketEvent) in fin.relativeSequence &+ UInt32(fin.payloadLength) &+ 1 }
                let oneAcksTwo = f1.relativeAcknowledgment.map { $0 == ackOf(f2) } ?? false
                let twoAcksOne = f2.relativeAcknowledgment.map { $0 == ackOf(f1) } ?? false
                crossed = !oneAcksTwo && !twoAcksOne
            }
            var closing: Set<Side> = []
            for p in o.packets(r) { for t in p.transitions where t.to == .closing { closing.insert(t.side) } }
            let tw = kernel.filter { $0.state == "TIME_WAIT" }
            let sides = [Side.orig, .resp]
            let kernelClosing = Evidence.hasLane(r) ? sides.filter { Evidence.kernelPassed(r, $0, .closing) == true }.count : nil
            let kernelHandovers = Evidence.hasLane(r) ? sides.filter { Evidence.kernelTimeWait(r, $0) == true }.count : nil
            out.append(Try(clientPort: cp, finsCrossed: crossed, bothClosing: closing.count == 2, kind: r.teardown.kind,
                           kernelBothTimeWait: tw.count == 2, kernelTimeWaits: tw.count,
                           kernelStates: kernel.map(\.state).sorted(), kernelClosing: kernelClosing, kernelHandovers: kernelHandovers))
        }
        return out
    }

    public func judge(_ o: Observation, _ found: Findings) -> [ClaimResult] {
        let ts = SimultaneousClose.tries(o, found)
        guard !ts.isEmpty else { return Evidence.inconclusive(claims, "no try was captured") }
        let crossed = ts.filter(\.finsCrossed), plain = ts.filter { !$0.finsCrossed }
        let freq = "FINs crossed in \(crossed.count) of \(ts.count) tries (\(crossed.count * 100 / ts.count)%)"
        let closingOK = crossed.filter { $0.bothClosing && $0.kind == .simultaneousClose }.count
        let plainClosing = plain.filter(\.bothClosing).count
        var ev0 = freq + "; in \(closingOK) of the \(crossed.count) crossed tries both sides went FIN-WAIT-1 → CLOSING → TIME-WAIT (teardown simultaneous-close)"
            + "; in the \(plain.count) others the second FIN acknowledged the first (ordinary close), \(plainClosing) with a CLOSING side"
        // The kernel lane settles it: tcp_set_state traces each socket's change to CLOSING. The
        // claim then holds when the kernel shows both sockets through CLOSING in exactly the tries
        // whose FINs crossed, and teardown calls those simultaneous-close.
        let laned = ts.filter { $0.kernelClosing != nil }
        let kernelBoth = laned.filter { $0.kernelClosing == 2 }
        var kernelClosingOK = true
        if !laned.isEmpty {
            let matched = kernelBoth.filter { $0.finsCrossed && $0.kind == .simultaneousClose }.count
            let plainSockets = laned.filter { !$0.finsCrossed }.map { $0.kernelClosing ?? 0 }.reduce(0, +)
            kernelClosingOK = laned.count == ts.count && matched == crossed.count && kernelBoth.count == crossed.count
            ev0 += "; the kernel settles it: it traced CLOSING on both sockets in \(kernelBoth.count) of the \(laned.count) tries,"
                + " \(matched) of them crossed tries that teardown calls simultaneous-close, and on \(plainSockets) socket\(plainSockets == 1 ? "" : "s") of the \(plain.count) ordinary closes"
        }
        let twOK = crossed.filter(\.kernelBothTimeWait).count
        let odd = crossed.filter { !$0.kernelBothTimeWait }.map { "port \($0.clientPort): " + ($0.kernelStates.isEmpty ? "nothing" : $0.kernelStates.joined(separator: ", ")) }
        let plainTW = plain.map(\.kernelTimeWaits)
        var ev1 = freq + "; the kernel listed both ends in TIME_WAIT after \(twOK) of the \(crossed.count) crossed tries"
            + (odd.isEmpty ? "" : " (otherwise it listed " + odd.joined(separator: "; ") + ")")
            + "; after the \(plain.count) ordinary closes it listed \(plainTW.filter { $0 == 1 }.count)× one TIME_WAIT"
            + (plainTW.contains { $0 != 1 } ? ", otherwise " + plainTW.filter { $0 != 1 }.map(String.init).joined(separator: ", ") : "")
        var handoversOK = true
        if !laned.isEmpty {
            let both = crossed.filter { $0.kernelHandovers == 2 }.count
            handoversOK = both == crossed.count
            ev1 += "; the kernel settles it: it handed both sockets over to TIME-WAIT (CLOSING → CLOSED after the peer's FIN, no RST) in \(both) of the \(crossed.count) crossed tries"
        }
        if crossed.isEmpty {
            return [ClaimResult(claims[0], .inconclusive, ev0), ClaimResult(claims[1], .inconclusive, ev1)]
        }
        return [ClaimResult(claims[0], holdsIf: closingOK == crossed.count && kernelClosingOK, ev0),
                ClaimResult(claims[1], holdsIf: twOK == crossed.count && handoversOK, ev1)]
    }
}
