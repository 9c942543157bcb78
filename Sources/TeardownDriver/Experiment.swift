import TeardownModel

/// One bundled experiment: real socket calls on this kernel, and the claims they test.
///
/// `perform` writes what it measures (a read's result, a call's duration, the kernel's sockets
/// at some moment) into its `Findings`, a struct with one stored property per measurement;
/// `judge` reads them back. A misspelled measurement does not compile.
public protocol Experiment {
    /// What `perform` measured, for `judge`.
    associatedtype Findings: ExperimentFindings
    /// Command-line name, e.g. `linger-zero`.
    var name: String { get }
    /// One line for `teardown scenarios`.
    var summary: String { get }
    var claims: [Claim] { get }
    /// Sysctls to set inside the experiment's namespace first (e.g. a short tcp_fin_timeout).
    var sysctls: [(String, String)] { get }
    /// Programs `perform` runs (e.g. `nft` for a firewall rule), each with the Debian package
    /// that has it: when one is not on the PATH the experiment is not started (`Runner.unmet`).
    var requiredPrograms: [(program: String, package: String)] { get }
    /// Makes the calls, noting measurements in `notes`. Runs with capture already going; peers
    /// run on `lab.spawn` threads.
    func perform(_ lab: Lab, _ notes: Notebook<Findings>) throws
    /// Judges every claim from what was captured and called, and what `perform` measured (as
    /// far as it got: a `perform` that failed leaves the rest of its findings empty).
    func judge(_ o: Observation, _ found: Findings) -> [ClaimResult]
}

extension Experiment {
    public var sysctls: [(String, String)] { [] }
    public var requiredPrograms: [(program: String, package: String)] { [] }
}

/// An experiment's measurements. They start empty: nil, or the value the judge reads as
/// "not measured".
public protocol ExperimentFindings {
    init()
}
