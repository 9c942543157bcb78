import Dispatch

/// A one-way, in-order channel of batches between two threads: a ring of `depth` slots guarded
/// by two semaphores. The sender owns a slot between `empty.wait()` and `filled.signal()`, the
/// receiver between `filled.wait()` and `empty.signal()`, so the semaphores order every access
/// and the slots need no lock of their own.
///
/// Batches are swapped in and out of the slots, never copied: the arrays circulate between the
/// two threads with their capacity, so a pipe in steady state allocates nothing. A handoff costs
/// a semaphore pair per batch, not per element.
final class BatchPipe<Element>: @unchecked Sendable {
    private final class Slot {
        var items = ContiguousArray<Element>()
        var isLast = false
    }

    private let slots: [Slot]
    private let filled = DispatchSemaphore(value: 0)
    private let empty: DispatchSemaphore
    private let clearsBatches: Bool
    private var sendIndex = 0      // touched by the sender only
    private var receiveIndex = 0   // touched by the receiver only

    /// A pipe of `depth` slots. With `clearsBatches` (the default) arrays travel back to the
    /// sender emptied (by the receiver, so the elements are released on its thread); without,
    /// they travel back as the receiver left them, for a sender that overwrites the elements
    /// of a full array in place rather than appending.
    init(depth: Int = 8, clearsBatches: Bool = true) {
        slots = (0..<max(1, depth)).map { _ in Slot() }
        empty = DispatchSemaphore(value: slots.count)
        self.clearsBatches = clearsBatches
    }

    /// Hands `batch` over (waiting while every slot is full) and leaves an array, with
    /// capacity, in its place: emptied, unless the pipe does not clear batches. `last` marks
    /// the end of the stream.
    func send(_ batch: inout ContiguousArray<Element>, last: Bool = false) {
        empty.wait()
        let slot = slots[sendIndex]
        sendIndex = (sendIndex + 1) % slots.count
        swap(&batch, &slot.items)
        slot.isLast = last
        filled.signal()
        if clearsBatches { batch.removeAll(keepingCapacity: true) }
    }

    /// Takes the next batch into `batch` (waiting for one), giving back the array `batch` held.
    /// Returns false for the last batch of the stream.
    func receive(into batch: inout ContiguousArray<Element>) -> Bool {
        if clearsBatches { batch.removeAll(keepingCapacity: true) }
        filled.wait()
        let slot = slots[receiveIndex]
        receiveIndex = (receiveIndex + 1) % slots.count
        swap(&batch, &slot.items)
        let more = !slot.isLast
        empty.signal()
        return more
    }
}
