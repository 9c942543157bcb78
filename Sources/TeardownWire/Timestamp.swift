/// A packet or event time: nanoseconds since the Unix epoch (CLOCK_REALTIME, as pcap uses).
public struct Timestamp: Hashable, Comparable, Sendable {
    public var nanoseconds: Int64
    @inlinable public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }
    /// Wrapping arithmetic: the seconds come from a capture file's record header, and a damaged
    /// one must give a wrong time, never a trap.
    @inlinable public init(seconds: Int64, nanoseconds: Int64) { self.nanoseconds = seconds &* 1_000_000_000 &+ nanoseconds }
    @inlinable public static func < (a: Timestamp, b: Timestamp) -> Bool { a.nanoseconds < b.nanoseconds }
    /// Seconds since the epoch with fraction, for JSON (`start`, `end`).
    @inlinable public var seconds: Double { Double(nanoseconds) / 1e9 }
}
