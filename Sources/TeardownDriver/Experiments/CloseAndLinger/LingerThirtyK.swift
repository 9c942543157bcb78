import Foundation
import TeardownModel
import TeardownRender
import TeardownWire
#if canImport(Glibc)
import Glibc
#endif

/// Experiment 4, the SO_LINGER experiment of seeds/003: the client writes 30,000 bytes
/// ("hel" × 10,000) and closes, under each SO_LINGER setting (socket(7)).
///
/// The listener gets a small SO_RCVBUF and the server waits before it reads, so most of the
/// 30,000 bytes are still in the client's send queue when close() is called: that is what
/// SO_LINGER decides the fate of.
public struct LingerThirtyK: Experiment {
    public enum Mode: Sendable { case off, zero, oneSecond }
    public let mode: Mode

    public init(_ mode: Mode) { self.mode = mode }

    static let total = 30_000
    /// SO_RCVBUF of the listener (the kernel doubles it, socket(7)); inherited by the accepted socket.
    static let serverReceiveBuffer: Int32 = 4096

    public var name: String {
        switch mode {
        case .off: return "linger-off"
        case .zero: return "linger-zero-30k"
        case .oneSecond: return "linger-one-second"
        }
    }

    public var summary: String {
        switch mode {
        case .off: return "30,000 bytes then close() with SO_LINGER off: close returns at once, every byte arrives, FIN"
        case .zero: return "30,000 bytes then close() with SO_LINGER {on, 0} before the server reads: RST, and how many bytes were lost"
        case .oneSecond: return "30,000 bytes then close() with SO_LINGER {on, 1 s} and a server slower than 1 s: does close block, fail, reset?"
        }
    }

    public var claims: [Claim] {
        switch mode {
        case .off:
            return [Claim("close-at-once", "close() returns at once (under 10 ms) although data is still queued to send", source: "seeds/001, seeds/003"),
                    Claim("all-arrive", "the kernel goes on sending after close(): all 30,000 bytes reach the server's application", source: "seeds/001, seeds/003"),
                    Claim("fin-after-data", "the client's FIN follows the last byte and the close is an ordinary four-way close, no RST", source: "seeds/003")]
        case .zero:
            return [Claim("close-at-once", "close() returns at once (under 10 ms)", source: "seeds/001, seeds/003"),
                    Claim("rst-not-fin", "close() sends an RST instead of a FIN", source: "seeds/001, seeds/003"),
                    Claim("data-discarded", "the data still queued is thrown away: the server's application gets only part of the 30,000 bytes", source: "seeds/001, seeds/003"),
                    Claim("peer-reset", "the server, reading afterwards, gets \"connection reset\" (ECONNRESET)", source: "seeds/003")]
        case .oneSecond:
            return [Claim("close-blocks", "close() on a blocking socket blocks until the data is delivered or the linger time (1 s) runs out", source: "seeds/001, seeds/003"),
                    Claim("ewouldblock", "when the linger time runs out, close() fails with EWOULDBLOCK", source: "seeds/001"),
                    Claim("rst-on-timeout", "when the linger time runs out, the unsent data is thrown away and the connection is reset (RST)", source: "seeds/003"),
                    Claim("nonblocking-at-once", "on a non-blocking socket, close() with SO_LINGER {on, 1 s} returns at once", source: "seeds/001")]
        }
    }

    /// How long the server waits before it starts reading.
    var serverDelayMs: Int {
        switch mode {
        case .off: return 100
        case .zero: return 20          // counted from the client's close()
        case .oneSecond: return 1300   // slower than the 1 s linger time
        }
    }

    /// What one connection showed: the client writes 30,000 bytes and closes.
    struct Connection {
        var port: UInt16?
        /// What write() took of the 30,000 bytes.
        var written = 0
        /// The client's send queue (SIOCOUTQ) just before close(); -1 when not measured.
        var sendQueue = -1
        /// What the server read in all, its last read()'s result and that read's errno.
        var serverRead = -1
        var serverLast = 1
        var serverErrno = ""
        /// The kernel's sockets on the port right after close() returned.
        var kernelAfterClose: [KernelSocket] = []
    }

