import Dispatch
import TeardownCapture
import TeardownModel
import TeardownSpeed
import TeardownWire
#if canImport(Glibc)
import Glibc
#endif

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
    static let batchSize = 1024

    private let source: PacketSource
    private let hasher: FlowHasher
    /// Numbers the tunnels the packets came in (the printing stage names them).
    private let tunnels: TunnelRegistry
    private let pipe = BatchPipe<DecodedPacket>(depth: 4, clearsBatches: false)
    /// How the read ended; written by the reading thread before it sends the last batch, read
    /// by the caller after receiving it (the pipe's semaphores order the two).
    private var end: Result<ReadOutcome, Error> = .success(.endOfInput)
    /// The fragments of the source, reassembled on the reading thread; the caller's once `run`
    /// has returned (its datagrams still incomplete counted by `finish()`).
    private(set) var reassembler = FragmentReassembler()

    /// A reader of `source` whose packets' flows are hashed with `hasher` (the tracker's own:
    /// `ConnectionTracker.flowHasher`), so that hashing is done on the reading thread.
    init(source: PacketSource, hasher: FlowHasher, tunnels: TunnelRegistry) {
        self.source = source
        self.hasher = hasher
        self.tunnels = tunnels
    }

    /// Reads the whole source, passing every packet to `body` in order, in batches, on the
    /// calling thread while a second thread reads and decodes ahead. Returns how the read
    /// ended, or throws the read error after delivering every packet before it.
    @discardableResult
    func run(_ body: (PacketBatch) -> Void) throws -> ReadOutcome {
        guard let thread = WorkerThread({ self.produce() }) else {
            // No second thread (a resource limit): the same work, on this thread alone.
            let hasher = self.hasher, tunnels = self.tunnels
            var p = DecodedPacket.empty
            var tunnel = TunnelPath()
            defer { reassembler.finish() }
            return try source.read { packet in
                p.decode(packet.bytes, linkType: packet.linkType, originalLength: packet.originalLength,
                         time: packet.time, number: packet.number, hasher: hasher, reassembler: &reassembler,
                         tunnel: &tunnel, tunnels: tunnels)
                withUnsafePointer(to: &p) { body(PacketBatch(UnsafeBufferPointer(start: $0, count: 1))) }
                return true
            }
        }
        defer { thread.join() }
        var batch = ContiguousArray<DecodedPacket>()
        batch.reserveCapacity(DecodingReader.batchSize)
        var more = true
        while more {
            more = pipe.receive(into: &batch)
            batch.withUnsafeBufferPointer { body(PacketBatch($0)) }
        }
        return try end.get()
    }

    /// The reading thread: decodes into batches and sends them until the source ends.
    private func produce() {
        let hasher = self.hasher, tunnels = self.tunnels
        let size = DecodingReader.batchSize
        // Batches stay full-length as they circulate (the pipe does not clear them): each
        // packet is decoded over a stale one, in place, with no copy in or out. `n` counts
        // the packets of this batch; the last batch is cut to `n` before it is sent.
        var batch = ContiguousArray<DecodedPacket>()
        var n = 0
        var reassembler = FragmentReassembler()
        var tunnel = TunnelPath()
        end = Result {
            try source.read { packet in
                if n == 0 && batch.count < size {
                    batch.append(contentsOf: repeatElement(.empty, count: size - batch.count))
                }
                batch[n].decode(packet.bytes, linkType: packet.linkType, originalLength: packet.originalLength,
                                time: packet.time, number: packet.number, hasher: hasher, reassembler: &reassembler,
                                tunnel: &tunnel, tunnels: tunnels)
                n += 1
                if n == size {
                    pipe.send(&batch)
                    n = 0
                }
                return true
            }
        }
        reassembler.finish()
        self.reassembler = reassembler
        batch.removeLast(batch.count - n)
        pipe.send(&batch, last: true)
    }
}
