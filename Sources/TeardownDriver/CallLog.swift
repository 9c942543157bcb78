import Foundation
import TeardownCapture
import TeardownModel
#if canImport(Glibc)
import Glibc
#endif

/// Every socket call an experiment makes, in the order made, from any thread.
public final class CallLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [RecordedCall] = []

    public init() {}

    func append(_ c: RecordedCall) {
        lock.lock(); items.append(c); lock.unlock()
    }

    public var calls: [RecordedCall] {
        lock.lock(); defer { lock.unlock() }
        return items.sorted { $0.time < $1.time }
    }
}

/// CLOCK_MONOTONIC in nanoseconds: what a call's duration is measured on.
func monotonic() -> Int64 { SystemClock.monotonic() }
