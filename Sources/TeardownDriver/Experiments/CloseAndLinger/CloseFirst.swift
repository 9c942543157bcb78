import Foundation
import TeardownModel
import TeardownWire

/// Experiments 1 and 2: a four-way close started by either side.
public struct CloseFirst: Experiment {
    /// Which side calls close() first.
    public let closer: Side

    public var name: String { closer == .orig ? "client-close" : "server-close" }
    public var summary: String {
        closer == .orig
            ? "Client closes first: four-way close; the server reads EOF and closes; the client ends in TIME-WAIT"
            : "Server closes first: the mirror image; the client reads EOF and closes; the server ends in TIME-WAIT"
    }

    var me: String { closer == .orig ? "client" : "server" }
    var peer: String { closer == .orig ? "server" : "client" }

    public var claims: [Claim] {
        [Claim("fin-first", "close() by the \(me) sends a FIN, not an RST", source: "seeds/000"),
         Claim("peer-eof", "the \(peer)'s read() returns 0 (EOF) after the FIN", source: "seeds/000"),
         Claim("four-way", "the close takes FIN and ACK in each direction, and both FINs are acknowledged", source: "seeds/000"),
         Claim("closer-time-wait", "the \(me), which closed first, is left in TIME-WAIT; the \(peer) is not", source: "seeds/000, seeds/003")]
    }

    public init(closer: Side) { self.closer = closer }

    public struct Findings: ExperimentFindings {
        var port: UInt16?
        /// The peer's read() after the closer's FIN.
        var peerRead: Int?
        /// The kernel's sockets on the port once both have closed.
        var kernel: [KernelSocket] = []
        public init() {}
    }

    public func perform(_ lab: Lab, _ notes: Notebook<Findings>) throws {
        let closerIsClient = closer == .orig
        let port = try lab.serve(closingListener: .afterServing) { s in
            s.read(max: 1024)                                  // the request
            s.write(count: 6, pattern: Array("world!".utf8))   // the reply
            if closerIsClient {
                notes.peerRead = s.read(max: 1024)             // EOF expected
                lab.sleep(ms: 20)
                s.close()
            } else {
                lab.sleep(ms: 20)
                s.close()
            }
        }
        notes.port = port
        let c = try lab.connect(to: port)
        c.write(count: 5, pattern: Array("hello".utf8))
        c.read(max: 1024)
        if closerIsClient {
            lab.sleep(ms: 20)
            c.close()
        } else {
            notes.peerRead = c.read(max: 1024)                 // EOF expected
            lab.sleep(ms: 20)
            c.close()
        }
        lab.join()
        lab.sleep(ms: 50)
        notes.kernel = KernelSockets.involving(port: port, in: KernelSockets.snapshot())
    }

    public func judge(_ o: Observation, _ found: Findings) -> [ClaimResult] {
        guard let port = found.port, let r = o.records(serverPort: port).first else {
            return Evidence.inconclusive(claims, "the connection was not captured")
        }
        let closerSide = closer, peerSide = closer.other
        let fins = o.packets(r, from: closerSide, with: .fin)
        let rsts = o.packets(r, from: closerSide, with: .rst)
        let peerRead = found.peerRead
        let kernel = found.kernel
        let closerEP = r.side(closerSide).endpoint, peerEP = r.side(peerSide).endpoint
        let closerTW = kernel.contains { $0.local == closerEP && $0.state == "TIME_WAIT" }
        let peerTW = kernel.contains { $0.local == peerEP && $0.state == "TIME_WAIT" }
        let kernelText = Evidence.kernel(kernel, none: "kernel lists no socket on the port")
        return [
            ClaimResult(claims[0], holdsIf: !fins.isEmpty && rsts.isEmpty,
                        fins.first.map { "\(Observation.describe($0)) from the \(me) after close()" } ?? "no FIN from the \(me)"),
            ClaimResult(claims[1], holdsIf: peerRead == 0, "the \(peer)'s read() after the FIN returned \(peerRead.map(String.init) ?? "nothing")"),
            ClaimResult(claims[2], holdsIf: r.teardown.kind == .graceful && r.closedBy == (closer == .orig ? .orig : .resp),
                        "teardown \(r.teardown.name), closed by \(r.closedBy?.rawValue ?? "-"), orig FINs \(r.orig.fin), resp FINs \(r.resp.fin)"),
            // With the kernel lane: the closer's socket was handed over to TIME-WAIT, the peer's not.
            ClaimResult(claims[3], holdsIf: closerTW && !peerTW && r.side(closerSide).state == .timeWait
                            && Evidence.kernelTimeWait(r, closerSide) != false && Evidence.kernelTimeWait(r, peerSide) != true,
                        Evidence.withPaths("inferred \(me) state \(r.side(closerSide).state.rawValue), \(peer) \(r.side(peerSide).state.rawValue); \(kernelText)",
                                           r, [(closerSide, me), (peerSide, peer)])),
        ]
    }
}
