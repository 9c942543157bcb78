import Foundation
import TeardownModel
import TeardownWire

/// Helpers shared by the group B experiments.
enum GroupBEvidence {
    /// Milliseconds from `a` to `b` as text ("+1.234 ms").
    static func after(_ a: Timestamp, _ b: Timestamp) -> String {
        Observation.ms(b.nanoseconds - a.nanoseconds)
    }

    /// Calls made on the connection whose client port is `clientPort` (by either side or a child).
    static func calls(_ o: Observation, onClientPort clientPort: UInt16) -> [RecordedCall] {
        o.calls.filter { $0.local?.port == clientPort || $0.remote?.port == clientPort }
    }

    static func kernelText(_ k: [KernelSocket]) -> String {
        k.isEmpty ? "kernel lists no socket" : "kernel: " + k.map(\.description).joined(separator: "; ")
    }

    static func result(_ c: RecordedCall?) -> String {
        guard let c else { return "no such call" }
        return "\(c.call) = \(c.result)" + (c.errno.map { " " + $0 } ?? "")
    }
}

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

    static let phases = ["parent-first", "child-first", "shutdown"]

    public init() {}

    public func perform(_ lab: Lab) throws {
        for phase in ForkShared.phases {
            let listener = try lab.listener()
            let port = listener.local!.port
            lab.set("\(phase).port", port)
            lab.spawn("server") {
                let s = try listener.accept()
                listener.close()
                let r = s.readToEnd()
                lab.set("\(phase).serverRead", r.last)
                s.close()
            }
            let c = try lab.socket("client")
            try c.connectOrFail(lab.endpoint(port))
            c.write(count: 5, pattern: Array("hello".utf8))
            lab.sleep(ms: 10)
            switch phase {
            case "parent-first":
                let child = try c.fork(actor: "client child", steps: [.sleep(ms: 150), .close])
                lab.sleep(ms: 40)
                c.close()
                lab.sleep(ms: 40)
                lab.set("\(phase).kernelBetween", KernelSockets.involving(port: port, in: KernelSockets.snapshot()))
                child.wait()
            case "child-first":
                let child = try c.fork(actor: "client child", steps: [.sleep(ms: 40), .close])
                lab.sleep(ms: 100)
                lab.set("\(phase).kernelBetween", KernelSockets.involving(port: port, in: KernelSockets.snapshot()))
                child.wait()
                lab.sleep(ms: 40)
                c.close()
            default:
                let child = try c.fork(actor: "client child", steps: [.sleep(ms: 40), .shutdown(.write), .sleep(ms: 150)])
                lab.sleep(ms: 100)
                lab.set("\(phase).parentWrite", c.write(count: 5, pattern: Array("again".utf8)))
                lab.set("\(phase).parentErrno", errnoName(c.lastErrno))
                child.wait()
                lab.sleep(ms: 20)
                c.close()
            }
            lab.join()
        }
        lab.sleep(ms: 30)
    }

    public func judge(_ o: Observation) -> [ClaimResult] {
        var nothingOK = true, lastOK = true
        var ev0: [String] = [], ev1: [String] = []
        for phase in ForkShared.phases.prefix(2) {
            guard let port: UInt16 = o.value("\(phase).port"), let r = o.records(serverPort: port).first else {
                return claims.map { ClaimResult($0, .inconclusive, "the \(phase) connection was not captured") }
            }
            let calls = GroupBEvidence.calls(o, onClientPort: r.orig.endpoint.port)
            let closes = calls.filter { $0.call.hasPrefix("close()") && $0.local == r.orig.endpoint }
            guard closes.count == 2, let first = closes.min(by: { $0.time < $1.time }), let last = closes.max(by: { $0.time < $1.time }) else {
                nothingOK = false; lastOK = false
                ev0.append("\(phase): expected two close() calls on the client socket, saw \(closes.count)")
                continue
            }
            let firstWho = first.call.contains("child") ? "child" : "parent", lastWho = last.call.contains("child") ? "child" : "parent"
            let between = o.packets(r).filter { $0.from == .orig && $0.time >= first.time && $0.time < last.time }
            let kernel: [KernelSocket] = o.value("\(phase).kernelBetween") ?? []
            let clientEstablished = kernel.contains { $0.local == r.orig.endpoint && $0.state == "ESTABLISHED" }
            nothingOK = nothingOK && between.isEmpty && clientEstablished
            ev0.append("\(phase): \(firstWho) close() = \(first.result), then no client packet for \(GroupBEvidence.after(first.time, last.time)) until the \(lastWho)'s close()"
                       + (between.isEmpty ? "" : " (but saw " + between.map(Observation.describe).joined(separator: ", ") + ")")
                       + "; meanwhile " + GroupBEvidence.kernelText(kernel.filter { $0.local == r.orig.endpoint }))
            let fin = o.packets(r, from: .orig, with: .fin).first
            let delay = fin.map { $0.time.nanoseconds - last.time.nanoseconds }
            lastOK = lastOK && delay.map { $0 >= 0 && $0 < 20_000_000 } == true
            ev1.append("\(phase): " + (fin.map { "\(Observation.describe($0)) \(GroupBEvidence.after(last.time, $0.time)) after the \(lastWho)'s close()" } ?? "no FIN from the client"))
        }
        // Shutdown by the child while the parent holds the socket.
        let phase = "shutdown"
        guard let port: UInt16 = o.value("\(phase).port"), let r = o.records(serverPort: port).first else {
            return claims.map { ClaimResult($0, .inconclusive, "the shutdown connection was not captured") }
        }
        let calls = GroupBEvidence.calls(o, onClientPort: r.orig.endpoint.port)
        let sd = calls.first { $0.call.hasPrefix("shutdown(SHUT_WR)") }
        let laterRelease = calls.filter { ($0.call.hasPrefix("close()") || $0.call.hasPrefix("_exit")) && $0.local == r.orig.endpoint }
            .map(\.time).min()
        let fin = o.packets(r, from: .orig, with: .fin).first
        var sdOK = false
        var ev2 = "no shutdown() call recorded"
        if let sd, let fin {
            let d = fin.time.nanoseconds - sd.time.nanoseconds
            sdOK = d >= 0 && d < 20_000_000 && laterRelease.map { fin.time < $0 } ?? true
            ev2 = "child \(GroupBEvidence.result(sd)), \(Observation.describe(fin)) \(GroupBEvidence.after(sd.time, fin.time)) later"
                + (laterRelease.map { ", \(GroupBEvidence.after(fin.time, $0)) before any holder closed or exited" } ?? "")
        } else if let sd {
            ev2 = "child \(GroupBEvidence.result(sd)), but no FIN from the client"
        }
        let w: Int? = o.value("\(phase).parentWrite"), we: String? = o.value("\(phase).parentErrno")
        let writeCall = calls.first { $0.actor == "client" && $0.call.hasPrefix("write") && $0.time > (sd?.time ?? Timestamp(nanoseconds: 0)) }
        let ev3 = "parent " + GroupBEvidence.result(writeCall) + " after the child's shutdown"
        return [ClaimResult(claims[0], holdsIf: nothingOK, ev0.joined(separator: "; ")),
                ClaimResult(claims[1], holdsIf: lastOK, ev1.joined(separator: "; ")),
                ClaimResult(claims[2], holdsIf: sdOK, ev2),
                ClaimResult(claims[3], holdsIf: w == -1 && we == "EPIPE", ev3)]
    }
}

