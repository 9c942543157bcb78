import Foundation
import TeardownCapture
import TeardownModel
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

    /// Packets -> connection records (timeline rows kept) -> calls attached.
    public static func analyse(_ packets: [StoredPacket], linkType: LinkType, calls: [RecordedCall]) -> [ConnectionRecord] {
        var tracker = ConnectionTracker(configuration: .init(recordEvents: true, recordNotes: true,
                                                             lingerNanoseconds: .max / 4,
                                                             hashSeed: UInt64.random(in: .min ... .max)))
        var records: [ConnectionRecord] = []
        for (i, p) in packets.enumerated() {
            if let seg = p.bytes.withUnsafeBytes({ PacketDecoder.segment($0, linkType: linkType, originalLength: p.originalLength) }) {
                tracker.process(seg, time: p.time, packetNumber: i + 1) { records.append($0) }
            }
        }
        tracker.finish { records.append($0) }
        records.sort { $0.index < $1.index }
        return CallCorrelation.attach(calls, to: records)
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

/// NAME.events.jsonl: one recorded socket call per line.
public enum CallLogFile {
    /// The sidecar that belongs to a capture: `x.pcap` -> `x.events.jsonl`.
    public static func sidecar(for capture: String) -> String? {
        guard capture != "-" else { return nil }
        var base = capture
        for ext in [".pcapng", ".pcap"] where base.hasSuffix(ext) { base.removeLast(ext.count); break }
        let path = base + ".events.jsonl"
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    public static func line(_ c: RecordedCall) -> String {
        var o: [String: Any] = [
            "time_ns": c.time.nanoseconds, "duration_ns": c.durationNanoseconds, "pid": Int(c.pid), "fd": Int(c.fd),
            "actor": c.actor, "call": c.call, "result": c.result, "bytes": c.bytes, "kind": c.kind.rawValue,
        ]
        if let id = c.socket { o["socket"] = id }
        o["errno"] = c.errno ?? NSNull()
        o["local"] = c.local.map { $0.description } ?? NSNull()
        o["remote"] = c.remote.map { $0.description } ?? NSNull()
        let data = (try? JSONSerialization.data(withJSONObject: o, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    public static func write(_ calls: [RecordedCall], to path: String) throws {
        let text = calls.map(line).joined(separator: "\n") + (calls.isEmpty ? "" : "\n")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    public struct ParseError: Error, CustomStringConvertible {
        public var path: String, line: Int, message: String
        public var description: String { "\(path): line \(line): \(message)" }
    }

    public static func read(_ path: String) throws -> [RecordedCall] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var out: [RecordedCall] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            guard let obj = try? JSONSerialization.jsonObject(with: Data(raw.utf8)) as? [String: Any] else {
                throw ParseError(path: path, line: n + 1, message: "not a JSON object")
            }
            func int(_ k: String) throws -> Int64 {
                guard let v = obj[k] as? NSNumber else { throw ParseError(path: path, line: n + 1, message: "missing or non-numeric \"\(k)\"") }
                return v.int64Value
            }
            func str(_ k: String) throws -> String {
                guard let v = obj[k] as? String else { throw ParseError(path: path, line: n + 1, message: "missing \"\(k)\"") }
                return v
            }
            out.append(RecordedCall(
                time: Timestamp(nanoseconds: try int("time_ns")), durationNanoseconds: try int("duration_ns"),
                pid: Int32(truncatingIfNeeded: try int("pid")), fd: Int32(truncatingIfNeeded: try int("fd")),
                local: (obj["local"] as? String).flatMap(parseEndpoint), remote: (obj["remote"] as? String).flatMap(parseEndpoint),
                actor: try str("actor"), call: try str("call"), result: try int("result"),
                errno: obj["errno"] as? String, bytes: try int("bytes"),
                kind: RecordedCall.Kind(rawValue: (obj["kind"] as? String) ?? "other") ?? .other,
                socket: (obj["socket"] as? NSNumber)?.intValue))
        }
        return out
    }

    /// `127.0.0.1:80` or `[::1]:80`.
    public static func parseEndpoint(_ s: String) -> Endpoint? {
        guard let colon = s.lastIndex(of: ":"), let port = UInt16(s[s.index(after: colon)...]) else { return nil }
        var host = String(s[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return IPAddress(host).map { Endpoint(address: $0, port: port) }
    }
}
