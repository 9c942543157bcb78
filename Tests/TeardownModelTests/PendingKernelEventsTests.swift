import Testing
import TeardownKernel
import TeardownWire
@testable import TeardownModel

/// Live's kernel lane: events held until their connection is printed, then taken by 4-tuple;
/// joined one connection at a time, they give what the whole recording joined at once gives.
@Suite struct PendingKernelEventsTests {
    @Test func eventsReadInTwoDrains_joinAsTheWholeRecordingDoes() {
        let (s, records) = KernelJoinTests.abort()
        let events = KernelJoinTests.events(s)
        var pending = PendingKernelEvents()
        // connect()'s SYN-SENT (port 0) comes alone; the events naming its port in the next drain.
        pending.add(Array(events.prefix(1)))
        #expect(pending.waiting.count == 1)
        pending.add(Array(events.dropFirst()))
        #expect(pending.waiting.isEmpty)
        let taken = pending.take(between: s.client, s.server)
        #expect(taken.count == 5, "every event of the connection's two sockets, not the other program's")
        #expect(taken.allSatisfy { $0.source == s.client || $0.source == s.server })
        #expect(pending.count == 1)
        let whole = KernelJoin.attach(KernelLane(events: events, tracesEveryReset: true), to: records)
        let one = KernelJoin.attach(KernelLane(events: taken, tracesEveryReset: true), to: records)
        #expect(one == whole)
        #expect(whole[0].kernelEvents?.count == 5)
    }

    @Test func aNewerConnectionKeepsItsOwnEvents() {
        let (s, _) = Self.abortScript()
        var pending = PendingKernelEvents()
        pending.add(KernelJoinTests.events(s))
        let cutoff = KernelJoinTests.at(s, 6, -2_000).nanoseconds
        let before = pending.take(between: s.server, s.client, before: cutoff)
        #expect(before.count == 3)
        #expect(pending.take(between: s.client, s.server).count == 2, "the events at or after the cutoff are left")
    }

    @Test func prune_forgetsOldEventsNoHeldConnectionClaims() {
        let (s, _) = Self.abortScript()
        var pending = PendingKernelEvents()
        let listener = KernelEvent(time: KernelJoinTests.at(s, 1, -9_000), pid: 1, kind: .stateChange(from: .close, to: .listen, protocol: 6),
                                   socket: 0xD, source: Endpoint(address: s.server.address, port: s.server.port),
                                   destination: Endpoint(address: .init(ipv4: 0), port: 0))
        // An errno for a socket already closed, its addresses cleared: nothing can name its 4-tuple.
        let orphanError = KernelEvent(time: KernelJoinTests.at(s, 6, 9_000), pid: 1, kind: .errorReport(errno: 104, protocol: 6),
                                      socket: nil, source: Endpoint(address: .init(ipv4: 0), port: 40000),
                                      destination: Endpoint(address: s.server.address, port: 0))
        pending.add(KernelJoinTests.events(s) + [listener, orphanError])
        #expect(pending.count == 7, "the errno without a socket or a 4-tuple is not kept")
        let late = KernelJoinTests.at(s, 6, 10_000).nanoseconds
        // The connection is held: only the other program's socket and the listener go.
        pending.prune(before: late) { a, b in Set([a, b]) == Set([s.client, s.server]) }
        #expect(pending.count == 5)
        #expect(pending.waiting.isEmpty)
        // Too early for anything: nothing goes.
        pending.prune(before: 0) { _, _ in false }
        #expect(pending.count == 5)
        pending.prune(before: late) { _, _ in false }
        #expect(pending.count == 0)
    }

    static func abortScript() -> (Script, [ConnectionRecord]) { KernelJoinTests.abort() }
}
