import Foundation
import TeardownModel
import TeardownWire

/// Experiment 10: one socket held by two processes after fork(2).
///
/// close(2): "If fd is the last file descriptor referring to the underlying open file
/// description, the resources associated with the open file description are freed"; until
/// then TCP is not told anything. shutdown(2) acts on the socket itself, so it reaches every
/// holder. Three connections: the parent closes first, the child closes first, the child
/// calls shutdown(SHUT_WR) while the parent still holds the socket.
public struct ForkShared: Experiment {
    public var name: String { "fork-shared" }
    public var summary: String { "A socket shared with a forked child: close() in one holder sends nothing; the FIN leaves at the last close; shutdown() sends it at once" }
    public var claims: [Claim] {
        [Claim("close-sends-nothing", "close() by one of two processes sharing a socket sends nothing while the other still holds it (tried with the parent closing first, then the child)", source: "seeds/001, seeds/002, seeds/004"),
         Claim("fin-at-last-close", "the FIN leaves when the last holder closes", source: "seeds/001, seeds/002"),
         Claim("shutdown-sends-fin", "shutdown(SHUT_WR) sends a FIN at once, although another process still holds the socket", source: "seeds/001, seeds/002, seeds/004"),
         Claim("shutdown-affects-all", "the shutdown affects every holder: the other process can no longer write (EPIPE)", source: "seeds/002, seeds/004")]
    }

    /// The three connections, in the order they run.
    enum Phase: String, CaseIterable {
        case parentFirst = "parent-first", childFirst = "child-first", shutdown
    }

    public init() {}

    /// What one connection showed.
    struct Connection {
        var port: UInt16?
        /// The kernel's sockets on the port between the first holder's close() and the last's.
        var kernelBetween: [KernelSocket] = []
        /// The parent's write() after the child's shutdown(SHUT_WR), and its errno.
        var parentWrite: Int?
        var parentErrno: String?
    }

    public struct Findings: ExperimentFindings {
        var phases: [Phase: Connection] = [:]
        public init() {}
    }

    public func perform(_ lab: Lab, _ notes: Notebook<Findings>) throws {
        for phase in Phase.allCases {
            let port = try lab.serve { s in
                s.readToEnd()
                s.close()
            }
            notes.phases[phase, default: Connection()].port = port
            let c = try lab.connect(to: port)
            c.write(count: 5, pattern: Array("hello".utf8))
            lab.sleep(ms: 10)
            switch phase {
            case .parentFirst:
                let child = try c.fork(actor: "client child", steps: [.sleep(ms: 150), .close])
                lab.sleep(ms: 40)
                c.close()
                lab.sleep(ms: 40)
                notes.phases[phase, default: Connection()].kernelBetween = KernelSockets.involving(port: port, in: KernelSockets.snapshot())
                child.wait()
            case .childFirst:
                let child = try c.fork(actor: "client child", steps: [.sleep(ms: 40), .close])
                lab.sleep(ms: 100)
                notes.phases[phase, default: Connection()].kernelBetween = KernelSockets.involving(port: port, in: KernelSockets.snapshot())
                child.wait()
                lab.sleep(ms: 40)
                c.close()
            case .shutdown:
                let child = try c.fork(actor: "client child", steps: [.sleep(ms: 40), .shutdown(.write), .sleep(ms: 150)])
                lab.sleep(ms: 100)
                notes.phases[phase, default: Connection()].parentWrite = c.write(count: 5, pattern: Array("again".utf8))
                notes.phases[phase, default: Connection()].parentErrno = errnoName(c.lastErrno)
                child.wait()
                lab.sleep(ms: 20)
                c.close()
            }
            lab.join()
        }
        lab.sleep(ms: 30)
    }

