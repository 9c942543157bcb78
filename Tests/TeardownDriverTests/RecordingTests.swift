import Foundation
import Testing
import TeardownCapture
@testable import TeardownDriver
import TeardownModel
import TeardownPipeline
import TeardownWire

/// Recordings: a run saved with `--save` reads back with the same calls (a live run: needs
/// root, skips without it), and the recordings committed in captures/experiments replay with
/// their calls attached (no root needed).
@Suite(.serialized) struct RecordingTests {
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

    @Test func savedRecording_replaysWithTheSameCalls() throws {
        guard let r = try runLiveExperiment("client-close") else { return }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("td-save-\(getpid())").path
        let (pcap, events) = try Runner.save(r, to: dir)
        #expect(CallLogFile.sidecar(for: pcap) == events)
        let calls = try CallLogFile.read(events)
        #expect(calls == r.calls)
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
                #expect(side.problems.isEmpty)
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
