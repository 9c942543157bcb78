import TeardownWire

/// A segment's flow, hashed: the hash of its direction-free key, and which of the segment's
/// endpoints comes first in that key. Computed on the reading thread (`FlowHashing`), so the
/// tracking thread finds the segment's connection without hashing.
public struct FlowHash: Sendable, Equatable {
    public var value: UInt64
    public var sourceIsLow: Bool

    @inlinable
    public init(value: UInt64, sourceIsLow: Bool) {
        self.value = value
        self.sourceIsLow = sourceIsLow
    }

    /// No flow (a packet that is not a TCP segment).
    @inlinable public static var none: FlowHash { FlowHash(value: 0, sourceIsLow: false) }
}

/// What hashes a segment's flow the way a tracker's table does (`ConnectionTracker.flowHasher`).
public protocol FlowHashing {
    /// The flow of a segment from `source` to `destination`, hashed. (The endpoints are passed
    /// alone: a caller holding the segment in memory it cannot prove unaliased would copy the
    /// whole segment to pass it.)
    func flow(from source: Endpoint, to destination: Endpoint) -> FlowHash
    /// The flow of a segment from `source` to `destination` in the tunnel whose identity is
    /// numbered `tunnel` (`TunnelIDs.identity`; 0: none, the same as `flow(from:to:)`).
    func flow(from source: Endpoint, to destination: Endpoint, tunnel: UInt32) -> FlowHash
}

/// One packet as a reading stage hands it to the tracker: decoded, its flow hashed, with its
/// time and number in the capture.
///
/// Replay decodes straight into batches of these on one thread and tracks them on another; a
/// batch is handed over, and read by the tracker, in place, so a segment is never copied in or
/// out of a result enum on the way.
public struct DecodedPacket: Sendable {
    public var time: Timestamp
    public var number: Int
    public var status: DecodeResult
    /// Meaningful when `status == .tcp`.
    public var segment: TCPSegment
    /// The segment's flow (`FlowHashing.flow(from:to:)`), when `status == .tcp`.
    public var flow: FlowHash

    @inlinable
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
    /// Fragments go to `reassembler`: the one that completes its datagram becomes the
    /// datagram's segment, with this packet's time and number.
    ///
    /// The tunnels the segment came in are decoded into `tunnel` (scratch space the caller
    /// keeps) and numbered by `tunnels` into `segment.tunnel`, whose identity the flow's hash
    /// includes; without `tunnels` every segment keys as if it came in no tunnel.
    @inlinable @inline(__always)
    public mutating func decode<H: FlowHashing>(_ bytes: UnsafeRawBufferPointer, linkType: LinkType, originalLength: Int,
                                                time: Timestamp, number: Int, hasher: H,
                                                reassembler: inout FragmentReassembler,
                                                tunnel: inout TunnelPath, tunnels: (any TunnelInterning)?) {
        self.time = time
        self.number = number
        status = PacketDecoder.decode(bytes, linkType: linkType, originalLength: originalLength, tunnel: &tunnel,
                                      into: &segment)
        if case .fragment(let place) = status {
            status = reassembler.reassemble(bytes, at: place, time: time, tunnel: &tunnel, into: &segment)
        }
        if case .tcp = status {
            if tunnel.count == 0 {
                segment.tunnel = .none
                flow = hasher.flow(from: segment.source, to: segment.destination)
            } else {
                segment.tunnel = tunnels?.ids(for: tunnel) ?? .none
                flow = hasher.flow(from: segment.source, to: segment.destination, tunnel: segment.tunnel.identity)
            }
        }
    }
}

/// A batch of decoded packets, in capture order, read where they lie.
public struct PacketBatch: RandomAccessCollection {
    public let packets: UnsafeBufferPointer<DecodedPacket>

    @inlinable
    public init(_ packets: UnsafeBufferPointer<DecodedPacket>) { self.packets = packets }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { packets.count }
    @inlinable public subscript(i: Int) -> DecodedPacket { _read { yield packets[i] } }
}

/// A key a tracker finds a segment's connection by, made from the segment and its hashed flow.
public protocol SegmentFlowKey: FlowTableKey {
    /// The key of `segment`'s flow, its endpoints ordered as `flow` says.
    init(_ segment: TCPSegment, _ flow: FlowHash)
}

/// What a connection tracker shows `PacketBatch.walk(tracking:_:)`, so that the walk can start
/// loading what coming packets will need: its flow table (flow to slot), its connection slots,
/// and its queue of finished connections waiting to be reported (each naming its flow's hash
/// and its slot).
@usableFromInline
package protocol BatchTracking {
    associatedtype Key: SegmentFlowKey
    associatedtype Slot
    associatedtype Waiting: SlotReference
    var table: FlowTable<Key, Int> { get }
    var slots: SlotArray<Slot> { get set }
    var finished: LookaheadQueue<Waiting> { get set }
}

/// An entry that names a slot of a tracker's `SlotArray`, and the hash of its flow.
public protocol SlotReference {
    var hash: UInt64 { get }
    var slot: Int { get }
}

extension PacketBatch {
    /// How far ahead `walk(tracking:_:)` starts loading what a packet will need: the packet
    /// itself `packetLookahead` packets ahead (the reading thread wrote it, on the other core),
    /// its flow's table bucket `flowLookahead` ahead, then, once that bucket has had time to
    /// arrive, its connection `connectionLookahead` ahead. With thousands of connections open, a
    /// packet's connection is rarely in the core's own cache; loading it while the packets
    /// before it are worked on overlaps those misses with work.
    @inlinable static var packetLookahead: Int { 32 }
    @inlinable static var flowLookahead: Int { 24 }
    @inlinable static var connectionLookahead: Int { 12 }

    /// Calls `body` with `tracker` on every TCP segment of the batch, in order (other packets
    /// are skipped), prefetching ahead: the packets, their flows' buckets and connections, and
    /// the next finished connections the tracker will report.
    @inlinable @inline(__always)
    package func walk<T: BatchTracking>(tracking tracker: inout T, _ body: (inout T, borrowing DecodedPacket) -> Void) {
        guard let base = packets.baseAddress else { return }
        let n = packets.count
        for i in 0..<n {
            if i &+ Self.packetLookahead < n {
                prefetchLines(UnsafeRawPointer(base + i + Self.packetLookahead), bytes: MemoryLayout<DecodedPacket>.size)
            }
            if i &+ Self.flowLookahead < n {
                let q = base + i + Self.flowLookahead
                if case .tcp = q.pointee.status { tracker.table.prefetch(hash: q.pointee.flow.value) }
            }
            if i &+ Self.connectionLookahead < n {
                let q = base + i + Self.connectionLookahead
                if case .tcp = q.pointee.status,
                   let slot = tracker.table[T.Key(q.pointee.segment, q.pointee.flow), hash: q.pointee.flow.value] {
                    prefetchSlot(slot, of: &tracker.slots)
                }
            }
            let p = base + i
            if case .tcp = p.pointee.status {
                while let f = tracker.finished.nextToPrefetch() {
                    tracker.table.prefetch(hash: f.hash)
                    prefetchSlot(f.slot, of: &tracker.slots)
                }
                body(&tracker, p.pointee)
            }
        }
    }
}

/// `slots.prefetch(i)`, reaching `slots` in place: read through a protocol requirement's getter,
/// the array would be copied (its buffers retained and released around every prefetch).
@inlinable @inline(__always)
func prefetchSlot<Slot>(_ i: Int, of slots: inout SlotArray<Slot>) {
    slots.prefetch(i)
}
