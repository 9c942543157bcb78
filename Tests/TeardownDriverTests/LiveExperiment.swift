import Foundation
import Testing
import TeardownDriver
import TeardownModel

/// Runs a bundled experiment live for a test. Needs root (a network namespace and capture),
/// which CI has; without it, says why and returns nil so the test skips.
///
/// Checks what every run must satisfy: it ran in its own namespace, nothing went wrong while
/// running, and every byte ledger adds up. (No time bound: these machines are noisy.)
func runLiveExperiment(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> ExperimentResult? {
    guard geteuid() == 0 else {
        print("skipping live experiment \(name): needs root to create a network namespace and capture (CI runs as root)")
        return nil
    }
    let e = try #require(Experiments.named(name), sourceLocation: sourceLocation)
    if let why = Runner.unmet(e) {
        print("skipping live experiment \(name): it \(why)")
        return nil
    }
    let r = try Runner.run(e)
    #expect(r.isolated, "ran in a private namespace", sourceLocation: sourceLocation)
    #expect(r.problems.isEmpty, "\(r.problems)", sourceLocation: sourceLocation)
    for rec in r.records {
        for l in [rec.orig.bytes, rec.resp.bytes] {
            #expect(l.problems.isEmpty, "\(name) ledger: \(rec.notes)", sourceLocation: sourceLocation)
        }
    }
    return r
}

/// Expects exactly the claims of `expected`, each with its verdict.
func expectVerdicts(_ r: ExperimentResult, _ expected: [String: Verdict], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(Set(r.claims.map(\.claim.id)) == Set(expected.keys), sourceLocation: sourceLocation)
    for c in r.claims {
        #expect(c.verdict == expected[c.claim.id], "\(c.claim.id): \(c.evidence)", sourceLocation: sourceLocation)
    }
}

/// Expects every claim to hold.
func expectAllHold(_ r: ExperimentResult, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(!r.claims.isEmpty, sourceLocation: sourceLocation)
    for c in r.claims { #expect(c.verdict == .holds, "\(r.name) \(c.claim.id): \(c.evidence)", sourceLocation: sourceLocation) }
}

/// The first close() row on `side` of a record's timeline.
func closeCall(_ r: ExperimentResult, _ side: Side = .orig, in rec: ConnectionRecord) -> CallEvent? {
    rec.events.lazy.compactMap { e -> CallEvent? in
        if case .call(let c) = e, c.side == side, c.call == "close()" || c.call == "… close()" { return c }   // "… " marks a call shown where it returned
        return nil
    }.first
}

/// Calls whose text marks them as made by a forked child.
func childCalls(_ r: ExperimentResult) -> [RecordedCall] { r.calls.filter { $0.call.contains("[child pid") } }
