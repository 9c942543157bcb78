import Foundation
import Testing
import TeardownDriver
import TeardownModel
import TeardownWire

/// Live runs of the experiments where data meets a peer that has closed: close() with unread
/// data, and writing after the peer's close. They need root (a network namespace and capture),
/// which CI has; without it each test says so and skips.
@Suite(.serialized) struct PeerClosedExperimentTests {
    @Test func closeUnread_rst_unreadBytesLostAfterAck() throws {
        guard let r = try runLiveExperiment("close-unread") else { return }
        expectVerdicts(r, ["rst-not-fin": .holds, "acked-then-lost": .holds, "sender-reset": .holds])
        let rec = try #require(r.records.first)
        #expect(rec.teardown.kind == .abortByResponder)
        #expect(rec.rst?.shape == .withACK)
        #expect(rec.rst?.acknowledged == 1000)
        let l = rec.orig.bytes
        #expect(l.written == 1000 && l.acked == 1000 && l.readByPeer == 400 && l.unread == 600 && l.lost == 600)
    }

    @Test func writeAfterClose_rstThenEPIPE_thenReadReturnsZero() throws {
        guard let r = try runLiveExperiment("write-after-close") else { return }
        // Linux: after the RST and the EPIPE, read() returns 0 (the FIN had been received), not ECONNRESET.
        expectVerdicts(r, ["eof-first": .holds, "first-write-ok": .holds, "draws-rst": .holds,
                        "second-epipe": .holds, "sigpipe": .holds, "read-reset": .doesNotHold])
        let rec = try #require(r.records.first)
        #expect(rec.teardown.kind == .resetAfterClose)
        #expect(rec.rst?.shape == .bare)
        #expect(r.calls.contains { $0.actor == "client" && $0.call == "write(5) (SIGPIPE raised)" && $0.errno == "EPIPE" })
    }
}
