/// Which header a decode problem was found in.
public enum ProtocolLayer: String, Sendable, Hashable {
    case link, ipv4 = "IPv4", ipv6 = "IPv6", tcp = "TCP"
    case udp = "UDP", authentication = "IPsec AH", gre = "GRE", erspan = "ERSPAN", ppp = "PPP"
    case vxlan = "VXLAN", geneve = "Geneve", gtpU = "GTP-U", capwap = "CAPWAP", teredo = "Teredo", ayiya = "AYIYA"
}

/// Why a packet could not be decoded into a TCP segment.
///
/// `truncated` (the bytes ran out before a header ended) and `malformed` (fields
/// contradict each other) are different errors, as in tcpdump ("[|tcp]" vs "invalid").
public struct DecodeError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable { case truncated, malformed }
    public var kind: Kind
    public var layer: ProtocolLayer
    /// A short static reason, e.g. "header length 3 words is below the minimum of 5".
    /// Static text, so a decoded packet holds no reference and copies without reference counting.
    public var staticReason: StaticString
    public var reason: String { staticReason.description }

    public init(_ kind: Kind, _ layer: ProtocolLayer, _ reason: StaticString) {
        self.kind = kind; self.layer = layer; self.staticReason = reason
    }
    public var description: String { "\(kind.rawValue) \(layer.rawValue) header: \(reason)" }

    public static func == (a: DecodeError, b: DecodeError) -> Bool {
        a.kind == b.kind && a.layer == b.layer && a.reason == b.reason
    }
    public func hash(into h: inout Hasher) {
        h.combine(kind); h.combine(layer); h.combine(reason)
    }
}

/// What a packet turned out to be: the one answer of `PacketDecoder.decode`, which callers
/// count and switch on. The segment of a `.tcp` packet is written into the caller's storage
/// (see `PacketDecoder.decode(_:linkType:originalLength:into:)`), not carried here, so the
/// result stays a few words and a batch of packets is decoded in place.
public enum DecodeResult: Sendable, Hashable {
    /// A TCP segment (possibly with a snaplen-truncated payload; see `TCPSegment.isTruncated`).
    case tcp
    /// Well-formed, but not TCP: an EtherType or IP protocol that is not ours. Counted and skipped.
    case notTCP
    /// An IPv4 or IPv6 fragment of a datagram that may carry TCP (RFC 791 §3.2, RFC 8200 §4.5):
    /// where its IP header lies, for `FragmentReassembler`, which holds it until its datagram is
    /// whole. A caller that does not reassemble counts and skips it.
    case fragment(FragmentPlace)
    /// The link type is not one the decoder understands (`LinkType.isSupported`).
    case unsupportedLinkType
    /// The packet's headers were cut short or contradicted themselves.
    case invalid(DecodeError)

    @inline(__always)
    static func truncated(_ layer: ProtocolLayer, _ reason: StaticString) -> DecodeResult {
        .invalid(DecodeError(.truncated, layer, reason))
    }
    @inline(__always)
    static func malformed(_ layer: ProtocolLayer, _ reason: StaticString) -> DecodeResult {
        .invalid(DecodeError(.malformed, layer, reason))
    }
}
