import Dispatch
import Synchronization
import TeardownCaptureFile

/// `base` read ahead on a thread of its own, a megabyte at a time through a ring of four.
///
/// For a decompressor: zlib, libzstd and liblz4 decode on one core, and the thread reading the
/// capture (which also parses its records and decodes its packets) would otherwise wait for
/// them. Bytes and an error come out in the order `base` gave them.
final class ReadAheadInput: ByteInput {
    static let chunk = 1 << 20
    static let depth = 4

    /// What the two threads share: the chunks, each one's byte count (0 at the end, -1 for
    /// an error), and the semaphores that hand them back and forth.
    private final class Ring: @unchecked Sendable {
        let chunks = (0..<ReadAheadInput.depth).map { _ in
            UnsafeMutableRawBufferPointer.allocate(byteCount: ReadAheadInput.chunk, alignment: 64)
        }
        var counts = [Int](repeating: 0, count: ReadAheadInput.depth)
        var failure: Error?
        let filled = DispatchSemaphore(value: 0)
        let free = DispatchSemaphore(value: ReadAheadInput.depth)
        let stop = Atomic<Bool>(false)
        deinit { chunks.forEach { $0.deallocate() } }
    }

    private let ring = Ring()
    private var thread: WorkerThread?
    /// The chunk being read, how far, and how much it holds (while `holding`).
    private var slot = 0
    private var position = 0
    private var count = 0
    private var holding = false
    private var ended = false

    /// Starts reading `base` ahead; nil when no thread could be made (read it directly then).
    init?(_ base: ByteInput) {
        let ring = self.ring
        guard let t = WorkerThread({
            var w = 0
            while true {
                ring.free.wait()
                if ring.stop.load(ordering: .acquiring) { return }
                var n: Int
                do { n = try base.read(into: ring.chunks[w]) } catch {
                    ring.failure = error
                    n = -1
                }
                ring.counts[w] = n
                ring.filled.signal()
                if n <= 0 { return }
                w = (w + 1) % ReadAheadInput.depth
            }
        }) else { return nil }
        thread = t
    }

    deinit {
        // The reading thread may be waiting for a free chunk, or reading one: let it see the stop.
        ring.stop.store(true, ordering: .releasing)
        ring.free.signal()
        thread?.join()
    }

    func read(into out: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let dst = out.baseAddress, out.count > 0 else { return 0 }
        if ended {
            if let failure = ring.failure { throw failure }
            return 0
        }
        if !holding {
            ring.filled.wait()
            holding = true
            position = 0
            count = ring.counts[slot]
            if count <= 0 {
                ended = true
                if count < 0, let failure = ring.failure { throw failure }
                return 0
            }
        }
        let n = min(out.count, count - position)
        dst.copyMemory(from: ring.chunks[slot].baseAddress! + position, byteCount: n)
        position += n
        if position == count {
            holding = false
            ring.free.signal()
            slot = (slot + 1) % ReadAheadInput.depth
        }
        return n
    }
}