    public struct Findings: ExperimentFindings {
        /// The connection closed by a blocking client (every mode), and by a non-blocking one
        /// (SO_LINGER {on, 1 s} only).
        var blocking = Connection(), nonBlocking = Connection()
        public init() {}
    }

    public func perform(_ lab: Lab, _ notes: Notebook<Findings>) throws {
        if mode == .oneSecond {
            // Two clients at once, so the run stays short: a blocking one and a non-blocking one.
            let sem = DispatchSemaphore(value: 0)
            lab.spawn("nonblocking client") {
                defer { sem.signal() }
                try self.one(lab, notes, \.nonBlocking, name: "nb")
            }
            try one(lab, notes, \.blocking, name: "b")
            _ = sem.wait(timeout: .now() + 10)
        } else {
            try one(lab, notes, \.blocking, name: "b")
        }
        lab.join()
    }

    /// One connection: a slow server, a client that writes 30,000 bytes and closes; its
    /// findings go to `notes[connection]`, its server thread is "server `name`".
    func one(_ lab: Lab, _ notes: Notebook<Findings>, _ connection: WritableKeyPath<Findings, Connection>, name: String) throws {
        let nonBlocking = connection == \Findings.nonBlocking
        let clientClosed = DispatchSemaphore(value: 0)
        let mode = self.mode, delay = serverDelayMs
        let serverDone = DispatchSemaphore(value: 0)
        let port = try lab.serve(thread: "server \(name)", receiveBuffer: LingerThirtyK.serverReceiveBuffer,
                                 closingListener: .afterServing) { s in
            defer { serverDone.signal() }
            if mode == .zero { _ = clientClosed.wait(timeout: .now() + 5) }
            lab.sleep(ms: delay)
            let r = s.readToEnd()
            notes[connection].serverRead = r.bytes
            notes[connection].serverLast = r.last
            notes[connection].serverErrno = r.last < 0 ? errnoName(s.lastErrno) : ""
            s.close()
        }
        notes[connection].port = port
        let c = try lab.connect(to: port) { c in
            switch mode {
            case .off: c.setLinger(on: false, seconds: 0)
            case .zero: c.setLinger(on: true, seconds: 0)
            case .oneSecond: c.setLinger(on: true, seconds: 1)
            }
        }
        notes[connection].written = c.writeAll(count: LingerThirtyK.total)
        // Let the server's window fill up and its delayed ACK (about 40 ms) go out, so every
        // byte the server's TCP took is acknowledged on the wire before close().
        lab.sleep(ms: 60)
        notes[connection].sendQueue = Int(c.queues().send)
        if nonBlocking { c.setNonBlocking(true) }
        c.close()
        // The kernel's view right after close() returned: is the connection still alive?
        notes[connection].kernelAfterClose = KernelSockets.involving(port: port, in: KernelSockets.snapshot())
        clientClosed.signal()
        _ = serverDone.wait(timeout: .now() + 10)
        lab.sleep(ms: 30)
    }

