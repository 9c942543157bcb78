import Foundation
import Testing
import TeardownDriver
import TeardownModel

/// The experiments that make the endings teardown diagnoses happen (docs/diagnoses.md), run
/// live (root, in their own namespaces): every claim holds, the diagnosis among them.
/// close-wait-leak runs 62 s (its rule's threshold is 60 s of silence), so it runs only with
/// TEARDOWN_SLOW_EXPERIMENTS=1; its recording is checked without root by DiagnosisCLITests.
@Suite struct DiagnosisExperimentTests {
    @Test(arguments: ["keepalive-race", "close-unread-request", "zero-window-abort", "retransmission-give-up", "listen-overflow", "firewall-reset", "peer-restarted", "time-wait-reuse", "harmless-reset"])
    func claimsHold(_ name: String) throws {
        guard let r = try runLiveExperiment(name) else { return }
        expectAllHold(r)
    }

    /// An experiment whose program is not installed (nft for the firewall ones) is not started:
    /// one line names the program and its package, before any namespace or capture (no root
    /// needed to see it), and the live tests above skip saying so.
    @Test func aMissingProgramIsSaidBeforeAnythingStarts() throws {
        struct NeedsMissing: Experiment {
            struct Findings: ExperimentFindings { init() {} }
            var name: String { "needs-missing" }
            var summary: String { "an experiment that needs a program nobody has" }
            var claims: [Claim] { [] }
            var requiredPrograms: [(program: String, package: String)] { [("teardown-no-such-program", "no-such-package")] }
            func perform(_ lab: Lab, _ notes: Notebook<Findings>) throws { Issue.record("perform ran") }
            func judge(_ o: Observation, _ found: Findings) -> [ClaimResult] { [] }
        }
        #expect(Runner.unmet(NeedsMissing()) == "needs teardown-no-such-program, not on the PATH (Debian: apt-get install no-such-package)")
        #expect(throws: DriverError.self) { try Runner.run(NeedsMissing()) }
        for name in ["firewall-reset", "retransmission-give-up", "peer-restarted"] {
            #expect(try #require(Experiments.named(name)).requiredPrograms.map(\.program) == ["nft"], "\(name)")
        }
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["TEARDOWN_SLOW_EXPERIMENTS"] == "1", "runs 62 s: TEARDOWN_SLOW_EXPERIMENTS=1"))
    func closeWaitLeak_claimsHold() throws {
        guard let r = try runLiveExperiment("close-wait-leak") else { return }
        expectAllHold(r)
    }
}
