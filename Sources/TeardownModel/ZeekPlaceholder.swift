import TeardownWire
// Temporary stand-in until the Zeek emulation lands (same API). Not shipped.
public struct ZeekTCPState: Sendable {
    public init() {}
    public mutating func observe(fromOriginator: Bool, flags: TCPFlags, sequence: SequenceNumber,
                                 acknowledgment: SequenceNumber, payloadLength: Int, window: UInt16) {}
    public var connState: ZeekConnState { .OTH }
    public var history: String { "" }
}
public enum ZeekRoles {
    public static func shouldFlip(firstSegmentFlags: TCPFlags, sourcePort: UInt16, destinationPort: UInt16) -> Bool {
        if firstSegmentFlags.contains(.syn) && !firstSegmentFlags.contains(.ack) { return false }
        return sourcePort < 1024 && destinationPort >= 1024
    }
}
