import Foundation
import TeardownModel
import TeardownRender
import TeardownWire

/// Experiment 12: the server closes, the client never does.
///
/// The server's socket, closed by its process, is an orphan in FIN-WAIT-2 that no application
/// can ever read again; Linux keeps it for net.ipv4.tcp_fin_timeout seconds (tcp(7):
/// "how long to wait for a final FIN before the socket is always closed"), then forgets it.
/// Lowered to 1 s inside the experiment's namespace.
public struct OrphanFinWait2: Experiment {
    public var name: String { "orphan-fin-wait-2" }
    public var summary: String { "Orphaned FIN-WAIT-2: the server closes, the client never does; after tcp_fin_timeout (1 s here) the orphan is gone, a late write draws RST, the next EPIPE" }
    public var claims: [Claim] {
        [Claim("fin-wait-2", "the server, having closed while the client did not, waits in FIN-WAIT-2 as an orphan (the client sits in CLOSE-WAIT)", source: "seeds/002"),
         Claim("orphan-times-out", "after the FIN-WAIT-2 timeout (tcp_fin_timeout) the kernel drops the orphaned socket", source: "seeds/002"),
         Claim("late-write-rst", "the client's write after that succeeds locally but draws an RST: no socket is left to take it", source: "seeds/002"),
         Claim("then-epipe", "the client's next write fails with EPIPE and raises SIGPIPE", source: "seeds/002")]
    }
    public var sysctls: [(String, String)] { [("net.ipv4.tcp_fin_timeout", "1")] }

    public init() {}

    public struct Findings: ExperimentFindings {
        /// net.ipv4.tcp_fin_timeout inside the namespace, as read back ("?" when unreadable).
        var finTimeout = "?"
        var port: UInt16?
        /// The client's read() at the server's FIN.
        var eof: Int?
        /// The kernel's sockets on the port after the server closed, and once its orphan was
        /// gone (or 4 s had passed).
        var kernelBefore: [KernelSocket] = [], kernelAfter: [KernelSocket] = []
        /// How long after the client saw the FIN the orphan left the kernel's table.
        var goneAfterNanoseconds: Int64?
        public init() {}
    }

    public func perform(_ lab: Lab, _ notes: Notebook<Findings>) throws {
        notes.finTimeout = Netns.readSysctl("net.ipv4.tcp_fin_timeout") ?? "?"
        let port = try lab.serve { s in
            s.read(max: 1024)
            s.close()
        }
        notes.port = port
        let c = try lab.connect(to: port)
        c.write(count: 5, pattern: Array("hello".utf8))
        notes.eof = c.read(max: 1024)                // the server's FIN
        let eofAt = monotonic()
        lab.join()
        lab.sleep(ms: 20)
        notes.kernelBefore = KernelSockets.involving(port: port, in: KernelSockets.snapshot())
        // Poll the kernel's table until the server's orphan is gone (at most 4 s).
        var goneAfter: Int64?
        while monotonic() - eofAt < 4_000_000_000 {
            let k = KernelSockets.involving(port: port, in: KernelSockets.snapshot())
            if !k.contains(where: { $0.local.port == port }) { goneAfter = monotonic() - eofAt; break }
            lab.sleep(ms: 10)
        }
        notes.goneAfterNanoseconds = goneAfter
        notes.kernelAfter = KernelSockets.involving(port: port, in: KernelSockets.snapshot())
        lab.sleep(ms: 20)
        c.write(count: 5, pattern: Array("late!".utf8))
        lab.sleep(ms: 30)
        c.write(count: 5, pattern: Array("later".utf8))
        lab.sleep(ms: 10)
        c.close()
    }

