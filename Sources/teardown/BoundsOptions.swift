import ArgumentParser
import TeardownPipeline

/// Resource bounds on the connection table, shared by `replay` and `live` (`TrackerBounds`).
struct BoundsOptions: ParsableArguments {
    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp(
        "Most connections held at once; beyond it the least recently active are reported (marked evicted) and forgotten.",
        valueName: "n"))
    var maxConnections: Int = 500_000

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp(
        "A connection with no packet for this long (packet time) is reported as idle and forgotten.",
        valueName: "seconds"))
    var idleTimeout: Double = 300

    func validate() throws {
        if maxConnections < 1 { throw ValidationError("--max-connections must be at least 1.") }
        // Up to about 292 years fits in Int64 nanoseconds; anything longer means "never".
        if !(idleTimeout > 0) { throw ValidationError("--idle-timeout must be a positive number of seconds.") }
    }

    var bounds: TrackerBounds { TrackerBounds(maxConnections: maxConnections, idleTimeout: idleTimeout) }
}