    public func judge(_ o: Observation, _ found: Findings) -> [ClaimResult] {
        var nothingOK = true, lastOK = true
        var ev0: [String] = [], ev1: [String] = []
        for phase in [Phase.parentFirst, .childFirst] {
            let seen = found.phases[phase] ?? Connection()
            guard let port = seen.port, let r = o.records(serverPort: port).first else {
                return Evidence.inconclusive(claims, "the \(phase.rawValue) connection was not captured")
            }
            let calls = Evidence.calls(o, onClientPort: r.orig.endpoint.port)
            let closes = calls.filter { $0.call.hasPrefix("close()") && $0.local == r.orig.endpoint }
            guard closes.count == 2, let first = closes.min(by: { $0.time < $1.time }), let last = closes.max(by: { $0.time < $1.time }) else {
                nothingOK = false; lastOK = false
                ev0.append("\(phase.rawValue): expected two close() calls on the client socket, saw \(closes.count)")
                continue
            }
            let firstWho = first.call.contains("child") ? "child" : "parent", lastWho = last.call.contains("child") ? "child" : "parent"
            let between = o.packets(r).filter { $0.from == .orig && $0.time >= first.time && $0.time < last.time }
            let kernel = seen.kernelBetween
            let clientEstablished = kernel.contains { $0.local == r.orig.endpoint && $0.state == "ESTABLISHED" }
            nothingOK = nothingOK && between.isEmpty && clientEstablished
            ev0.append("\(phase.rawValue): \(firstWho) close() = \(first.result), then no client packet for \(Evidence.after(first.time, last.time)) until the \(lastWho)'s close()"
                       + (between.isEmpty ? "" : " (but saw " + between.map(Observation.describe).joined(separator: ", ") + ")")
                       + "; meanwhile " + Evidence.kernel(kernel.filter { $0.local == r.orig.endpoint }))
            let fin = o.packets(r, from: .orig, with: .fin).first
            let delay = fin.map { $0.time.nanoseconds - last.time.nanoseconds }
            lastOK = lastOK && delay.map { $0 >= 0 && $0 < 20_000_000 } == true
            ev1.append("\(phase.rawValue): " + (fin.map { "\(Observation.describe($0)) \(Evidence.after(last.time, $0.time)) after the \(lastWho)'s close()" } ?? "no FIN from the client"))
        }
        // Shutdown by the child while the parent holds the socket.
        let shutdown = found.phases[.shutdown] ?? Connection()
        guard let port = shutdown.port, let r = o.records(serverPort: port).first else {
            return Evidence.inconclusive(claims, "the shutdown connection was not captured")
        }
        let calls = Evidence.calls(o, onClientPort: r.orig.endpoint.port)
        let sd = calls.first { $0.call.hasPrefix("shutdown(SHUT_WR)") }
        let laterRelease = calls.filter { ($0.call.hasPrefix("close()") || $0.call.hasPrefix("_exit")) && $0.local == r.orig.endpoint }
            .map(\.time).min()
        let fin = o.packets(r, from: .orig, with: .fin).first
        var sdOK = false
        var ev2 = "no shutdown() call recorded"
        if let sd, let fin {
            let d = fin.time.nanoseconds - sd.time.nanoseconds
            sdOK = d >= 0 && d < 20_000_000 && laterRelease.map { fin.time < $0 } ?? true
            ev2 = "child \(Evidence.result(sd)), \(Observation.describe(fin)) \(Evidence.after(sd.time, fin.time)) later"
                + (laterRelease.map { ", \(Evidence.after(fin.time, $0)) before any holder closed or exited" } ?? "")
        } else if let sd {
            ev2 = "child \(Evidence.result(sd)), but no FIN from the client"
        }
        let w = shutdown.parentWrite, we = shutdown.parentErrno
        let writeCall = calls.first { $0.actor == "client" && $0.call.hasPrefix("write") && $0.time > (sd?.time ?? Timestamp(nanoseconds: 0)) }
        let ev3 = "parent " + Evidence.result(writeCall) + " after the child's shutdown"
        return [ClaimResult(claims[0], holdsIf: nothingOK, ev0.joined(separator: "; ")),
                ClaimResult(claims[1], holdsIf: lastOK, ev1.joined(separator: "; ")),
                ClaimResult(claims[2], holdsIf: sdOK, ev2),
                ClaimResult(claims[3], holdsIf: w == -1 && we == "EPIPE", ev3)]
    }
}
