import Foundation
import TeardownModel
import TeardownWire

/// Experiment 3: close() with SO_LINGER {on, 0} by the client, then by the server.
public struct LingerZero: Experiment {
    public var name: String { "linger-zero" }
    public var summary: String { "SO_LINGER {on, 0}: close() sends RST instead of FIN, no TIME-WAIT, the peer's read fails with ECONNRESET (client, then server)" }
    public var claims: [Claim] {
        [Claim("rst-not-fin", "close() with SO_LINGER {on, 0} sends an RST instead of a FIN (tried by client and by server)", source: "seeds/000, seeds/001, seeds/003"),
         Claim("no-time-wait", "the side that aborts is not left in TIME-WAIT", source: "seeds/001, seeds/003"),
         Claim("peer-reset", "the peer's next read() fails with ECONNRESET", source: "seeds/000"),
         Claim("returns-at-once", "close() returns at once (well under 10 ms)", source: "seeds/003")]
    }

    public init() {}

    /// What one connection showed, the one aborted by the client or the one aborted by the server.
    struct Abort {
        var port: UInt16?
        /// How long the aborter's close() took.
        var closeNanoseconds: Int64?
        /// The other side's read() after the RST, and its errno.
        var peerRead: Int?
        var peerErrno: String?
        /// The kernel's sockets on the port afterwards.
        var kernel: [KernelSocket] = []
    }

    public struct Findings: ExperimentFindings {
        /// By the side that aborts.
        var aborts: [Side: Abort] = [:]
        public init() {}
    }

    public func perform(_ lab: Lab, _ notes: Notebook<Findings>) throws {
        for aborter in ["client", "server"] {
            let side: Side = aborter == "client" ? .orig : .resp
            let port = try lab.serve(closingListener: .afterServing) { s in
                s.read(max: 1024)
                if aborter == "server" {
                    s.setLinger(on: true, seconds: 0)
                    let r = s.close()
                    notes.aborts[side, default: Abort()].closeNanoseconds = r.nanoseconds
                } else {
                    lab.sleep(ms: 50)
                    notes.aborts[side, default: Abort()].peerRead = s.read(max: 1024)
                    notes.aborts[side, default: Abort()].peerErrno = errnoName(s.lastErrno)
                    s.close()
                }
            }
            notes.aborts[side, default: Abort()].port = port
            let c = try lab.connect(to: port) { c in
                if aborter == "client" { c.setLinger(on: true, seconds: 0) }
            }
            c.write(count: 5, pattern: Array("hello".utf8))
            if aborter == "client" {
                lab.sleep(ms: 10)
                let r = c.close()
                notes.aborts[side, default: Abort()].closeNanoseconds = r.nanoseconds
            } else {
                lab.sleep(ms: 50)
                notes.aborts[side, default: Abort()].peerRead = c.read(max: 1024)
                notes.aborts[side, default: Abort()].peerErrno = errnoName(c.lastErrno)
                c.close()
            }
            lab.join()
            lab.sleep(ms: 30)
            notes.aborts[side, default: Abort()].kernel = KernelSockets.involving(port: port, in: KernelSockets.snapshot())
        }
    }

    public func judge(_ o: Observation, _ found: Findings) -> [ClaimResult] {
        var rstOK = true, twOK = true, resetOK = true, fastOK = true
        var ev: [[String]] = [[], [], [], []]
        for aborter in ["client", "server"] {
            let side: Side = aborter == "client" ? .orig : .resp
            let peer = aborter == "client" ? "server" : "client"
            let abort = found.aborts[side] ?? Abort()
            guard let port = abort.port, let r = o.records(serverPort: port).first else {
                return Evidence.inconclusive(claims, "the \(aborter)'s connection was not captured")
            }
            let rsts = o.packets(r, from: side, with: .rst), fins = o.packets(r, from: side, with: .fin)
            // With the kernel lane: the RST is the abort's (tcp_disconnect sends it for TCP_STATE).
            rstOK = rstOK && !rsts.isEmpty && fins.isEmpty && Evidence.reasonIs(r, rsts.first, ["TCP_STATE"])
            ev[0].append(Evidence.withReset("\(aborter): " + (rsts.first.map { Observation.describe($0) } ?? "no RST") + (fins.isEmpty ? ", no FIN" : ", \(fins.count) FIN"), r, rsts.first))
            let kernel = abort.kernel
            let tw = kernel.filter { $0.state == "TIME_WAIT" }
            // With the kernel lane: the aborter's socket went to CLOSED without a TIME-WAIT handover.
            twOK = twOK && tw.isEmpty && r.side(side).state != .timeWait && Evidence.kernelTimeWait(r, side) != true
            ev[1].append(Evidence.withPaths("\(aborter): " + (tw.isEmpty ? "no TIME_WAIT socket in the kernel" : tw.map(\.description).joined(separator: "; ")),
                                            r, [(side, aborter)]))
            let read = abort.peerRead, err = abort.peerErrno
            resetOK = resetOK && read == -1 && err == "ECONNRESET"
            ev[2].append("\(peer) read() = \(read.map(String.init) ?? "?")\(read == -1 ? " " + (err ?? "") : "")")
            let ns = abort.closeNanoseconds ?? .max
            fastOK = fastOK && ns < 10_000_000
            ev[3].append("\(aborter) close() took \(Observation.ms(ns))")
        }
        return [ClaimResult(claims[0], holdsIf: rstOK, ev[0].joined(separator: "; ")),
                ClaimResult(claims[1], holdsIf: twOK, ev[1].joined(separator: "; ")),
                ClaimResult(claims[2], holdsIf: resetOK, ev[2].joined(separator: "; ")),
                ClaimResult(claims[3], holdsIf: fastOK, ev[3].joined(separator: "; "))]
    }
}