    public func judge(_ o: Observation, _ found: Findings) -> [ClaimResult] {
        guard let port = found.port, let r = o.records(serverPort: port).first else {
            return Evidence.inconclusive(claims, "the connection was not captured")
        }
        let before = found.kernelBefore, after = found.kernelAfter
        let serverFW2 = before.contains { $0.local == r.resp.endpoint && $0.state == "FIN_WAIT2" }
        let clientCW = before.contains { $0.local == r.orig.endpoint && $0.state == "CLOSE_WAIT" }
        let finTimeout = found.finTimeout
        let gone = found.goneAfterNanoseconds
        let serverLeft = after.filter { $0.local == r.resp.endpoint }
        // "After the timeout": gone, and not before half the configured time (the kernel's floor is 3.5 RTO).
        let timeoutNs = (Int64(finTimeout) ?? 0) * 1_000_000_000
        let goneOK = gone.map { $0 >= timeoutNs / 2 && $0 < 4_000_000_000 } == true && serverLeft.isEmpty

        let calls = Evidence.calls(o, onClientPort: r.orig.endpoint.port)
        let writes = calls.filter { $0.actor == "client" && $0.call.hasPrefix("write") }
        let late = writes.count >= 3 ? writes[1] : nil, later = writes.count >= 3 ? writes[2] : nil
        let dataOut = late.flatMap { w in o.packets(r).first { $0.from == .orig && $0.payloadLength > 0 && $0.time >= w.time } }
        let rst = dataOut.flatMap { d in o.packets(r).first { $0.from == .resp && $0.flags.contains(.rst) && $0.number > d.number } }
        // Seen now and then: the orphan resets the connection itself when its timer fires (the
        // ACK of its FIN arrived while close() still held the socket, so the kernel kept the full
        // socket on a timer instead of a quiet FIN-WAIT-2 timewait entry).
        let serverFIN = o.packets(r, from: .resp, with: .fin).first
        let early = late.flatMap { w in o.packets(r).first { $0.from == .resp && $0.flags.contains(.rst) && $0.time < w.time } }
        var lateText = "client \(Evidence.result(late)); "
        if let early {
            lateText += "but the orphan had already reset the connection itself when its timer fired: \(Observation.describe(early))"
                + (serverFIN.map { " \(Evidence.after($0.time, early.time)) after its FIN" } ?? "")
        } else {
            lateText += (dataOut.map { "its data went out as \(Observation.describe($0)), answered by " } ?? "no data packet, ")
                + (rst.map { "\(Observation.describe($0)) (\($0.flags.contains(.ack) ? "with ACK" : "bare: no socket"))" } ?? "no RST from the server")
        }
        // The kernel lane settles what sock_diag's snapshots can only sample: the server's socket
        // went to FIN-WAIT-2 and was handed over as an orphan (its full socket freed, a timewait
        // socket in FIN-WAIT-2 left for tcp_fin_timeout), and the late write found no socket at
        // all (NO_SOCKET), where the living orphan answers TCP_TIMEWAIT_SOCKET (write-after-close).
        let lane = Evidence.hasLane(r)
        let orphaned = !lane || (Evidence.kernelOrphanHandover(r, .resp) && Evidence.kernelPassed(r, .orig, .closeWait) == true)
        let lateRST = early ?? rst
        let expired = !lane || Evidence.reason(rst)?.name == "NO_SOCKET"
        if lane {
            lateText = Evidence.withReset(lateText, r, lateRST)
        }
        var goneText = gone.map { "tcp_fin_timeout = \(finTimeout) s; the server's FIN_WAIT2 socket left the kernel table \(Observation.ms($0)) after the client saw the FIN; then " + Evidence.kernel(after) }
            ?? "the server's socket was still listed after 4 s: " + Evidence.kernel(after)
        if lane {
            goneText += "; the kernel settles it: the orphan's timewait socket is not traced, but the late write drew an RST for "
                + (Evidence.reason(rst).map { KernelWording.reasonPhrase($0) } ?? "no reason the kernel gave")
                + ", where a living orphan's is for a segment for a socket in TIME-WAIT (TCP_TIMEWAIT_SOCKET)"
        }
        return [
            ClaimResult(claims[0], holdsIf: serverFW2 && clientCW && orphaned,
                        Evidence.withPaths("after the client's read() = \(found.eof.map(String.init) ?? "?") (EOF): " + Evidence.kernel(before),
                                           r, [(.resp, "server"), (.orig, "client")])),
            ClaimResult(claims[1], holdsIf: goneOK && expired, goneText),
            ClaimResult(claims[2], holdsIf: early == nil && late?.result == 5 && rst != nil && Evidence.reasonIs(r, rst, Evidence.noSocketReasons), lateText),
            ClaimResult(claims[3], holdsIf: later?.result == -1 && later?.errno == "EPIPE" && later?.call.contains("SIGPIPE") == true,
                        "client \(Evidence.result(later)); SIGPIPE deliveries during the run: \(o.sigpipes)"),
        ]
    }
}
