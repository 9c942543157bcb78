import TeardownWire

/// One packet as a reading stage hands it to `ConnectionTracker.process(_:emit:)`: decoded,
/// hashed, with its time and number in the capture.
///
/// Replay decodes straight into batches of these on one thread and tracks them on another;
/// the batch is handed over, and read by the tracker, in place.
public struct DecodedPacket: Sendable {
    public var time: Timestamp
    public var number: Int
    public var status: DecodeResult
    /// Meaningful when `status == .tcp`.
    public var segment: TCPSegment
    /// The segment's flow (`FlowHasher.flow(of:)`), when `status == .tcp`.
    public var flow: FlowHash

    public init(time: Timestamp, number: Int, status: DecodeResult, segment: TCPSegment, flow: FlowHash = .none) {
        self.time = time
        self.number = number
        self.status = status
        self.segment = segment
        self.flow = flow
    }

    /// A blank packet to decode into.
    public static let empty = DecodedPacket(time: Timestamp(nanoseconds: 0), number: 0, status: .notTCP,
                                            segment: PacketDecoder.emptySegment)

    /// Decodes `bytes` (one packet's captured bytes, `originalLength` on the wire) under
    /// `linkType` into `self`, and hashes its flow with `hasher` when it is a TCP segment.
    @inline(__always)
    public mutating func decode(_ bytes: UnsafeRawBufferPointer, linkType: LinkType, originalLength: Int,
                                time: Timestamp, number: Int, hasher: FlowHasher) {
        self.time = time
        self.number = number
        status = PacketDecoder.decode(bytes, linkType: linkType, originalLength: originalLength, into: &segment)
        if case .tcp = status { flow = hasher.flow(from: segment.source, to: segment.destination) }
    }
}
