import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Releases two threads at (nearly) the same instant: each spins until both have arrived, so
/// neither waits for a futex wake-up (which would put tens of microseconds between them).
final class SpinBarrier: Sendable {
    private let arrived = Atomic<Int>(0)
    private let parties: Int
    init(parties: Int) { self.parties = parties }

    func wait() {
        arrived.add(1, ordering: .acquiringAndReleasing)
        var spins = 0
        while arrived.load(ordering: .acquiring) < parties {
            spins += 1
            if spins > 2_000_000 { sched_yield(); spins = 0 }
        }
    }
}
