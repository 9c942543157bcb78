import Foundation
import Testing
import TeardownCapture
@testable import TeardownDriver
import TeardownModel
import TeardownWire

/// Live runs of experiments 10-15 (fork, exit, orphaned FIN-WAIT-2, echo, peek, simultaneous
/// close). They assert what this kernel does. They need root (a network namespace and
/// capture), which CI has; without it each test says so and skips. The replay tests at the end
/// need no root: they read the recordings committed in captures/experiments.
@Suite(.serialized) struct GroupBExperimentTests {
    static func run(_ name: String) throws -> ExperimentResult? { try runLiveExperiment(name) }

    static func expectAllHold(_ r: ExperimentResult) {
        #expect(!r.claims.isEmpty)
        for c in r.claims { #expect(c.verdict == .holds, "\(r.name) \(c.claim.id): \(c.evidence)") }
    }

    /// Calls whose text marks them as made by a forked child.
    static func childCalls(_ r: ExperimentResult) -> [RecordedCall] { r.calls.filter { $0.call.contains("[child pid") } }

    @Test func forkShared_closeWaitsForLastHolder_shutdownDoesNot() throws {
        guard let r = try Self.run("fork-shared") else { return }
        Self.expectAllHold(r)
        #expect(r.records.count == 3)
        #expect(r.records.map(\.teardown.kind) == [.graceful, .graceful, .graceful])
        // The child's calls carry the child's pid, not ours, and three distinct children ran.
        let child = Self.childCalls(r)
        #expect(Set(child.map(\.pid)).count == 3)
        #expect(!child.contains { $0.pid == getpid() })
        #expect(child.filter { $0.call.hasPrefix("close()") }.count == 2)
        #expect(child.filter { $0.call.hasPrefix("shutdown(SHUT_WR)") }.count == 1)
        // In each of the first two connections the FIN is the first client packet after the second close().
        for rec in r.records.prefix(2) {
            var closes = 0, finAfterClose: Int?
            for e in rec.events {
                if case .call(let c) = e, c.side == .orig, c.call.hasPrefix("close()") { closes += 1 }
                if case .packet(let p) = e, p.from == .orig, p.flags.contains(.fin), finAfterClose == nil { finAfterClose = closes }
            }
            #expect(finAfterClose == 2, "FIN placed after both close() calls")
        }
        // The parent's write after the child's shutdown failed and raised SIGPIPE.
        let w = r.calls.filter { $0.actor == "client" && $0.call.hasPrefix("write") && $0.result < 0 }
        #expect(w.count == 1 && w.first?.errno == "EPIPE" && w.first?.call.contains("SIGPIPE") == true)
    }

    @Test func exitWithoutClose_kernelSendsFIN() throws {
        guard let r = try Self.run("exit-without-close") else { return }
        Self.expectAllHold(r)
        let rec = try #require(r.records.first)
        #expect(r.records.count == 1)
        #expect(rec.teardown.kind == .graceful && rec.closedBy == .orig)
        #expect(rec.orig.rst == 0 && rec.resp.rst == 0)
        #expect(rec.orig.state == .timeWait)
        let exit = try #require(Self.childCalls(r).first { $0.call.hasPrefix("_exit(0) without close()") })
        #expect(exit.pid != getpid())
        let fin = try #require(rec.events.compactMap { e -> PacketEvent? in
            if case .packet(let p) = e, p.from == .orig, p.flags.contains(.fin) { return p }; return nil
        }.first)
        #expect(fin.time > exit.time)
    }

    @Test func orphanFinWait2_timesOut_thenRSTThenEPIPE() throws {
        guard let r = try Self.run("orphan-fin-wait-2") else { return }
        let rec = try #require(r.records.first)
        for id in ["fin-wait-2", "orphan-times-out", "then-epipe"] {
            let c = try #require(r.claims.first { $0.claim.id == id })
            #expect(c.verdict == .holds, "\(id): \(c.evidence)")
        }
        let gone = try #require(r.claims.first { $0.claim.id == "orphan-times-out" })
        #expect(gone.evidence.contains("tcp_fin_timeout = 1 s"), "the sysctl was lowered inside the namespace")
        let late = try #require(r.claims.first { $0.claim.id == "late-write-rst" })
        if late.verdict == .holds {
            // The usual outcome: the orphan vanished quietly; the late data met no socket.
            #expect(rec.teardown.kind == .resetAfterClose)
            #expect(rec.rst?.from == .resp && rec.rst?.shape == .bare)
            // client → server: "hello" read by the server, "late!" sent and reset, the third write never made.
            #expect(rec.orig.bytes.written == 10 && rec.orig.bytes.readByPeer == 5 && rec.orig.bytes.lost == 5 && rec.orig.bytes.unacked == 5)
        } else {
            // The racy outcome seen about once in 15 runs here: the orphan's timer reset the connection itself.
            print("orphan-fin-wait-2: the orphan sent its own RST at the timeout: \(late.evidence)")
            #expect(late.verdict == .doesNotHold && late.evidence.contains("already reset the connection itself"))
            #expect(rec.rst?.from == .resp && rec.rst?.shape == .withACK)
            #expect(rec.orig.bytes.written == 5)
        }
    }

    @Test func echoClose_replyDrawsRST_secondWriteSIGPIPE() throws {
        guard let r = try Self.run("echo-close") else { return }
        Self.expectAllHold(r)
        let rec = try #require(r.records.first)
        #expect(rec.teardown.kind == .resetAfterClose)
        #expect(rec.rst?.from == .orig && rec.rst?.shape == .bare)
        #expect(rec.orig.bytes.written == 10 && rec.orig.bytes.readByPeer == 10)
        #expect(rec.resp.bytes.written == 9 && rec.resp.bytes.readByPeer == 0 && rec.resp.bytes.lost == 9 && rec.resp.bytes.unacked == 9)
    }

    @Test func echoShutdown_bothRepliesArrive_cleanClose() throws {
        guard let r = try Self.run("echo-shutdown") else { return }
        Self.expectAllHold(r)
        let rec = try #require(r.records.first)
        #expect(rec.teardown.kind == .graceful && rec.halfClose)
        #expect(rec.connState == .SF)
        #expect(rec.resp.bytes.written == 18 && rec.resp.bytes.readByPeer == 18 && rec.resp.bytes.lost == 0)
        #expect(rec.orig.bytes.written == 10 && rec.orig.bytes.readByPeer == 10)
    }

    @Test func peekDetect_eachState() throws {
        guard let r = try Self.run("peek-detect") else { return }
        Self.expectAllHold(r)
        #expect(r.records.map(\.teardown.kind) == [.resetAfterClose, .abortByResponder])
        let peeks = r.calls.filter { $0.call.hasPrefix("recv(") }.map { ($0.result, $0.errno) }
        #expect(peeks.map(\.0) == [-1, 5, 0, 0, -1, 0])
        #expect(peeks.map(\.1) == ["EAGAIN", nil, nil, nil, "ECONNRESET", nil])
    }

    @Test func simultaneousClose_frequencyMeasured_classificationMatchesPackets() throws {
        guard let r = try Self.run("simultaneous-close") else { return }
        #expect(r.records.count == SimultaneousClose.tries)
        let obs = Observation(records: r.records, calls: r.calls, values: [:], sigpipes: 0)
        // Recompute each try from the records alone (no kernel table here) and check the verdicts agree.
        var crossed = 0
        for rec in r.records {
            let fins = obs.packets(rec).filter { $0.flags.contains(.fin) }
            let o = fins.first { $0.from == .orig }, s = fins.first { $0.from == .resp }
            let of = try #require(o), sf = try #require(s)
            let acks = { (fin: PacketEvent, other: PacketEvent) in fin.relativeAcknowledgment == other.relativeSequence &+ 1 }
            let didCross = !acks(of, sf) && !acks(sf, of)
            if didCross { crossed += 1 }
            var closing: Set<Side> = []
            for p in obs.packets(rec) { for t in p.transitions where t.to == .closing { closing.insert(t.side) } }
            #expect(didCross == (rec.teardown.kind == .simultaneousClose), "classification matches the packets")
            #expect(didCross == (closing.count == 2), "CLOSING inferred on both sides exactly when the FINs crossed")
            #expect(didCross || rec.teardown.kind == .graceful)
            #expect(rec.orig.state == .timeWait || rec.resp.state == .timeWait)
        }
        print("simultaneous-close on \(ProcessInfo.processInfo.operatingSystemVersionString): FINs crossed in \(crossed) of \(r.records.count) tries")
        for c in r.claims {
            #expect(c.evidence.hasPrefix("FINs crossed in \(crossed) of \(r.records.count) tries"), "\(c.evidence)")
            // Judged on the crossed tries only: inconclusive when none crossed, and then it must hold.
            #expect(c.verdict == (crossed == 0 ? .inconclusive : .holds), "\(c.claim.id): \(c.evidence)")
        }
    }

    // MARK: - Replays of the committed recordings (no root needed)

    static let captures: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("captures/experiments").path
    }()

    static func replay(_ name: String) throws -> [ConnectionRecord] {
        let pcap = captures + "/" + name + ".pcap"
        let source = try PacketSource.openFile(pcap)
        var packets: [StoredPacket] = []
        _ = try source.read { p in
            packets.append(StoredPacket(time: p.time, bytes: Array(p.bytes), originalLength: p.originalLength))
            return true
        }
        let events = try #require(CallLogFile.sidecar(for: pcap))
        return Runner.analyse(packets, linkType: source.linkType, calls: try CallLogFile.read(events))
    }

    @Test(arguments: [
        ("fork-shared", ["graceful", "graceful", "graceful"]),
        ("exit-without-close", ["graceful"]),
        ("orphan-fin-wait-2", ["reset-after-close"]),
        ("echo-close", ["reset-after-close"]),
        ("echo-shutdown", ["graceful"]),
        ("peek-detect", ["reset-after-close", "abort-by-responder"]),
    ])
    func recording_replaysWithItsCalls(_ name: String, _ kinds: [String]) throws {
        let records = try Self.replay(name)
        #expect(records.map(\.teardown.name) == kinds)
        for rec in records {
            #expect(rec.events.contains { if case .call = $0 { return true }; return false }, "calls attached from the sidecar")
            for side in [rec.orig.bytes, rec.resp.bytes] {
                #expect(side.written != nil)
                #expect(CallCorrelation.ledgerProblem(side) == nil)
            }
        }
    }

    @Test func recording_simultaneousClose_replays() throws {
        let records = try Self.replay("simultaneous-close")
        #expect(records.count == SimultaneousClose.tries)
        #expect(records.allSatisfy { $0.teardown.kind == .simultaneousClose || $0.teardown.kind == .graceful })
        #expect(records.contains { $0.teardown.kind == .simultaneousClose }, "the committed recording has at least one crossed try")
    }
}
