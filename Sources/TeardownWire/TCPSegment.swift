/// One decoded TCP segment: everything the connection model needs, held inline.
///
/// `payloadLength` comes from the IP header's length fields, not from the captured
/// length, so a segment cut by snaplen still accounts for all of its sequence space;
/// `isTruncated` says the capture held fewer bytes than the packet had.
public struct TCPSegment: Hashable, Sendable {
    public var source: Endpoint
    // The tunnel's numbers sit in the room each endpoint's layout leaves after its port (an
    // endpoint is 20 bytes aligned to 8), so that they cost no space: see `tunnel`.
    @usableFromInline var tunnelIdentity: UInt32
    public var destination: Endpoint
    @usableFromInline var tunnelRoute: UInt32
    public var sequenceNumber: SequenceNumber
    public var acknowledgmentNumber: SequenceNumber
    public var flags: TCPFlags
    /// The raw window field (unscaled).
    public var window: UInt16
    public var options: TCPOptions
    /// Payload bytes according to the IP length (IPv4 total length / IPv6 payload length).
    public var payloadLength: Int
    /// True when the captured bytes ended before the end of the IP packet (snaplen).
    public var isTruncated: Bool
    /// 4 or 6.
    public var ipVersion: UInt8
    /// IPv4 TTL or IPv6 hop limit.
    public var hopLimit: UInt8
    /// The IP packet's length by its length fields (IPv4 total length; IPv6 payload length plus
    /// the fixed header), as Zeek's conn.log counts `orig_ip_bytes` and `resp_ip_bytes`.
    public var ipLength: UInt32

    @inlinable public init(source: Endpoint, destination: Endpoint, sequenceNumber: SequenceNumber,
                           acknowledgmentNumber: SequenceNumber, flags: TCPFlags, window: UInt16,
                           options: TCPOptions = TCPOptions(), payloadLength: Int, isTruncated: Bool = false,
                           ipVersion: UInt8 = 4, hopLimit: UInt8 = 64, ipLength: UInt32 = 0,
                           tunnel: TunnelIDs = .none) {
        self.source = source
        self.destination = destination
        self.sequenceNumber = sequenceNumber
        self.acknowledgmentNumber = acknowledgmentNumber
        self.flags = flags
        self.window = window
        self.options = options
        self.payloadLength = payloadLength
        self.isTruncated = isTruncated
        self.ipVersion = ipVersion
        self.hopLimit = hopLimit
        self.ipLength = ipLength
        self.tunnelIdentity = tunnel.identity
        self.tunnelRoute = tunnel.route
    }

    /// The tunnels the segment came in, numbered by the reading stage (`TunnelTable`); `.none`
    /// when it came in none (the decoder itself leaves this field as it was).
    @inlinable public var tunnel: TunnelIDs {
        get { TunnelIDs(identity: tunnelIdentity, route: tunnelRoute) }
        set { tunnelIdentity = newValue.identity; tunnelRoute = newValue.route }
    }

    /// Sequence space the segment occupies: payload plus one for SYN and one for FIN (RFC 9293 §3.4).
    @inlinable public var sequenceLength: UInt32 {
        UInt32(truncatingIfNeeded: payloadLength) &+ (flags.contains(.syn) ? 1 : 0) &+ (flags.contains(.fin) ? 1 : 0)
    }
}
