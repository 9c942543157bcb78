/// One run of a bundled experiment as `teardown run` reports it: where it ran, what it
/// captured and called, and the verdict on each claim it tests. The driver fills it in; Render
/// words it (`ExperimentReport`).
public struct ExperimentOutcome: Sendable {
    /// Command-line name, e.g. `linger-zero`.
    public var name: String
    /// One line saying what the experiment does.
    public var summary: String
    public var claims: [ClaimResult]
    /// The connections captured, with the calls attached.
    public var records: [ConnectionRecord]
    /// Every socket call made, in the order they were made.
    public var calls: [RecordedCall]
    /// How many packets were captured.
    public var packetCount: Int
    /// Things that went wrong while running (a thread that failed, a timeout).
    public var problems: [String]
    /// Whether the run was inside its own network namespace.
    public var isolated: Bool
    public var wallNanoseconds: Int64

    public init(name: String, summary: String, claims: [ClaimResult], records: [ConnectionRecord], calls: [RecordedCall],
                packetCount: Int, problems: [String], isolated: Bool, wallNanoseconds: Int64) {
        self.name = name; self.summary = summary; self.claims = claims; self.records = records; self.calls = calls
        self.packetCount = packetCount; self.problems = problems; self.isolated = isolated; self.wallNanoseconds = wallNanoseconds
    }
}
