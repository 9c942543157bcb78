import Foundation
import Testing
import TeardownCapture
@testable import TeardownDriver
import TeardownKernel
import TeardownModel
import TeardownPipeline
import TeardownTestSupport
import TeardownWire

/// The kernel lane of a live run (root and tracefs: CI has both; skips without them): the RST
/// that close() with unread data sends carries TCP_ABORT_ON_CLOSE, the tracefs instance is gone
/// afterwards, and the saved sidecar replays to the same records.
@Suite(.serialized) struct KernelLaneTests {
    static func rsts(_ r: ConnectionRecord) -> [PacketEvent] {
        r.events.compactMap { e -> PacketEvent? in
            if case .packet(let p) = e, p.flags.contains(.rst) { return p } else { return nil }
        }
    }

    @Test func closeWithUnreadData_theKernelSaysWhy() throws {
        guard let r = try runLiveExperiment("close-unread") else { return }
        guard let lane = r.kernel else {
            print("skipping the kernel lane's checks: \(r.kernelLines.joined(separator: "; "))")
            return
        }
        // Its own instance: suites running beside this one in the same process make theirs.
        let instance = try #require(r.kernelInstance)
        #expect(!FileManager.default.fileExists(atPath: instance), "the tracefs instance \(instance) is removed")
        #expect(lane.tracesEveryReset == (kernelAtLeast(6, 10)))
        let record = try #require(r.records.first)
        let rows = try #require(record.kernelEvents)
        #expect(rows.contains { if case .errorReport(104, _) = $0.event.kind { return $0.side == .orig } else { return false } },
                "the client is handed ECONNRESET")
        #expect(rows.contains { $0.side == .resp && $0.event.kind == .stateChange(from: .established, to: .close, protocol: 6) })
        let rst = try #require(Self.rsts(record).first)
        if kernelAtLeast(6, 12) {
            guard case .sent(let reason?)? = rst.kernelReset else { Issue.record("\(String(describing: rst.kernelReset))"); return }
            #expect(reason.name == "TCP_ABORT_ON_CLOSE")
        } else {
            guard case .sent? = rst.kernelReset else { Issue.record("\(String(describing: rst.kernelReset))"); return }
        }
        // Every kernel event of the capture is one of its sockets'.
        let tuples = Set(r.records.flatMap { [$0.orig.endpoint, $0.resp.endpoint] })
        #expect(lane.events.allSatisfy { tuples.contains($0.source!) && tuples.contains($0.destination!) })

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("td-kernel-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (pcap, _) = try Runner.save(r, to: dir)
        let sidecar = try #require(KernelEventFile.sidecar(for: pcap))
        let read = try KernelEventFile.read(sidecar)
        #expect(read.lane == lane)
        let source = try PacketSource.openFile(pcap)
        var packets: [StoredPacket] = []
        _ = try source.read { p in
            packets.append(StoredPacket(time: p.time, bytes: Array(p.bytes), originalLength: p.originalLength))
            return true
        }
        let replayed = RecordingPipeline.correlate(Runner.analyse(packets, linkType: source.linkType, calls: r.calls),
                                                   calls: nil, kernel: read.lane)
        #expect(replayed == r.records)
    }
}
