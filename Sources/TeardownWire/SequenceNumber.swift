/// A TCP sequence number: 32-bit modular arithmetic (RFC 9293 §3.4).
///
/// Sequence numbers are never compared as plain integers: `a < b` means "a comes
/// before b" in the 2^31 window around a, which is what keeps wraparound correct.
public struct SequenceNumber: Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32

    @inlinable public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    /// Signed distance from `other` to `self`, in the range -2^31 ..< 2^31.
    @inlinable public func distance(from other: SequenceNumber) -> Int32 {
        Int32(bitPattern: rawValue &- other.rawValue)
    }

    /// Offset from an initial sequence number, as tcpdump's relative numbers (0 ... 2^32-1).
    @inlinable public func relative(to base: SequenceNumber) -> UInt32 { rawValue &- base.rawValue }

    @inlinable public static func + (lhs: SequenceNumber, rhs: UInt32) -> SequenceNumber {
        SequenceNumber(lhs.rawValue &+ rhs)
    }
    @inlinable public static func - (lhs: SequenceNumber, rhs: SequenceNumber) -> Int32 {
        lhs.distance(from: rhs)
    }
    @inlinable public static func < (lhs: SequenceNumber, rhs: SequenceNumber) -> Bool { lhs.distance(from: rhs) < 0 }
    @inlinable public static func <= (lhs: SequenceNumber, rhs: SequenceNumber) -> Bool { lhs.distance(from: rhs) <= 0 }
    @inlinable public static func > (lhs: SequenceNumber, rhs: SequenceNumber) -> Bool { lhs.distance(from: rhs) > 0 }
    @inlinable public static func >= (lhs: SequenceNumber, rhs: SequenceNumber) -> Bool { lhs.distance(from: rhs) >= 0 }

    /// The later of two sequence numbers (modular order).
    @inlinable public static func latest(_ a: SequenceNumber, _ b: SequenceNumber) -> SequenceNumber { a < b ? b : a }

    public var description: String { String(rawValue) }
}
