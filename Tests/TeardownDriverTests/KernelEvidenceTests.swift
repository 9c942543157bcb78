import Foundation
import Testing
import TeardownCapture
@testable import TeardownDriver
import TeardownKernel
import TeardownModel
import TeardownPipeline
import TeardownWire

/// The kernel lane as the experiments' evidence (Evidence+Kernel), on the recordings in
/// captures/kernel (no root needed): each RST's reason, the states the kernel's sockets went
/// through, the TIME-WAIT and orphan handovers; and without the lane, nothing said and nothing
/// required.
@Suite struct KernelEvidenceTests {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("captures/kernel").path

    /// The records of captures/kernel/NAME.pcap with its calls and, when `lane`, its kernel events.
    static func records(_ name: String, lane: Bool = true) throws -> [ConnectionRecord] {
        let pcap = "\(dir)/\(name).pcap"
        let source = try PacketSource.openFile(pcap)
        var packets: [StoredPacket] = []
        _ = try source.read { p in
            packets.append(StoredPacket(time: p.time, bytes: Array(p.bytes), originalLength: p.originalLength))
            return true
        }
        let calls = try CallLogFile.sidecar(for: pcap).map(CallLogFile.read) ?? []
        let records = Runner.analyse(packets, linkType: source.linkType, calls: calls)
        guard lane else { return records }
        let sidecar = try #require(KernelEventFile.sidecar(for: pcap))
        return RecordingPipeline.correlate(records, calls: nil, kernel: try KernelEventFile.read(sidecar).lane)
    }

    static func rst(_ r: ConnectionRecord, from side: Side) -> PacketEvent? {
        r.events.lazy.compactMap { e -> PacketEvent? in
            if case .packet(let p) = e, p.from == side, p.flags.contains(.rst) { return p }
            return nil
        }.first
    }

    @Test func closeWithUnreadData_theReasonDecides() throws {
        let r = try #require(try Self.records("close-unread").first)
        let rst = Self.rst(r, from: .resp)
        #expect(Evidence.reason(rst)?.name == "TCP_ABORT_ON_CLOSE")
        #expect(Evidence.reasonIs(r, rst, ["TCP_ABORT_ON_CLOSE"]))
        #expect(!Evidence.reasonIs(r, rst, ["TCP_STATE"]), "another reason does not confirm the claim")
        #expect(!Evidence.reasonIs(r, nil, ["TCP_ABORT_ON_CLOSE"]), "with the lane, no RST confirms nothing")
        #expect(Evidence.withReset("x", r, rst) == "x; the kernel's reason: close() with unread data (TCP_ABORT_ON_CLOSE)")

        let bare = try #require(try Self.records("close-unread", lane: false).first)
        let bareRST = Self.rst(bare, from: .resp)
        #expect(Evidence.reasonIs(bare, bareRST, ["TCP_STATE"]), "without the lane the packets alone decide")
        #expect(Evidence.withReset("x", bare, bareRST) == "x")
        #expect(Evidence.kernelPath(bare, .resp, "server") == nil)
        #expect(Evidence.kernelTimeWait(bare, .resp) == nil)
    }

    @Test func resetReasonsOfTheRecordings() throws {
        let linger = try Self.records("linger-zero")
        #expect(linger.count == 2)
        #expect(Evidence.reason(Self.rst(linger[0], from: .orig))?.name == "TCP_STATE")
        #expect(Evidence.reason(Self.rst(linger[1], from: .resp))?.name == "TCP_STATE")
        let write = try #require(try Self.records("write-after-close").first)
        #expect(Evidence.reasonIs(write, Self.rst(write, from: .resp), Evidence.noSocketReasons))
        #expect(Evidence.reason(Self.rst(write, from: .resp))?.name == "TCP_TIMEWAIT_SOCKET")
    }

    @Test func fourWayClose_closerHandedOverToTimeWait() throws {
        let r = try #require(try Self.records("client-close").first)
        #expect(Evidence.kernelTimeWait(r, .orig) == true)
        #expect(Evidence.kernelTimeWait(r, .resp) == false)
        #expect(Evidence.kernelPath(r, .orig, "client") == "kernel: client ESTABLISHED → FIN-WAIT-1 → FIN-WAIT-2 → CLOSED, handed over to TIME-WAIT")
        #expect(Evidence.kernelPath(r, .resp, "server") == "kernel: server ESTABLISHED → CLOSE-WAIT → LAST-ACK → CLOSED")
        #expect(!Evidence.kernelOrphanHandover(r, .orig))
    }

    @Test func orphan_handedOverInFinWait2_thenNoSocket() throws {
        let r = try #require(try Self.records("orphan-fin-wait-2").first)
        #expect(Evidence.kernelOrphanHandover(r, .resp))
        #expect(Evidence.kernelTimeWait(r, .resp) == false)
        #expect(Evidence.kernelPassed(r, .orig, .closeWait) == true)
        #expect(Evidence.reason(Self.rst(r, from: .resp))?.name == "NO_SOCKET")
        #expect(Evidence.kernelPath(r, .resp, "server")?.hasSuffix("FIN-WAIT-2 → CLOSED, handed over as an orphan in FIN-WAIT-2") == true)
    }

    @Test func simultaneousClose_closingOnBothSocketsExactlyWhenTheFINsCrossed() throws {
        let records = try Self.records("simultaneous-close")
        #expect(records.count == 20)
        var both = 0
        for r in records {
            let closing = Side.allCases.filter { Evidence.kernelPassed(r, $0, .closing) == true }.count
            #expect((closing == 2) == (r.teardown.kind == .simultaneousClose), "connection \(r.index)")
            if closing == 2 {
                both += 1
                #expect(Evidence.kernelTimeWait(r, .orig) == true && Evidence.kernelTimeWait(r, .resp) == true)
            }
        }
        #expect(both > 0, "the recording holds simultaneous closes")
    }
}
