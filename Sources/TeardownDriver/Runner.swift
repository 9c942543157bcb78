import Foundation
import TeardownCapture
import TeardownModel
import TeardownPipeline
import TeardownWire
#if canImport(Glibc)
import Glibc
#endif

/// A packet kept in memory during an experiment.
public struct StoredPacket: Sendable {
    public var time: Timestamp
    public var bytes: [UInt8]
    public var originalLength: Int
}

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
        usleep(useconds_t(ms * 1000))
        var last = -1, quietFor = 0, waited = ms
        while quietFor < quietMs && waited < 3000 {
            lock.lock(); let n = stored.count; lock.unlock()
            if n == last { quietFor += 25 } else { quietFor = 0; last = n }
            usleep(25_000)
            waited += 25
        }
        source.stop()
        _ = finished.wait(timeout: .now() + 5)
        lock.lock(); defer { lock.unlock() }
        return stored
    }

    var linkType: LinkType { source.linkType }
    var nanosecond: Bool { source.nanosecondPrecision }
}

/// Everything one run of an experiment produced.
public struct ExperimentResult {
    public var name: String
    public var summary: String
    public var claims: [ClaimResult]
    public var records: [ConnectionRecord]
    public var calls: [RecordedCall]
    public var packets: [StoredPacket]
    public var linkType: LinkType
    /// Things that went wrong while running (a thread that failed, a timeout).
    public var problems: [String]
    /// Whether the run was inside its own network namespace.
    public var isolated: Bool
    public var wallNanoseconds: Int64
}

public enum Runner {
    /// Runs one experiment: a fresh network namespace (when root), capture on its loopback,
    /// the calls, then analysis and verdicts.
    /// Experiments share process-wide state (the SIGPIPE handler and its count, which tells a
    /// write that raised SIGPIPE), so only one runs at a time, even when tests run in parallel.
    private static let oneAtATime = NSLock()

    public static func run(_ e: any Experiment) throws -> ExperimentResult {
        oneAtATime.lock()
        defer { oneAtATime.unlock() }
        if Netns.canCreate {
            return try Netns.withNew {
                for (k, v) in e.sysctls { try Netns.setSysctl(k, v) }
                return try runHere(e, isolated: true)
            }
        }
        return try runHere(e, isolated: false)
    }

    /// Runs in whatever namespace this thread is in.
    static func runHere<E: Experiment>(_ e: E, isolated: Bool) throws -> ExperimentResult {
        let t0 = monotonic()
        SigPipe.install()
        let capture = try CaptureSession(interface: "lo")
        let lab = Lab(basePort: isolated ? 5000 : UInt16(20000 + Int(getpid() % 20000)))
        let notes = Notebook(E.Findings())
        let pipesBefore = SigPipe.count
        do {
            try e.perform(lab, notes)
        } catch {
            lab.fail("\(error)")
        }
        lab.join()
        let packets = capture.stop()
        let records = analyse(packets, linkType: capture.linkType, calls: lab.log.calls)
        let obs = Observation(records: records, calls: lab.log.calls, sigpipes: Int(SigPipe.count - pipesBefore))
        return ExperimentResult(name: e.name, summary: e.summary, claims: e.judge(obs, notes.findings), records: records,
                                calls: lab.log.calls, packets: packets, linkType: capture.linkType,
                                problems: lab.problems, isolated: isolated, wallNanoseconds: monotonic() - t0)
    }

    /// Packets -> connection records (timeline rows kept) -> calls attached, through the
    /// pipeline's single-packet path (`RecordingPipeline`).
    public static func analyse(_ packets: [StoredPacket], linkType: LinkType, calls: [RecordedCall]) -> [ConnectionRecord] {
        RecordingPipeline.records(linkType: linkType, calls: calls) { feed in
            for (i, p) in packets.enumerated() {
                p.bytes.withUnsafeBytes { b in
                    feed(CapturedPacket(time: p.time, bytes: b, originalLength: p.originalLength, number: i + 1))
                }
            }
        }
    }

    /// Writes NAME.pcap and NAME.events.jsonl into `dir`.
    public static func save(_ r: ExperimentResult, to dir: String) throws -> (pcap: String, events: String) {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let pcap = (dir as NSString).appendingPathComponent(r.name + ".pcap")
        let events = (dir as NSString).appendingPathComponent(r.name + ".events.jsonl")
        let w = try PcapWriter(path: pcap, linkType: r.linkType)
        for (i, p) in r.packets.enumerated() {
            p.bytes.withUnsafeBytes { b in
                w.write(CapturedPacket(time: p.time, bytes: b, originalLength: p.originalLength, number: i + 1))
            }
        }
        w.close()
        try CallLogFile.write(r.calls, to: events)
        return (pcap, events)
    }
}
