import TeardownKernel
import TeardownModel
import TeardownPipeline
import TeardownWire

/// Everything one run of an experiment produced: what the report shows (`outcome`, whose
/// fields read as the result's own: `result.claims`), and the packets, for `--save`.
@dynamicMemberLookup
public struct ExperimentResult {
    public var outcome: ExperimentOutcome
    public var packets: [StoredPacket]
    public var linkType: LinkType
    /// The kernel lane: the events of the capture's sockets, and how their times were made
    /// (nil when it could not be recorded; `kernelMissing` says why).
    public var kernel: KernelLane?
    public var kernelHeader: KernelEventFile.Header?
    /// One line saying why the kernel lane is absent, or what part of it is (an event this
    /// kernel lacks or teardown cannot read, records lost or unreadable).
    public var kernelLines: [String] = []
    /// The tracefs instance the kernel lane was recorded in (removed by the time the result
    /// exists), nil without the lane.
    public var kernelInstance: String?

    public subscript<T>(dynamicMember field: KeyPath<ExperimentOutcome, T>) -> T { outcome[keyPath: field] }
}
