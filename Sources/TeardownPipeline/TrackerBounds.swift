import TeardownModel
import TeardownRender

/// Resource bounds on the connection table, shared by `replay` and `live`: a capture full of
/// connections that never end (SYN floods, port scans) must not exhaust memory.
public struct TrackerBounds: Sendable, Equatable {
    /// Most connections held at once; beyond it the least recently active are reported
    /// (marked evicted) and forgotten.
    public var maxConnections: Int
    /// Seconds of packet time without a packet after which a connection is reported as idle.
    public var idleTimeout: Double

    public init(maxConnections: Int = 500_000, idleTimeout: Double = 300) {
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
    }

    /// The tracker configuration with these bounds, and a random hash seed (captures come from
    /// anywhere: none can be made in advance to pile its flows into one cluster of the table).
    public func configuration(recordEvents: Bool, recordNotes: Bool,
                              lingerNanoseconds: Int64 = 2_000_000_000) -> ConnectionTracker.Configuration {
        // Up to about 292 years fits in Int64 nanoseconds; anything longer means "never".
        let idle = idleTimeout >= 9e9 ? Int64.max / 2 : Int64(idleTimeout * 1e9)
        return .init(recordEvents: recordEvents, recordNotes: recordNotes, lingerNanoseconds: lingerNanoseconds,
                     idleTimeoutNanoseconds: max(1, idle), maxConnections: maxConnections,
                     hashSeed: UInt64.random(in: .min ... .max))
    }

    /// The tracker configuration for printing with `options`.
    func configuration(for options: PrintOptions, lingerNanoseconds: Int64 = 2_000_000_000) -> ConnectionTracker.Configuration {
        var c = configuration(recordEvents: options.needsEvents, recordNotes: options.needsNotes, lingerNanoseconds: lingerNanoseconds)
        c.recordEventsUpToIndex = options.eventsUpToIndex
        return c
    }

    /// One stderr line when the bounds cut connections short, so that a reader knows the
    /// records marked evicted or idle are not how those connections really ended.
    static func report(_ tracker: ConnectionTracker, label: String) {
        var parts: [String] = []
        if tracker.evicted > 0 {
            parts.append("\(Format.thousands(tracker.evicted)) connection\(tracker.evicted == 1 ? "" : "s") evicted "
                + "(more than \(Format.thousands(tracker.configuration.maxConnections)) open at once; see --max-connections)")
        }
        if tracker.idleExpired > 0 {
            let seconds = Double(tracker.configuration.idleTimeout) / 1e9
            let shown = seconds == seconds.rounded() ? String(Int64(seconds)) : String(seconds)
            parts.append("\(Format.thousands(tracker.idleExpired)) reported after \(shown) s without a packet "
                + "(see --idle-timeout)")
        }
        guard !parts.isEmpty else { return }
        Diagnostics.warning("\(label): " + parts.joined(separator: "; "))
    }
}