    public func judge(_ o: Observation, _ found: Findings) -> [ClaimResult] {
        let b = found.blocking
        guard let port = b.port, let r = o.records(serverPort: port).first,
              let close = Evidence.calls(o, r, .orig, "close()").first else {
            return Evidence.inconclusive(claims, "the connection or its close() was not captured")
        }
        let written = b.written
        let queued = b.sendQueue
        let read = b.serverRead
        let last = b.serverLast
        let readErrno = b.serverErrno
        let after = b.kernelAfterClose
        let fins = Evidence.packets(o, r, from: .orig, with: .fin, after: close.time)
        let rsts = o.packets(r, from: .orig, with: .rst)
        let anyRST = o.packets(r).filter { $0.flags.contains(.rst) }
        let ledger = Evidence.ledger(r.orig.bytes)
        let closeText = "\(Evidence.describeTimed(close)) with \(Format.thousands(queued)) of \(Format.thousands(written)) bytes still in the send queue (SIOCOUTQ)"
        let readText = "the server read \(Format.thousands(max(0, read))) bytes, then read() = \(last)\(last < 0 ? " " + readErrno : "")"
        let finText = fins.first.map { Evidence.describe($0, after: close) + " at relative seq \($0.relativeSequence)" } ?? "no FIN from the client"
        let rstText = rsts.first.map { Evidence.describe($0, after: close) } ?? "no RST from the client"

        switch mode {
        case .off:
            return [
                ClaimResult(claims[0], holdsIf: close.result == 0 && close.durationNanoseconds < 10_000_000 && queued > 0, closeText),
                ClaimResult(claims[1], holdsIf: read == LingerThirtyK.total && last == 0, "\(readText); \(ledger)"),
                ClaimResult(claims[2], holdsIf: !fins.isEmpty && anyRST.isEmpty && r.teardown.kind == .graceful
                                && fins.first.map { $0.relativeSequence &+ UInt32($0.payloadLength) == UInt32(LingerThirtyK.total + 1) } == true,
                            "\(finText); \(anyRST.isEmpty ? "no RST" : "\(anyRST.count) RST"); teardown \(r.teardown.name)"),
            ]
        case .zero:
            let l = r.orig.bytes
            return [
                ClaimResult(claims[0], holdsIf: close.result == 0 && close.durationNanoseconds < 10_000_000, closeText),
                ClaimResult(claims[1], holdsIf: !rsts.isEmpty && fins.isEmpty && Evidence.reasonIs(r, rsts.first, ["TCP_STATE"]),
                            Evidence.withReset("\(rstText); \(fins.isEmpty ? "no FIN" : finText); teardown \(r.teardown.name)", r, rsts.first)),
                ClaimResult(claims[2], holdsIf: read >= 0 && read < LingerThirtyK.total && (l.lost ?? 0) > 0, "\(readText); \(ledger)"),
                ClaimResult(claims[3], holdsIf: last == -1 && readErrno == "ECONNRESET", readText),
            ]
        case .oneSecond:
            let ns = close.durationNanoseconds
            // The FIN is acknowledged by an ACK beyond its sequence number (seq + payload).
            let finSeq = fins.first.map { $0.relativeSequence &+ UInt32($0.payloadLength) }
            let ackedBeforeReturn = o.packets(r).contains { p in
                p.from == .resp && p.time <= Evidence.end(close) && finSeq.map { (p.relativeAcknowledgment ?? 0) > $0 } == true
            }
            let stillOpen = after.filter { $0.local == r.orig.endpoint }
            let afterText = stillOpen.isEmpty ? "after close() returned the kernel no longer listed the client's socket"
                : "after close() returned the kernel still held the client's socket: " + stillOpen.map(\.description).joined(separator: "; ")
            var results = [
                ClaimResult(claims[0], holdsIf: queued > 0 && ns >= 900_000_000 && ns < 1_500_000_000 && !ackedBeforeReturn,
                            "\(closeText); when close() returned the FIN had \(fins.first.map { $0.time <= Evidence.end(close) } == true ? "" : "not even ")been sent and was \(ackedBeforeReturn ? "" : "not ")acknowledged"),
                ClaimResult(claims[1], holdsIf: close.result == -1 && close.errno == "EAGAIN",
                            "\(Observation.describe(close)) after \(Observation.ms(ns))"),
                ClaimResult(claims[2], holdsIf: !rsts.isEmpty && read < LingerThirtyK.total,
                            Evidence.withReset("\(rstText); \(finText); \(afterText); \(readText); \(ledger); teardown \(r.teardown.name)", r, rsts.first)),
            ]
            if let nbPort = found.nonBlocking.port, let nr = o.records(serverPort: nbPort).first,
               let nbClose = Evidence.calls(o, nr, .orig, "close()").first {
                let nbQueued = found.nonBlocking.sendQueue
                let nbNs = nbClose.durationNanoseconds
                results.append(ClaimResult(claims[3], holdsIf: nbQueued > 0 && nbNs < 10_000_000,
                                           "second connection (port \(nbPort)), after fcntl(O_NONBLOCK on): \(Evidence.describeTimed(nbClose)) with \(Format.thousands(nbQueued)) bytes still queued"))
            } else {
                results.append(ClaimResult(claims[3], .inconclusive, "the non-blocking connection or its close() was not captured"))
            }
            return results
        }
    }
}
