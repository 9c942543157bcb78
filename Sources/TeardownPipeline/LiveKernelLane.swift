import TeardownCapture
import TeardownKernel
import TeardownModel
import TeardownRender
import TeardownWire
#if canImport(Glibc)
import Glibc
#endif

/// The kernel lane of `teardown live`: the tracefs session (`KernelTrace`) read while packets
/// flow, its events held (`PendingKernelEvents`) until the connection they belong to is printed,
/// then joined to it as replay joins a saved recording's (`KernelJoin.attach`), and written to
/// the `-w` file's sidecar (NAME.kernel.jsonl) as they are joined, so that `replay` of the file
/// shows what live printed.
///
/// Everything here runs on the capture loop's thread; the tracefs session reads on its own.
final class LiveKernelLane {
    let trace: KernelTrace
    var pending = PendingKernelEvents()
    var sidecar: KernelEventFile.Appender?
    /// The latest packet time seen (nanoseconds): what "old" means for events no held
    /// connection claims.
    var latest: Int64 = .min
    var nextDrain: Int64 = .min
    var nextPrune: Int64 = .min

    /// Events come from the reader thread at this pace of packet time (and at each idle wake-up).
    static let drainInterval: Int64 = 100_000_000
    static let pruneInterval: Int64 = 1_000_000_000
    /// How long an event whose 4-tuple no held connection has waits for one: a socket's first
    /// event (connect()'s SYN-SENT) comes a few microseconds before its first packet.
    static let horizon: Int64 = 2_000_000_000

    init(trace: KernelTrace) { self.trace = trace }

    /// Starts the tracefs session, or says in one line why there is none. `removableAfterDrop`:
    /// privileges will be dropped, so a child keeps root to remove the instance at the end.
    static func start(removableAfterDrop: Bool) -> LiveKernelLane? {
        switch KernelTrace.start() {
        case .success(let t):
            if removableAfterDrop, !t.keepRemovable() {
                Diagnostics.warning("kernel lane: cannot keep a process to remove the tracefs instance after dropping privileges "
                    + "(\(String(cString: strerror(errno)))); the next teardown run as root removes it")
            }
            return LiveKernelLane(trace: t)
        case .failure(let why):
            Diagnostics.warning("no kernel lane: \(why)")
            return nil
        }
    }

    /// Writes the events joined to printed connections beside the capture `path` is.
    func writeSidecar(beside path: String) {
        guard let file = KernelEventFile.sidecarPath(for: path) else { return }
        let (offset, uncertainty) = trace.clockOffset
        let header = KernelEventFile.Header(clock: "mono", offsetNanoseconds: offset, offsetUncertaintyNanoseconds: uncertainty,
                                            driftNanoseconds: 0, tracesEveryReset: trace.tracesEveryReset)
        do { sidecar = try KernelEventFile.Appender(path: file, header: header) } catch {
            Diagnostics.warning("kernel lane: cannot write \(file): \(error); the kernel's events are shown but not saved")
        }
    }

    /// A sidecar left beside `path` by an earlier session would be joined to packets it was
    /// not recorded with: a session without the lane removes it.
    static func removeStaleSidecar(beside path: String) {
        guard let file = KernelEventFile.sidecar(for: path) else { return }
        if unlink(file) != 0 {
            Diagnostics.warning("cannot remove \(file) (\(String(cString: strerror(errno)))), left from an earlier capture: "
                + "`replay` would join its events to these packets")
        }
    }

    /// A packet at `time` was captured: now and then, the events read so far are taken in and
    /// the old ones no connection claims forgotten.
    @inline(__always)
    func packetSeen(at time: Int64, tracker: ConnectionTracker) {
        if time > latest { latest = time }
        if time >= nextDrain { maintain(now: time, tracker: tracker) }
    }

    /// No packet came for a while: the capture is caught up, so the clock says what is old.
    func idle(now: Int64, tracker: ConnectionTracker) {
        maintain(now: max(now, latest), tracker: tracker)
    }

    func maintain(now: Int64, tracker: ConnectionTracker) {
        nextDrain = now &+ Self.drainInterval
        pending.add(trace.drain(readingNow: false))
        guard now >= nextPrune else { return }
        nextPrune = now &+ Self.pruneInterval
        pending.prune(before: now &- Self.horizon) { tracker.startOfConnection(between: $0, $1) != nil }
    }

    /// `records` (about to be printed) with the kernel's view, as `replay` of the saved files
    /// will show them: each takes the events of its 4-tuple, except those of a newer connection
    /// on that 4-tuple the tracker already holds. The events taken go to the sidecar.
    func attach(_ records: [ConnectionRecord], tracker: ConnectionTracker) -> [ConnectionRecord] {
        pending.add(trace.drain(readingNow: true))
        return records.map { r in
            var taken: [KernelEvent] = []
            if r.tunnel == nil && r.tunnelRoutes == .none {
                var cutoff = Int64.max
                if let next = tracker.startOfConnection(between: r.orig.endpoint, r.resp.endpoint), next > r.start {
                    cutoff = next.nanoseconds &- KernelJoin.startSlack
                }
                taken = pending.take(between: r.orig.endpoint, r.resp.endpoint, before: cutoff)
            }
            if let file = sidecar {
                do { try file.append(taken) } catch {
                    Diagnostics.warning("kernel lane: \(error); the kernel's events are no longer saved")
                    sidecar = nil
                }
            }
            return KernelJoin.attach(KernelLane(events: taken, tracesEveryReset: trace.tracesEveryReset), to: [r])[0]
        }
    }

    /// Stops the session and takes in its last events; the recording says what went wrong.
    func stop() -> KernelRecording {
        var recording = trace.stop()
        pending.add(recording.events)
        recording.events = []
        return recording
    }

    /// After the last connection was printed: the sidecar completed, the lane's problems said.
    func finish(_ recording: KernelRecording) {
        if let file = sidecar {
            do { try file.finish(driftNanoseconds: recording.driftNanoseconds) } catch {
                Diagnostics.warning("kernel lane: \(error)")
            }
        }
        for line in KernelWording.problems(recording) { Diagnostics.warning(line) }
    }
}
