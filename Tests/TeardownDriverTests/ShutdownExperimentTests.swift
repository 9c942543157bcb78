import Foundation
import Testing
import TeardownDriver
import TeardownModel
import TeardownWire

/// Live runs of the shutdown(2) experiments, one per direction. They need root (a network
/// namespace and capture), which CI has; without it each test says so and skips. Where the
/// literature describes other systems, Linux's answer is expected (see each test).
@Suite(.serialized) struct ShutdownExperimentTests {
    @Test func shutdownWrite_halfClose_graceful() throws {
        guard let r = try runLiveExperiment("shutdown-write") else { return }
        expectVerdicts(r, ["fin-at-once": .holds, "write-fails": .holds, "peer-eof": .holds, "reply-arrives": .holds, "wait-for-fin": .holds])
        let rec = try #require(r.records.first)
        #expect(rec.teardown.kind == .graceful)
        #expect(rec.halfClose)
        #expect(rec.closedBy == .orig)
        #expect(rec.resp.bytes.written == 6 && rec.resp.bytes.readByPeer == 6)
    }

    @Test func shutdownRead_nothingSent_dataStillReadable() throws {
        guard let r = try runLiveExperiment("shutdown-read") else { return }
        // Linux keeps buffered and later data readable after SHUT_RD; a read on an empty queue returns 0.
        expectVerdicts(r, ["nothing-sent": .holds, "buffered-discarded": .doesNotHold, "reads-eof": .doesNotHold,
                        "later-acked": .holds, "later-dropped": .doesNotHold])
        let rec = try #require(r.records.first)
        #expect(rec.orig.bytes.readByPeer == 1500 && rec.orig.bytes.lost == 0)
        let reads = r.calls.filter { $0.actor == "server" && $0.call.hasPrefix("read(") }.map(\.result)
        #expect(reads == [1000, 0, 500, 0])
    }

    @Test func shutdownBoth_finAtOnce_lateDataDrawsRST_unreadKept() throws {
        guard let r = try runLiveExperiment("shutdown-both") else { return }
        expectVerdicts(r, ["fin-at-once": .holds, "fd-stays-valid": .holds, "late-data": .doesNotHold,
                        "shutdown-fin-with-unread": .holds, "unread-discarded": .doesNotHold])
        // shutdown, close, shutdown+unread, close+unread.
        #expect(r.records.count == 4)
        #expect(r.records.map(\.teardown.kind) == [.resetAfterClose, .resetAfterClose, .abortByOriginator, .abortByOriginator])
        if r.records.count == 4 {
            // With unread data: shutdown() sent a FIN, the later close() an RST.
            #expect(r.records[2].orig.fin == 1 && r.records[2].orig.rst == 1)
            #expect(r.records[3].orig.fin == 0 && r.records[3].orig.rst == 1)
        }
    }
}
