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

    public func perform(_ lab: Lab) throws {
        let listener = try lab.listener()
        let port = listener.local!.port
        lab.set("port", port)
        let closerIsClient = closer == .orig
        lab.spawn("server") {
            let s = try listener.accept()
            s.read(max: 1024)                                  // the request
            s.write(count: 6, pattern: Array("world!".utf8))   // the reply
            if closerIsClient {
                lab.set("peerRead", s.read(max: 1024))         // EOF expected
                lab.sleep(ms: 20)
                s.close()
            } else {
                lab.sleep(ms: 20)
                s.close()
            }
            listener.close()
        }
        let c = try lab.socket("client")
        try c.connectOrFail(lab.endpoint(port))
        c.write(count: 5, pattern: Array("hello".utf8))
        c.read(max: 1024)
        if closerIsClient {
            lab.sleep(ms: 20)
            c.close()
        } else {
            lab.set("peerRead", c.read(max: 1024))             // EOF expected
            lab.sleep(ms: 20)
            c.close()
        }
        lab.join()
        lab.sleep(ms: 50)
        lab.set("kernel", KernelSockets.involving(port: port, in: KernelSockets.snapshot()))
    }

    public func judge(_ o: Observation) -> [ClaimResult] {
        guard let port: UInt16 = o.value("port"), let r = o.records(serverPort: port).first else {
            return claims.map { ClaimResult($0, .inconclusive, "the connection was not captured") }
        }
        let closerSide = closer, peerSide = closer.other
        let fins = o.packets(r, from: closerSide, with: .fin)
        let rsts = o.packets(r, from: closerSide, with: .rst)
        let peerRead: Int? = o.value("peerRead")
        let kernel: [KernelSocket] = o.value("kernel") ?? []
        let closerEP = r.side(closerSide).endpoint, peerEP = r.side(peerSide).endpoint
        let closerTW = kernel.contains { $0.local == closerEP && $0.state == "TIME_WAIT" }
        let peerTW = kernel.contains { $0.local == peerEP && $0.state == "TIME_WAIT" }
        let kernelText = kernel.isEmpty ? "kernel lists no socket on the port" : "kernel: " + kernel.map(\.description).joined(separator: "; ")
        return [
            ClaimResult(claims[0], holdsIf: !fins.isEmpty && rsts.isEmpty,
                        fins.first.map { "\(Observation.describe($0)) from the \(me) after close()" } ?? "no FIN from the \(me)"),
            ClaimResult(claims[1], holdsIf: peerRead == 0, "the \(peer)'s read() after the FIN returned \(peerRead.map(String.init) ?? "nothing")"),
            ClaimResult(claims[2], holdsIf: r.teardown.kind == .graceful && r.closedBy == (closer == .orig ? .orig : .resp),
                        "teardown \(r.teardown.name), closed by \(r.closedBy?.rawValue ?? "-"), orig FINs \(r.orig.fin), resp FINs \(r.resp.fin)"),
            ClaimResult(claims[3], holdsIf: closerTW && !peerTW && r.side(closerSide).state == .timeWait,
                        "inferred \(me) state \(r.side(closerSide).state.rawValue), \(peer) \(r.side(peerSide).state.rawValue); \(kernelText)"),
        ]
    }
}

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

    public func perform(_ lab: Lab) throws {
        for aborter in ["client", "server"] {
            let listener = try lab.listener()
            let port = listener.local!.port
            lab.set("\(aborter).port", port)
            lab.spawn("server") {
                let s = try listener.accept()
                s.read(max: 1024)
                if aborter == "server" {
                    s.setLinger(on: true, seconds: 0)
                    let r = s.close()
                    lab.set("server.closeNs", r.nanoseconds)
                } else {
                    lab.sleep(ms: 50)
                    lab.set("server.peerRead", s.read(max: 1024))
                    lab.set("server.peerErrno", errnoName(s.lastErrno))
                    s.close()
                }
                listener.close()
            }
            let c = try lab.socket("client")
            if aborter == "client" { c.setLinger(on: true, seconds: 0) }
            try c.connectOrFail(lab.endpoint(port))
            c.write(count: 5, pattern: Array("hello".utf8))
            if aborter == "client" {
                lab.sleep(ms: 10)
                let r = c.close()
                lab.set("client.closeNs", r.nanoseconds)
            } else {
                lab.sleep(ms: 50)
                lab.set("client.peerRead", c.read(max: 1024))
                lab.set("client.peerErrno", errnoName(c.lastErrno))
                c.close()
            }
            lab.join()
            lab.sleep(ms: 30)
            lab.set("\(aborter).kernel", KernelSockets.involving(port: port, in: KernelSockets.snapshot()))
        }
    }

    public func judge(_ o: Observation) -> [ClaimResult] {
        var rstOK = true, twOK = true, resetOK = true, fastOK = true
        var ev: [[String]] = [[], [], [], []]
        for aborter in ["client", "server"] {
            let side: Side = aborter == "client" ? .orig : .resp
            let peer = aborter == "client" ? "server" : "client"
            guard let port: UInt16 = o.value("\(aborter).port"), let r = o.records(serverPort: port).first else {
                return claims.map { ClaimResult($0, .inconclusive, "the \(aborter)'s connection was not captured") }
            }
            let rsts = o.packets(r, from: side, with: .rst), fins = o.packets(r, from: side, with: .fin)
            rstOK = rstOK && !rsts.isEmpty && fins.isEmpty
            ev[0].append("\(aborter): " + (rsts.first.map { Observation.describe($0) } ?? "no RST") + (fins.isEmpty ? ", no FIN" : ", \(fins.count) FIN"))
            let kernel: [KernelSocket] = o.value("\(aborter).kernel") ?? []
            let tw = kernel.filter { $0.state == "TIME_WAIT" }
            twOK = twOK && tw.isEmpty && r.side(side).state != .timeWait
            ev[1].append("\(aborter): " + (tw.isEmpty ? "no TIME_WAIT socket in the kernel" : tw.map(\.description).joined(separator: "; ")))
            let read: Int? = o.value("\(peer).peerRead"), err: String? = o.value("\(peer).peerErrno")
            resetOK = resetOK && read == -1 && err == "ECONNRESET"
            ev[2].append("\(peer) read() = \(read.map(String.init) ?? "?")\(read == -1 ? " " + (err ?? "") : "")")
            let ns: Int64 = o.value("\(aborter).closeNs") ?? .max
            fastOK = fastOK && ns < 10_000_000
            ev[3].append("\(aborter) close() took \(Observation.ms(ns))")
        }
        return [ClaimResult(claims[0], holdsIf: rstOK, ev[0].joined(separator: "; ")),
                ClaimResult(claims[1], holdsIf: twOK, ev[1].joined(separator: "; ")),
                ClaimResult(claims[2], holdsIf: resetOK, ev[2].joined(separator: "; ")),
                ClaimResult(claims[3], holdsIf: fastOK, ev[3].joined(separator: "; "))]
    }
}
