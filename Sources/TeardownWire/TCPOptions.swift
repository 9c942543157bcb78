/// A TCP option kind (IANA registry). An open set: unknown kinds are still values.
public struct TCPOptionKind: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let endOfList = TCPOptionKind(rawValue: 0)
    public static let noOperation = TCPOptionKind(rawValue: 1)
    public static let maximumSegmentSize = TCPOptionKind(rawValue: 2)    // RFC 9293 §3.2
    public static let windowScale = TCPOptionKind(rawValue: 3)           // RFC 7323 §2
    public static let sackPermitted = TCPOptionKind(rawValue: 4)         // RFC 2018
    public static let sack = TCPOptionKind(rawValue: 5)                  // RFC 2018
    public static let timestamps = TCPOptionKind(rawValue: 8)            // RFC 7323 §3
}

/// One SACK block: the left edge and the right edge (exclusive) of a received range.
public struct SACKBlock: Hashable, Sendable {
    public var left: SequenceNumber
    public var right: SequenceNumber
    @inlinable public init(left: SequenceNumber, right: SequenceNumber) { self.left = left; self.right = right }
}

/// The TCP options of one segment, decoded into fixed storage (no heap).
///
/// At most four SACK blocks fit in 40 option bytes; they are kept inline.
public struct TCPOptions: Hashable, Sendable {
    public var mss: UInt16?
    public var windowScale: UInt8?
    public var sackPermitted: Bool = false
    public var timestampValue: UInt32?
    public var timestampEcho: UInt32?
    public var sackBlockCount: UInt8 = 0
    public var sack0 = SACKBlock(left: SequenceNumber(0), right: SequenceNumber(0))
    public var sack1 = SACKBlock(left: SequenceNumber(0), right: SequenceNumber(0))
    public var sack2 = SACKBlock(left: SequenceNumber(0), right: SequenceNumber(0))
    public var sack3 = SACKBlock(left: SequenceNumber(0), right: SequenceNumber(0))
    /// Options of kinds this decoder does not interpret (counted, not dropped).
    public var unknownCount: UInt8 = 0
    /// The first unknown kind seen, if any (kept so it can be shown).
    public var firstUnknownKind: TCPOptionKind?

    @inlinable public init() {}

    /// The SACK blocks as an array (allocates: for rendering, not for the hot path).
    public var sackBlocks: [SACKBlock] { Array([sack0, sack1, sack2, sack3].prefix(Int(sackBlockCount))) }

    /// Appends a SACK block; blocks beyond four are ignored (they cannot fit in a valid header).
    @inlinable public mutating func appendSACK(_ b: SACKBlock) {
        switch sackBlockCount {
        case 0: sack0 = b
        case 1: sack1 = b
        case 2: sack2 = b
        case 3: sack3 = b
        default: return
        }
        sackBlockCount += 1
    }
}
