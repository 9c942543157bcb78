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
/// libpcap's read plus the decoder cost about as much as the connection model, so a two-stage
/// pipeline is the largest step toward libpcap's own speed that leaves no work undone. Packets
/// travel through a `BatchPipe` in batches of `batchSize`, decoded straight into the batch.
///
/// Order is kept: packets arrive in file order, and a read error is delivered after every
/// packet read before it.
final class DecodingReader: @unchecked Sendable {
    static let batchSize = 256

    private let source: PacketSource
    private let pipe = BatchPipe<DecodedPacket>(depth: 4)
    /// How the read ended; written by the reading thread before it sends the last batch, read
    /// by the caller after receiving it (the pipe's semaphores order the two).
    private var end: Result<ReadOutcome, Error> = .success(.endOfInput)

    init(source: PacketSource) {
        self.source = source
    }

    /// Reads the whole source, passing every packet to `body` in order on the calling thread
    /// while a second thread reads and decodes ahead. Returns how the read ended, or throws the
    /// read error after delivering every packet before it.
    /// How far ahead `run` shows packets to its `ahead` callback: first for their flow's table
    /// bucket, then, nearer, for their connection (see `ConnectionTracker.prefetchFlow`).
    static let flowLookahead = 12
    static let connectionLookahead = 6
    enum Lookahead { case flow, connection }

    /// `ahead` sees each packet twice before `body` does (`flowLookahead` and
    /// `connectionLookahead` packets earlier, within a batch), to start loading what `body`
    /// will need; it must change nothing.
    @discardableResult
    func run(ahead: (UnsafePointer<DecodedPacket>, Lookahead) -> Void = { _, _ in },
             _ body: (UnsafePointer<DecodedPacket>) -> Void) throws -> ReadOutcome {
        guard let thread = WorkerThread({ self.produce() }) else {
            // No second thread (a resource limit): the same work, on this thread alone.
            let linkType = source.linkType
            var p = DecodedPacket.empty
            return try source.read { packet in
                p.decode(packet, linkType: linkType)
                withUnsafePointer(to: &p) { body($0) }
                return true
            }
        }
        defer { thread.join() }
        var batch = ContiguousArray<DecodedPacket>()
        batch.reserveCapacity(DecodingReader.batchSize)
        var more = true
        while more {
            more = pipe.receive(into: &batch)
            batch.withUnsafeBufferPointer { packets in
                guard let base = packets.baseAddress else { return }
                let n = packets.count
                for i in 0..<n {
                    if i + DecodingReader.flowLookahead < n { ahead(base + i + DecodingReader.flowLookahead, .flow) }
                    if i + DecodingReader.connectionLookahead < n {
                        ahead(base + i + DecodingReader.connectionLookahead, .connection)
                    }
                    body(base + i)
                }
            }
        }
        return try end.get()
    }

    /// The reading thread: decodes into batches and sends them until the source ends.
    private func produce() {
        let linkType = source.linkType
        var batch = ContiguousArray<DecodedPacket>()
        batch.reserveCapacity(DecodingReader.batchSize)
        end = Result {
            try source.read { packet in
                batch.append(.empty)
                batch[batch.count - 1].decode(packet, linkType: linkType)
                if batch.count == DecodingReader.batchSize { pipe.send(&batch) }
                return true
            }
        }
        pipe.send(&batch, last: true)
    }
}
