import TeardownSpeed
import TeardownWire

extension ConnectionTracker {
    /// A direction-free key: the two endpoints in canonical order (gopacket's symmetric flow
    /// key). Both directions of a connection have the same key.
    @usableFromInline
    package struct FlowKey: Hashable, SegmentFlowKey {
        @usableFromInline var low: Endpoint
        @usableFromInline var high: Endpoint
        /// The number of the tunnel's identity (`TunnelIDs.identity`), 0 for none: the same
        /// endpoints in two tunnels are two flows. VLAN tags and MPLS labels are not part of it.
        @usableFromInline var tunnel: UInt32
        init(_ a: Endpoint, _ b: Endpoint, tunnel: UInt32 = 0) {
            self = Self.ordering(a, b, tunnel: tunnel).key
        }

        /// The key of the flow between `a` and `b`, and whether `a` comes first in it: the one
        /// place the order is decided (`FlowHasher.flow(from:to:)` records it per packet, and
        /// `init(_:_:)` must agree with it).
        @inlinable @inline(__always)
        static func ordering(_ a: Endpoint, _ b: Endpoint, tunnel: UInt32 = 0) -> (key: FlowKey, aIsLow: Bool) {
            a < b ? (FlowKey(ordered: a, b, tunnel: tunnel), true) : (FlowKey(ordered: b, a, tunnel: tunnel), false)
        }

        /// The key of endpoints already in order (`low < high`).
        @inlinable @inline(__always)
        init(ordered low: Endpoint, _ high: Endpoint, tunnel: UInt32 = 0) {
            self.low = low
            self.high = high
            self.tunnel = tunnel
        }

        /// The key of `seg`'s flow, ordered as `flow` says (no comparison).
        @usableFromInline @inline(__always)
        package init(_ seg: TCPSegment, _ flow: FlowHash) {
            if flow.sourceIsLow { low = seg.source; high = seg.destination } else { low = seg.destination; high = seg.source }
            tunnel = seg.tunnel.identity
        }

        /// Equality compares the same fields, words first.
        @inlinable
        package static func == (a: FlowKey, b: FlowKey) -> Bool {
            a.low.address.low == b.low.address.low && a.high.address.low == b.high.address.low
                && a.low.port == b.low.port && a.high.port == b.high.port
                && a.low.address.high == b.low.address.high && a.high.address.high == b.high.address.high
                && a.low.address.isIPv6 == b.low.address.isIPv6 && a.high.address.isIPv6 == b.high.address.isIPv6
                && a.tunnel == b.tunnel
        }

        /// The flow table's hash. Every field takes part: the four address words, both ports,
        /// both families (an IPv4 address and the IPv6 address with the same low word differ
        /// only in the family bits) and the tunnel's number (0 without one, so that untunnelled
        /// flows hash as they always did).
        @inlinable @inline(__always)
        package func hash(seed: UInt64) -> UInt64 {
            let small = UInt64(low.port) | UInt64(high.port) << 16
                | (low.address.isIPv6 ? 1 << 32 : 0) | (high.address.isIPv6 ? 1 << 33 : 0) | UInt64(tunnel) << 34
            return SeededHasher.mix(low.address.low, high.address.low, low.address.high, high.address.high,
                                    small: small, seed: seed)
        }

        /// `Hashable`, for tests that check the flow table against a `Dictionary`. The words fold
        /// the IPv6 high halves into the low halves with odd multipliers; equal keys hash equally.
        @usableFromInline
        package func hash(into h: inout Hasher) {
            let ports = UInt64(low.port) | UInt64(high.port) << 16
            let families: UInt64 = (low.address.isIPv6 ? 1 : 0) | (high.address.isIPv6 ? 2 : 0)
            h.combine(low.address.low ^ (high.address.high &* 0x9E37_79B9_7F4A_7C15) ^ (ports << 32))
            h.combine(high.address.low ^ (low.address.high &* 0xC2B2_AE3D_27D4_EB4F) ^ families ^ UInt64(tunnel) << 2)
        }
    }
}

/// Finds a segment's flow the way a tracker does (its key's order and its table's hash), as a
/// value a reading stage can hold: replay hashes each segment's flow on the thread that
/// decodes it (`DecodedPacket.flow`), before the tracker needs it.
public struct FlowHasher: FlowHashing, Sendable {
    @usableFromInline let hasher: SeededHasher

    @usableFromInline
    init(_ hasher: SeededHasher) { self.hasher = hasher }

    /// The flow `seg` belongs to, hashed: what the tracker needs to find its connection.
    @inlinable
    public func flow(of seg: TCPSegment) -> FlowHash {
        flow(from: seg.source, to: seg.destination, tunnel: seg.tunnel.identity)
    }

    /// The flow of a segment from `source` to `destination`, hashed.
    @inlinable @inline(__always)
    public func flow(from source: Endpoint, to destination: Endpoint) -> FlowHash {
        let (key, sourceIsLow) = ConnectionTracker.FlowKey.ordering(source, destination)
        return FlowHash(value: hasher.hash(key), sourceIsLow: sourceIsLow)
    }

    /// The flow of a segment from `source` to `destination` in the tunnel whose identity is
    /// numbered `tunnel`, hashed.
    @inlinable @inline(__always)
    public func flow(from source: Endpoint, to destination: Endpoint, tunnel: UInt32) -> FlowHash {
        let (key, sourceIsLow) = ConnectionTracker.FlowKey.ordering(source, destination, tunnel: tunnel)
        return FlowHash(value: hasher.hash(key), sourceIsLow: sourceIsLow)
    }
}
