import TeardownModel
import TeardownWire

/// Everything one run of an experiment produced: what the report shows (`outcome`, whose
/// fields read as the result's own: `result.claims`), and the packets, for `--save`.
@dynamicMemberLookup
public struct ExperimentResult {
    public var outcome: ExperimentOutcome
    public var packets: [StoredPacket]
    public var linkType: LinkType

    public subscript<T>(dynamicMember field: KeyPath<ExperimentOutcome, T>) -> T { outcome[keyPath: field] }
}
