import TeardownCapture
import TeardownModel
import TeardownWire

/// `teardown run`: the packets of an experiment, held in memory, made into its connection
/// records with the socket calls that caused them lined up beside the packets.
public enum RecordingPipeline {
    /// The records of the packets `read` passes on (in capture order, numbered from 1, each
    /// with its link type), with
    /// timelines and notes, in order of first packet, `calls` attached.
    public static func records(calls: [RecordedCall], kernel: KernelLane? = nil,
                               read: ((CapturedPacket) -> Void) -> Void) -> [ConnectionRecord] {
        // Nothing is printed before the end, so nothing waits for late packets either.
        let configuration = ConnectionTracker.Configuration(recordEvents: true, recordNotes: true, lingerNanoseconds: .max / 4,
                                                            hashSeed: UInt64.random(in: .min ... .max))
        var stage = TrackingStage(configuration: configuration, label: "", showsProblems: false)
        var records: [ConnectionRecord] = []
        let tunnels = stage.tunnels
        read { packet in stage.feed(packet) { records.append(tunnels.named($0.record())) } }
        stage.finish { records.append(tunnels.named($0.record())) }
        records.sort { $0.index < $1.index }
        return correlate(records, calls: calls, kernel: kernel)
    }

    /// Records in order with what came beside the packets: the socket calls, then the kernel's
    /// events. `run` and `replay` of its saved files both go through here, so they agree.
    public static func correlate(_ records: [ConnectionRecord], calls: [RecordedCall]?, kernel: KernelLane?) -> [ConnectionRecord] {
        var out = records
        if let calls { out = CallCorrelation.attach(calls, to: out) }
        if let kernel { out = KernelJoin.attach(kernel, to: out) }
        return out
    }
}
