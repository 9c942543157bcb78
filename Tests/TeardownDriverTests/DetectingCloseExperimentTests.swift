import Foundation
import Testing
import TeardownDriver
import TeardownModel
import TeardownWire

/// Live runs of the experiments on what an application sees of its peer's close: the echo
/// client that close()s or shutdown()s, and recv(MSG_PEEK) in each state. They need root (a
/// network namespace and capture), which CI has; without it each test says so and skips.
@Suite(.serialized) struct DetectingCloseExperimentTests {
    @Test func echoClose_replyDrawsRST_secondWriteSIGPIPE() throws {
        guard let r = try runLiveExperiment("echo-close") else { return }
        expectAllHold(r)
        let rec = try #require(r.records.first)
        #expect(rec.teardown.kind == .resetAfterClose)
        #expect(rec.rst?.from == .orig && rec.rst?.shape == .bare)
        #expect(rec.orig.bytes.written == 10 && rec.orig.bytes.readByPeer == 10)
        #expect(rec.resp.bytes.written == 9 && rec.resp.bytes.readByPeer == 0 && rec.resp.bytes.lost == 9 && rec.resp.bytes.unacked == 9)
    }

    @Test func echoShutdown_bothRepliesArrive_cleanClose() throws {
        guard let r = try runLiveExperiment("echo-shutdown") else { return }
        expectAllHold(r)
        let rec = try #require(r.records.first)
        #expect(rec.teardown.kind == .graceful && rec.halfClose)
        #expect(rec.connState == .SF)
        #expect(rec.resp.bytes.written == 18 && rec.resp.bytes.readByPeer == 18 && rec.resp.bytes.lost == 0)
        #expect(rec.orig.bytes.written == 10 && rec.orig.bytes.readByPeer == 10)
    }

    @Test func peekDetect_eachState() throws {
        guard let r = try runLiveExperiment("peek-detect") else { return }
        expectAllHold(r)
        #expect(r.records.map(\.teardown.kind) == [.resetAfterClose, .abortByResponder])
        let peeks = r.calls.filter { $0.call.hasPrefix("recv(") }.map { ($0.result, $0.errno) }
        #expect(peeks.map(\.0) == [-1, 5, 0, 0, -1, 0])
        #expect(peeks.map(\.1) == ["EAGAIN", nil, nil, nil, "ECONNRESET", nil])
    }
}
