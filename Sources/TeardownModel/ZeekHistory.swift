/// Zeek's `history` string as it is built, one ASCII letter at a time
/// (`Connection::AddHistory`, src/Conn.cc), without a heap allocation per connection.
///
/// The first 24 letters live inline (most connections need fewer than ten: `ShADadFf`);
/// any beyond spill into an array. `string` makes the `String` once, for the record.
struct ZeekHistory: Sendable {
    private var inline: (UInt64, UInt64, UInt64) = (0, 0, 0)
    private var inlineCount = 0
    private var spill: [UInt8] = []

    static let inlineCapacity = 24

    mutating func append(_ letter: Unicode.Scalar) {
        append(UInt8(truncatingIfNeeded: letter.value))
    }

    mutating func append(_ byte: UInt8) {
        guard inlineCount < Self.inlineCapacity else {
            spill.append(byte)
            return
        }
        let shift = UInt64(inlineCount % 8) * 8
        let v = UInt64(byte) << shift
        switch inlineCount / 8 {
        case 0: inline.0 |= v
        case 1: inline.1 |= v
        default: inline.2 |= v
        }
        inlineCount += 1
    }

    var count: Int { inlineCount + spill.count }

    var string: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        let words = [inline.0, inline.1, inline.2]
        for i in 0..<inlineCount {
            bytes.append(UInt8(truncatingIfNeeded: words[i / 8] >> (UInt64(i % 8) * 8)))
        }
        bytes.append(contentsOf: spill)
        return String(decoding: bytes, as: UTF8.self)
    }
}
