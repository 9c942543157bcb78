import Foundation
import TeardownCapture
import TeardownPipeline
import TeardownWire
#if canImport(Glibc)
import Glibc
#endif

/// The packets of a traced program's run, written to a pcap file as they arrive, on a thread
/// of their own, until stopped.
final class TraceCapture: @unchecked Sendable {
    let source: PacketSource
    let writer: PcapWriter
    private let lock = NSLock()
    private var count = 0
    private let finished = DispatchSemaphore(value: 0)
    private var readError: Error?

    init(interface: String, path: String, snapshotLength: Int32, bufferSize: Int32) throws {
        var opts = LiveOptions()
        opts.timeoutMilliseconds = 20
        opts.snapshotLength = snapshotLength
        opts.bufferSize = bufferSize
        source = try PacketSource.openLive(interface: interface, options: opts, filter: "tcp") { Diagnostics.warning($0) }
        writer = try PcapWriter(path: path, linkType: source.linkType, snapshotLength: snapshotLength)
        let t = Thread { [self] in
            do {
                try source.read { p in
                    self.writer.write(p)
                    self.lock.lock(); self.count += 1; self.lock.unlock()
                    return true
                }
            } catch { self.readError = error }
            self.finished.signal()
        }
        t.start()
    }

    /// Stops once the capture has gone quiet, as `CaptureSession.stop` does: at least `ms`
    /// after the program ended (the kernel still closes its sockets: FINs, the last ACK, an
    /// RST), then until no packet has come for `quietMs`, at most 3 s in all.
    func stop(after ms: Int = 150, quietMs: Int = 100) -> (packets: Int, error: Error?) {
        CaptureSession.waitForQuiet(after: ms, quietMs: quietMs) { lock.lock(); defer { lock.unlock() }; return count }
        source.stop()
        _ = finished.wait(timeout: .now() + 5)
        writer.close()
        lock.lock(); defer { lock.unlock() }
        return (count, readError)
    }

    var linkType: LinkType { source.linkType }

    var statistics: CaptureStatistics? { source.statistics() }
}
