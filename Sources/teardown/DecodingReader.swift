import Dispatch
import TeardownCapture
import TeardownWire
#if canImport(Glibc)
import Glibc
#endif

/// One packet as the reading thread hands it to the tracking thread: decoded, with its time and
/// number in the file. The segment is decoded straight into the batch and handed on from it by
/// reference (a `DecodeResult.tcp` payload would be copied in and out: 131 bytes a packet).
struct DecodedPacket {
    var time: Timestamp
    var number: Int
    var status: DecodeStatus
    /// Meaningful when `status == .tcp`.
    var segment: TCPSegment

    /// Decodes `packet` under `linkType` into `self`.
    @inline(__always)
    mutating func decode(_ packet: CapturedPacket, linkType: LinkType) {
        time = packet.time
        number = packet.number
        status = PacketDecoder.decode(packet.bytes, linkType: linkType, originalLength: packet.originalLength,
                                      into: &segment)
    }

    static var empty: DecodedPacket {
        DecodedPacket(time: Timestamp(nanoseconds: 0), number: 0, status: .notTCP, segment: PacketDecoder.emptySegment)
    }
}

/// Reads and decodes a capture on a thread of its own while the caller's thread tracks
/// connections: replay of one file uses both cores.
///
/// libpcap's read plus the decoder cost about as much as the connection model and the output
/// together, so a two-stage pipeline is the largest step toward libpcap's own speed that does
/// not leave work undone. Packets travel in batches (a handoff per `batchSize` packets, not per
/// packet) through a ring of `depth` slots; the batch arrays circulate between the two threads
/// and are reused, so the steady state allocates nothing.
///
/// Order is kept: batches are consumed in the order they were filled, and a read error is
/// delivered after every packet read before it.
final class DecodingReader: @unchecked Sendable {
    static let batchSize = 1024
    static let depth = 8

    /// A slot of the ring. The producer owns it between `empty.wait()` and `filled.signal()`,
    /// the consumer between `filled.wait()` and `empty.signal()`: the semaphores order every
    /// access, so the slot needs no lock of its own.
    private final class Slot {
        var packets: ContiguousArray<DecodedPacket> = []
        /// Set on the last batch: how the read ended.
        var end: Result<ReadOutcome, Error>?
    }

    private let source: PacketSource
    private let slots: [Slot]
    private let filled = DispatchSemaphore(value: 0)
    private let empty = DispatchSemaphore(value: DecodingReader.depth)

    init(source: PacketSource) {
        self.source = source
        self.slots = (0..<DecodingReader.depth).map { _ in Slot() }
    }

    /// Reads the whole source, passing every packet to `body` in order on the calling thread
    /// while a second thread reads and decodes ahead. Returns how the read ended, or throws the
    /// read error after delivering every packet before it.
    @discardableResult
    func run(_ body: (UnsafePointer<DecodedPacket>) -> Void) throws -> ReadOutcome {
        guard let thread = startProducer() else {
            // No second thread (a resource limit): the same work, on this thread alone.
            let linkType = source.linkType
            var p = DecodedPacket.empty
            return try source.read { packet in
                p.decode(packet, linkType: linkType)
                withUnsafePointer(to: &p) { body($0) }
                return true
            }
        }
        defer { pthread_join(thread, nil) }
        var batch = ContiguousArray<DecodedPacket>()
        batch.reserveCapacity(DecodingReader.batchSize)
        var next = 0
        while true {
            filled.wait()
            let slot = slots[next]
            next = (next + 1) % DecodingReader.depth
            swap(&batch, &slot.packets)   // take the batch, leave an emptied array to refill
            let end = slot.end
            slot.end = nil
            empty.signal()
            batch.withUnsafeBufferPointer { packets in
                guard let base = packets.baseAddress else { return }
                for i in 0..<packets.count { body(base + i) }
            }
            batch.removeAll(keepingCapacity: true)
            if let end { return try end.get() }
        }
    }

    /// Starts the reading thread; nil if none could be started.
    private func startProducer() -> pthread_t? {
        let box = Unmanaged.passRetained(self)
        var t = pthread_t()
        let rc = pthread_create(&t, nil, { arg in
            Unmanaged<DecodingReader>.fromOpaque(arg!).takeRetainedValue().produce()
            return nil
        }, box.toOpaque())
        guard rc == 0 else {
            box.release()
            return nil
        }
        return t
    }

    /// The reading thread: fills slots in ring order until the source ends.
    private func produce() {
        let linkType = source.linkType
        var batch = ContiguousArray<DecodedPacket>()
        batch.reserveCapacity(DecodingReader.batchSize)
        var next = 0
        func hand(_ end: Result<ReadOutcome, Error>?) {
            empty.wait()
            let slot = slots[next]
            next = (next + 1) % DecodingReader.depth
            swap(&batch, &slot.packets)   // give the batch, take back an emptied array
            slot.end = end
            filled.signal()
            batch.removeAll(keepingCapacity: true)
        }
        let end: Result<ReadOutcome, Error> = Result {
            try source.read { packet in
                batch.append(.empty)
                batch[batch.count - 1].decode(packet, linkType: linkType)
                if batch.count == DecodingReader.batchSize { hand(nil) }
                return true
            }
        }
        hand(end)
    }
}
