import Foundation
import TeardownCapture
import TeardownKernel
import TeardownModel
import TeardownPipeline
import TeardownRender
import TeardownWire
#if canImport(Glibc)
import Glibc
#endif

public enum Runner {
    /// Runs one experiment: a fresh network namespace (when root), capture on its loopback,
    /// the calls, then analysis and verdicts.
    /// Experiments share process-wide state (the SIGPIPE handler and its count, which tells a
    /// write that raised SIGPIPE), so only one runs at a time, even when tests run in parallel.
    private static let oneAtATime = NSLock()

    public static func run(_ e: any Experiment) throws -> ExperimentResult {
        if let why = unmet(e) { throw DriverError.setup(why) }
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

    /// Why `e` cannot run on this machine (a program it needs is not on the PATH), or nil.
    public static func unmet(_ e: any Experiment) -> String? {
        let missing = e.requiredPrograms.filter { Tracer.which($0.program) == nil }
        guard !missing.isEmpty else { return nil }
        let names = missing.map(\.program).joined(separator: ", "), packages = missing.map(\.package).joined(separator: " ")
        return "needs \(names), not on the PATH (Debian: apt-get install \(packages))"
    }

    /// Runs in whatever namespace this thread is in.
    static func runHere<E: Experiment>(_ e: E, isolated: Bool) throws -> ExperimentResult {
        let t0 = monotonic()
        SigPipe.install()
        let capture = try CaptureSession(interface: "lo")
        let trace = KernelTrace.start()
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
        var kernelLines: [String] = []
        var recording: KernelRecording?
        switch trace {
        case .success(let t): recording = t.stop()
        case .failure(let why): kernelLines.append("no kernel lane: \(why)")
        }
        // A leaked socket is closed after both recordings; that close() is not part of the run.
        let calls = lab.log.calls
        lab.closeLeaked()
        var lane = recording.map { KernelLane(events: $0.events, tracesEveryReset: $0.tracesEveryReset) }
        if let recording { kernelLines += KernelWording.problems(recording) }
        var records = analyse(packets, linkType: capture.linkType, calls: calls)
        if let l = lane {
            // Only the capture's own sockets: the tracepoints see every namespace and program.
            lane = KernelLane(events: KernelJoin.relevant(l.events, to: records), tracesEveryReset: l.tracesEveryReset)
            records = KernelJoin.attach(lane!, to: records)
        }
        let obs = Observation(records: records, calls: calls, sigpipes: Int(SigPipe.count - pipesBefore))
        let outcome = ExperimentOutcome(name: e.name, summary: e.summary, claims: e.judge(obs, notes.findings), records: records,
                                        calls: calls, packetCount: packets.count, problems: lab.problems,
                                        isolated: isolated, wallNanoseconds: monotonic() - t0)
        var result = ExperimentResult(outcome: outcome, packets: packets, linkType: capture.linkType)
        result.kernel = lane
        if case .success(let t) = trace { result.kernelInstance = t.instance }
        result.kernelHeader = recording.map {
            KernelEventFile.Header(clock: $0.clock, offsetNanoseconds: $0.offsetNanoseconds,
                                   offsetUncertaintyNanoseconds: $0.offsetUncertaintyNanoseconds,
                                   driftNanoseconds: $0.driftNanoseconds, tracesEveryReset: $0.tracesEveryReset)
        }
        result.kernelLines = kernelLines
        return result
    }

    /// Packets -> connection records (timeline rows kept) -> calls attached, through the
    /// pipeline's single-packet path (`RecordingPipeline`).
    public static func analyse(_ packets: [StoredPacket], linkType: LinkType, calls: [RecordedCall]) -> [ConnectionRecord] {
        RecordingPipeline.records(calls: calls) { feed in
            for (i, p) in packets.enumerated() {
                p.bytes.withUnsafeBytes { b in
                    feed(CapturedPacket(time: p.time, bytes: b, originalLength: p.originalLength, number: i + 1, linkType: linkType))
                }
            }
        }
    }

    /// Writes NAME.pcap, NAME.events.jsonl and, with the kernel lane, NAME.kernel.jsonl into `dir`.
    public static func save(_ r: ExperimentResult, to dir: String) throws -> (pcap: String, events: String) {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let pcap = (dir as NSString).appendingPathComponent(r.name + ".pcap")
        let events = (dir as NSString).appendingPathComponent(r.name + ".events.jsonl")
        let w = try PcapWriter(path: pcap, linkType: r.linkType)
        for (i, p) in r.packets.enumerated() {
            p.bytes.withUnsafeBytes { b in
                w.write(CapturedPacket(time: p.time, bytes: b, originalLength: p.originalLength, number: i + 1, linkType: r.linkType))
            }
        }
        w.close()
        try CallLogFile.write(r.calls, to: events)
        let kernel = (dir as NSString).appendingPathComponent(r.name + ".kernel.jsonl")
        if let lane = r.kernel, let header = r.kernelHeader {
            try KernelEventFile.write(header, lane.events, to: kernel)
        } else if FileManager.default.fileExists(atPath: kernel) {
            // A lane from an earlier run would be joined to packets it was not recorded with.
            try FileManager.default.removeItem(atPath: kernel)
        }
        return (pcap, events)
    }
}
