import TeardownModel
import TeardownRender

/// The packet comments of `--annotate`, gathered as connections end (out of packet order) and
/// handed back in packet order for the copy.
///
/// Held compactly, since they wait for the end of the input: each comment's bytes in one
/// arena, and per comment its packet number and where its bytes lie (24 bytes), instead of a
/// String each.
public final class PacketCommentStore {
    private var arena: [UInt8] = []
    private var entries: [(number: Int, offset: Int, length: Int)] = []
    private var sorted = true
    /// The next entry `comment(for:)` looks at.
    private var cursor = 0

    public init() {}

    /// How many packets have a comment.
    public var count: Int { entries.count }

    /// Bytes held (the arena and the entries), for measurements.
    public var bytes: Int { arena.capacity + entries.capacity * 24 }

    /// Adds the comments of `record`'s packets.
    public func add(_ record: ConnectionRecord) {
        for (number, text) in PacketComments.comments(record) {
            if let last = entries.last, last.number > number { sorted = false }
            var t = text
            t.withUTF8 { entries.append((number, arena.count, $0.count)); arena.append(contentsOf: $0) }
        }
    }

    /// The comment of packet `number`; numbers must be asked for in increasing order, as a
    /// copy reads them.
    public func comment(for number: Int) -> String? {
        if !sorted {
            entries.sort { $0.number < $1.number }
            sorted = true
        }
        while cursor < entries.count && entries[cursor].number < number { cursor += 1 }
        guard cursor < entries.count, entries[cursor].number == number else { return nil }
        let e = entries[cursor]
        cursor += 1
        return arena.withUnsafeBufferPointer { String(decoding: $0[e.offset..<e.offset + e.length], as: UTF8.self) }
    }
}
