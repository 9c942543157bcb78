import Foundation
import TeardownCapture
import TeardownModel
import TeardownWire
#if canImport(Glibc)
import Glibc
#endif

/// Captures on an interface on a background thread until stopped.
final class CaptureSession: @unchecked Sendable {
    let source: PacketSource
    private let lock = NSLock()
    private var stored: [StoredPacket] = []
    private let finished = DispatchSemaphore(value: 0)
    private var readError: Error?

    init(interface: String) throws {
        var opts = LiveOptions()
        opts.timeoutMilliseconds = 20
        source = try PacketSource.openLive(interface: interface, options: opts, filter: "tcp")
        let t = Thread { [self] in
            do {
                try source.read { p in
                    let copy = StoredPacket(time: p.time, bytes: Array(p.bytes), originalLength: p.originalLength)
                    self.lock.lock(); self.stored.append(copy); self.lock.unlock()
                    return true
                }
            } catch { self.readError = error }
            self.finished.signal()
        }
        t.start()
    }

    /// Stops once the capture has gone quiet: at least `ms` after the last call, then until no
    /// packet has arrived for `quietMs` (at most 3 s in all). A fixed wait lost the last packets
    /// (an RST drawn by close()) when the capture thread was descheduled on a loaded machine:
    /// a stop ends the read loop without draining what the kernel still holds.
    func stop(after ms: Int = 150, quietMs: Int = 100) -> [StoredPacket] {
        Self.waitForQuiet(after: ms, quietMs: quietMs) { lock.lock(); defer { lock.unlock() }; return stored.count }
        source.stop()
        _ = finished.wait(timeout: .now() + 5)
        lock.lock(); defer { lock.unlock() }
        return stored
    }

    /// Sleeps `ms`, then until `count` (packets captured so far) has not changed for `quietMs`,
    /// at most 3 s in all.
    static func waitForQuiet(after ms: Int, quietMs: Int, count: () -> Int) {
        usleep(useconds_t(ms * 1000))
        var last = -1, quietFor = 0, waited = ms
        while quietFor < quietMs && waited < 3000 {
            let n = count()
            if n == last { quietFor += 25 } else { quietFor = 0; last = n }
            usleep(25_000)
            waited += 25
        }
    }

    var linkType: LinkType { source.linkType }
    var nanosecond: Bool { source.nanosecondPrecision }
}
