import TeardownWire

/// A packet kept in memory during an experiment.
public struct StoredPacket: Sendable {
    public var time: Timestamp
    public var bytes: [UInt8]
    public var originalLength: Int
}
