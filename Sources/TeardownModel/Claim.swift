/// A claim from the literature that an experiment tests.
public struct Claim: Sendable, Hashable {
    /// Short stable identifier, e.g. `rst-instead-of-fin`.
    public var id: String
    public var text: String
    /// Where the claim comes from (the article in shared/seeds, or "textbook").
    public var source: String
    public init(_ id: String, _ text: String, source: String) { self.id = id; self.text = text; self.source = source }
}

public enum Verdict: String, Sendable {
    case holds
    case doesNotHold = "does-not-hold"
    case inconclusive
}

public struct ClaimResult: Sendable {
    public var claim: Claim
    public var verdict: Verdict
    /// What was observed: packet numbers, call results, durations.
    public var evidence: String
    public init(_ claim: Claim, _ verdict: Verdict, _ evidence: String) {
        self.claim = claim; self.verdict = verdict; self.evidence = evidence
    }
    /// `holds` when `condition`, else `does-not-hold`, with the same evidence either way.
    public init(_ claim: Claim, holdsIf condition: Bool, _ evidence: String) {
        self.init(claim, condition ? .holds : .doesNotHold, evidence)
    }
}