/// Experiment 11: a process exits holding the only reference to a connected socket.
///
/// _exit(2): "Any open file descriptors belonging to the process are closed", which for the
/// last reference to a socket is a close(2), so TCP sends its FIN; the orphaned socket then
/// finishes the close without any process (tcp(7), tcp_orphan_retries).
public struct ExitWithoutClose: Experiment {
    public var name: String { "exit-without-close" }
    public var summary: String { "A process exits without closing its socket: the kernel closes it and sends FIN, and finishes the close for the dead process" }
    public var claims: [Claim] {
        [Claim("exit-sends-fin", "when a process exits holding a connected socket (no close(), no shutdown()), the kernel sends a FIN for it at the exit", source: "seeds/002, seeds/004"),
         Claim("peer-eof", "it is an orderly end, not an abort: no RST, and the peer's read() returns 0", source: "seeds/002"),
         Claim("orphan-finishes", "the kernel finishes the close for the dead process: it acknowledges the peer's FIN and the orphaned socket ends in TIME-WAIT", source: "seeds/002")]
    }

    public init() {}

    public func perform(_ lab: Lab) throws {
        let listener = try lab.listener()
        let port = listener.local!.port
        lab.set("port", port)
        lab.spawn("server") {
            let s = try listener.accept()
            listener.close()
            let r = s.readToEnd()
            lab.set("serverRead", r.last)
            lab.sleep(ms: 20)
            s.close()
        }
        let c = try lab.socket("client")
        try c.connectOrFail(lab.endpoint(port))
        c.write(count: 5, pattern: Array("hello".utf8))
        lab.sleep(ms: 10)
        // The child becomes the only holder: the parent closes its copy at once (nothing is sent).
        let child = try c.fork(actor: "client child", steps: [.sleep(ms: 100), .exit(code: 0)])
        c.close()
        child.wait()
        lab.set("childStatus", child.exitStatus ?? -1)
        lab.join()
        lab.sleep(ms: 30)
        lab.set("kernel", KernelSockets.involving(port: port, in: KernelSockets.snapshot()))
    }

