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
    let r = try Runner.run(e)
    #expect(r.isolated, "ran in a private namespace", sourceLocation: sourceLocation)
    #expect(r.problems.isEmpty, "\(r.problems)", sourceLocation: sourceLocation)
    for rec in r.records {
        for l in [rec.orig.bytes, rec.resp.bytes] {
            #expect(CallCorrelation.ledgerProblem(l) == nil, "\(name) ledger: \(rec.notes)", sourceLocation: sourceLocation)
        }
    }
    return r
}
