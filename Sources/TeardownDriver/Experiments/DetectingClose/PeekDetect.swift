import Foundation
import TeardownModel
import TeardownWire

/// Experiment 14: recv(MSG_PEEK | MSG_DONTWAIT) as a probe for a closed peer (recv(2)).
///
/// Connection 1: nothing waiting, then data waiting, then after the server's FIN (and, as an
/// extra, after the RST the client's next write draws). Connection 2: after an RST from a
/// server that aborts with SO_LINGER {on, 0} while the connection is open.
public struct PeekDetect: Experiment {
    public var name: String { "peek-detect" }
    public var summary: String { "recv(MSG_PEEK|MSG_DONTWAIT) in each state: data (>0), nothing yet (-1 EAGAIN), after FIN (0), after RST (-1 ECONNRESET)" }
    public var claims: [Claim] {
        [Claim("data", "with data waiting, the peek returns its length (>0) and leaves it to be read", source: "seeds/002"),
         Claim("nothing-yet", "on an open connection with nothing waiting, the peek returns -1 with EAGAIN", source: "seeds/002"),
         Claim("after-fin", "after the peer's FIN, the peek returns 0", source: "seeds/002"),
         Claim("after-rst", "after the peer's RST, the peek returns -1 with ECONNRESET", source: "seeds/002")]
    }

    public init() {}

    /// The peeks' results are judged from the recorded calls; these are the rest.
    public struct Findings: ExperimentFindings {
        /// The connection the server closes (FIN), and the one it aborts (RST).
        var finPort: UInt16?, rstPort: UInt16?
        /// The read() after the peek that saw data waiting.
        var dataRead = -1
        public init() {}
    }

    public func perform(_ lab: Lab, _ notes: Notebook<Findings>) throws {
        // Connection 1: nothing, data, FIN.
        do {
            let port = try lab.serve { s in
                lab.sleep(ms: 40)
                s.write(count: 5, pattern: Array("hello".utf8))
                lab.sleep(ms: 40)
                s.close()
            }
            notes.finPort = port
            let c = try lab.connect(to: port)
            lab.sleep(ms: 10)
            c.peek()                                       // before the server writes
            lab.sleep(ms: 50)
            c.peek()                                       // "hello" waiting
            notes.dataRead = c.read(max: 1024)             // still all there
            lab.sleep(ms: 50)
            c.peek()                                       // after the FIN
            c.write(count: 5, pattern: Array("late!".utf8)) // draws an RST from the closed server
            lab.sleep(ms: 20)
            c.peek()
            lab.join()
            c.close()
        }
        // Connection 2: RST on an open connection.
        do {
            let port = try lab.serve { s in
                lab.sleep(ms: 20)
                s.setLinger(on: true, seconds: 0)
                s.close()
            }
            notes.rstPort = port
            let c = try lab.connect(to: port)
            lab.sleep(ms: 50)
            c.peek()
            c.peek()
            lab.join()
            c.close()
        }
        lab.sleep(ms: 20)
    }

    public func judge(_ o: Observation, _ found: Findings) -> [ClaimResult] {
        guard let p1 = found.finPort, let r1 = o.records(serverPort: p1).first,
              let p2 = found.rstPort, let r2 = o.records(serverPort: p2).first else {
            return Evidence.inconclusive(claims, "a connection was not captured")
        }
        let peeks1 = Evidence.calls(o, onClientPort: r1.orig.endpoint.port).filter { $0.actor == "client" && $0.call.hasPrefix("recv") }
        let peeks2 = Evidence.calls(o, onClientPort: r2.orig.endpoint.port).filter { $0.actor == "client" && $0.call.hasPrefix("recv") }
        guard peeks1.count == 4, peeks2.count == 2 else {
            return Evidence.inconclusive(claims, "expected 4 + 2 peeks, recorded \(peeks1.count) + \(peeks2.count)")
        }
        func text(_ c: RecordedCall) -> String { "recv = \(c.result)" + (c.errno.map { " " + $0 } ?? "") }
        let dataRead = found.dataRead
        let serverData = o.packets(r1).first { $0.from == .resp && $0.payloadLength > 0 }
        let fin = o.packets(r1, from: .resp, with: .fin).first
        let rst1 = o.packets(r1, from: .resp, with: .rst).first
        let rst2 = o.packets(r2, from: .resp, with: .rst).first
        // Each peek must come after the packet that set up its state (and the "nothing" one before any data).
        let nothingBeforeData = serverData.map { peeks1[0].time < $0.time } ?? true
        let dataAfter = serverData.map { peeks1[1].time > $0.time } ?? false
        let finAfter = fin.map { peeks1[2].time > $0.time } ?? false
        let rstAfter = rst2.map { peeks2[0].time > $0.time } ?? false
        let dataPrefix = serverData.map { "after packet \($0.number) (\($0.payloadLength) B): " } ?? "no data packet: "
        let dataText: String = dataPrefix + text(peeks1[1]) + ", then read = \(dataRead)"
        let finPrefix = fin.map { "after \(Observation.describe($0)): " } ?? "no FIN: "
        let rst1Text = rst1.map { Observation.describe($0) } ?? "no RST"
        var finText: String = finPrefix + text(peeks1[2])
        finText += "; after the client's next write drew \(Evidence.resetText(r1, rst1).map { "\(rst1Text) (\($0))" } ?? rst1Text) the peek returns \(text(peeks1[3]).dropFirst(7))"
        if rst1 != nil && peeks1[3].result == 0 { finText += " (a FIN already seen hides the later RST)" }
        let rstPrefix = rst2.map { "after \(Observation.describe($0)) on an open connection" + (Evidence.resetText(r2, $0).map { " (\($0))" } ?? "") + ": " } ?? "no RST: "
        var rstText: String = rstPrefix + text(peeks2[0])
        rstText += "; the next peek returns \(text(peeks2[1]).dropFirst(7))"
        if peeks2[1].errno != peeks2[0].errno { rstText += " (the error is reported once)" }
        return [
            ClaimResult(claims[0], holdsIf: dataAfter && peeks1[1].result == 5 && dataRead == 5, dataText),
            ClaimResult(claims[1], holdsIf: nothingBeforeData && peeks1[0].result == -1 && peeks1[0].errno == "EAGAIN",
                        "before any data: " + text(peeks1[0])),
            ClaimResult(claims[2], holdsIf: finAfter && peeks1[2].result == 0, finText),
            ClaimResult(claims[3], holdsIf: rstAfter && peeks2[0].result == -1 && peeks2[0].errno == "ECONNRESET", rstText),
        ]
    }
}