    public func judge(_ o: Observation) -> [ClaimResult] {
        guard let port: UInt16 = o.value("port"), let r = o.records(serverPort: port).first else {
            return claims.map { ClaimResult($0, .inconclusive, "the connection was not captured") }
        }
        let calls = GroupBEvidence.calls(o, onClientPort: r.orig.endpoint.port)
        let exit = calls.first { $0.call.hasPrefix("_exit") }
        let parentClose = calls.first { $0.actor == "client" && $0.call.hasPrefix("close()") }
        let fin = o.packets(r, from: .orig, with: .fin).first
        let rsts = o.packets(r).filter { $0.flags.contains(.rst) }
        let beforeExit = o.packets(r).filter { p in p.from == .orig && parentClose.map { p.time > $0.time } == true && exit.map { p.time < $0.time } == true }
        var ev0 = "no _exit recorded"
        var ok0 = false
        if let exit, let fin {
            let d = fin.time.nanoseconds - exit.time.nanoseconds
            ok0 = d >= 0 && d < 20_000_000 && beforeExit.isEmpty
            ev0 = "parent \(GroupBEvidence.result(parentClose)) sent nothing (\(beforeExit.count) client packets before the exit); child \(exit.call); \(Observation.describe(fin)) \(GroupBEvidence.after(exit.time, fin.time)) later"
        } else if exit != nil {
            ev0 = "the child exited but no FIN came from the client"
        }
        let read: Int? = o.value("serverRead")
        let kernel: [KernelSocket] = o.value("kernel") ?? []
        let clientTW = kernel.contains { $0.local == r.orig.endpoint && $0.state == "TIME_WAIT" }
        let finAck = o.packets(r).last { $0.from == .orig && !$0.flags.contains(.fin) && !$0.flags.contains(.rst) }
        let serverFIN = o.packets(r, from: .resp, with: .fin).first
        let acked = serverFIN.map { sf in finAck.map { $0.number > sf.number } == true } ?? false
        return [ClaimResult(claims[0], holdsIf: ok0, ev0),
                ClaimResult(claims[1], holdsIf: rsts.isEmpty && read == 0,
                            "\(rsts.count) RST; server's read() after the FIN returned \(read.map(String.init) ?? "nothing"); teardown \(r.teardown.name)"),
                ClaimResult(claims[2], holdsIf: acked && clientTW && r.orig.state == .timeWait,
                            (serverFIN.map { "server's \(Observation.describe($0))" } ?? "no server FIN")
                            + (acked ? " acknowledged by packet \(finAck!.number) after the child was gone" : " not acknowledged")
                            + "; inferred client state \(r.orig.state.rawValue); " + GroupBEvidence.kernelText(kernel))]
    }
}
