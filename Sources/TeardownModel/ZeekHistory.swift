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

    /// The letters as a string, built in place (a history of up to 15 letters, nearly every
    /// one, is a small string: no allocation at all).
    var string: String {
        String(unsafeUninitializedCapacity: count) { buffer in
            var n = 0
            for i in 0..<inlineCount {
                let word = i < 8 ? inline.0 : i < 16 ? inline.1 : inline.2
                buffer[n] = UInt8(truncatingIfNeeded: word >> (UInt64(i % 8) * 8))
                n += 1
            }
            for byte in spill {
                buffer[n] = byte
                n += 1
            }
            return n
        }
    }
}
