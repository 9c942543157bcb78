/// What the IP layer hands to TCP: the addresses, and where the TCP segment lies.
struct IPContext {
    var source: IPAddress
    var destination: IPAddress
    var ipVersion: UInt8
    var hopLimit: UInt8
    /// Where the TCP header starts, from the first captured byte.
    var segmentStart: Int
    /// Length of the TCP segment (header + payload) according to the IP length fields.
    var segmentLength: Int
    /// Bytes of the IP header and any IPv6 extension headers before the segment.
    var headerLength: Int
}

extension IPProtocol {
    /// Whether fragments of a datagram of this protocol are reassembled: those that may carry
    /// TCP: TCP itself, and the protocols a tunnel to TCP may take (UDP, GRE, IP in IP, and an
    /// authentication header before any of them), so that a fragmented tunnel packet is put
    /// back together before it is opened.
    @inline(__always) var isReassembled: Bool {
        self == .tcp || self == .udp || self == .gre || self == .ipv4InIP || self == .ipv6InIP
            || self == .authentication
    }
}

extension Packet {
    /// IPv4 (RFC 791 §3.1). TCP is decoded; a tunnel (`carried(_:_:into:)`) is the next layer;
    /// other protocols are `.notTCP`. A fragment (More Fragments
    /// set, or a nonzero offset) of a datagram that may carry TCP is `.fragment`, first fragment
    /// included: its TCP header belongs to the whole datagram, which `FragmentReassembler` makes.
    @inline(__always)
    func decodeIPv4(_ here: Encapsulated, into segment: inout TCPSegment, tunnel: inout TunnelPath) -> LayerStep {
        let ip: IPv4Header
        do throws(DecodeError) {
            ip = try IPv4Header(checking: reader, at: here.start, wireEnd: here.wireEnd)
        } catch {
            return .done(.invalid(error))
        }
        if ip.isFragment {
            return .done(ip.protocol.isReassembled ? .fragment(FragmentPlace(here)) : .notTCP)
        }
        if ip.protocol == .tcp {
            return .done(decodeTCP(IPContext(
                source: ip.source, destination: ip.destination, ipVersion: IPVersion.v4, hopLimit: ip.timeToLive,
                segmentStart: ip.end, segmentLength: ip.payloadLength, headerLength: ip.end - here.start), into: &segment))
        }
        // Authentication headers (RFC 4302) are read past to what they protect; each is at
        // least 12 captured bytes further on, so the walk ends.
        var next = ip.protocol
        var start = ip.end
        var length = ip.payloadLength
        while next == .authentication {
            let ah: AuthenticationHeader
            do throws(DecodeError) {
                ah = try AuthenticationHeader(checking: reader, at: start, remaining: length)
            } catch {
                return .done(.invalid(error))
            }
            next = ah.nextHeader
            start = ah.end
            length -= ah.length
        }
        return carried(next, IPContext(
            source: ip.source, destination: ip.destination, ipVersion: IPVersion.v4, hopLimit: ip.timeToLive,
            segmentStart: start, segmentLength: length, headerLength: start - here.start), into: &segment, tunnel: &tunnel)
    }

    /// IPv6 (RFC 8200), walking the extension-header chain to TCP.
    ///
    /// - ESP (its payload is encrypted) and No Next Header are `.notTCP`, as is any
    ///   upper-layer protocol other than TCP and the tunnels `carried(_:_:into:)` opens.
    /// - A fragment (a fragment header with a nonzero offset or M set; an atomic fragment is a
    ///   whole datagram) is `.fragment` when what follows its fragment header may lead to TCP
    ///   (TCP or another extension header), otherwise `.notTCP`.
    @inline(__always)
    func decodeIPv6(_ here: Encapsulated, into segment: inout TCPSegment, tunnel: inout TunnelPath) -> LayerStep {
        let ip: IPv6Header
        do throws(DecodeError) {
            ip = try IPv6Header(checking: reader, at: here.start, wireEnd: here.wireEnd)
        } catch {
            return .done(.invalid(error))
        }
        switch chain(of: ip) {
        case .upperLayer(let next, let start, let length):
            return carried(next, IPContext(
                source: ip.source, destination: ip.destination, ipVersion: IPVersion.v6, hopLimit: ip.hopLimit,
                segmentStart: start, segmentLength: length, headerLength: start - here.start), into: &segment, tunnel: &tunnel)
        case .fragment(let header, _):
            return .done(header.nextHeader.mayLeadToReassembled ? .fragment(FragmentPlace(here)) : .notTCP)
        case .invalid(let error):
            return .done(.invalid(error))
        }
    }

    /// Walks an IPv6 packet's chain of extension headers (RFC 8200 §4) to the upper-layer
    /// header, or to a fragment header that makes the packet a fragment.
    ///
    /// Hop-by-hop options must come first (RFC 8200 §4.1); elsewhere they are malformed. Each
    /// header is at least 8 bytes and must be captured to be read, so the walk ends within
    /// (captured bytes / 8) steps.
    @inline(__always)
    func chain(of ip: IPv6Header) -> IPv6Chain {
        var next = ip.nextHeader
        var offset = ip.end
        var remaining = ip.payloadLength
        var nextHeaderField = ip.start + IPv6Header.Layout.nextHeader.offset
        var isFirst = true
        while true {
            guard next == .fragment || next == .authentication || next.isGenericExtensionHeader else {
                // TCP, ESP, No Next Header, UDP, ICMPv6, ...
                return .upperLayer(next, start: offset, length: remaining)
            }
            if next == .hopByHopOptions && !isFirst {
                return .invalid(DecodeError(.malformed, .ipv6, "IPv6 hop-by-hop options header is not first in the chain"))
            }
            let header: IPv6ExtensionHeader
            do throws(DecodeError) {
                header = try IPv6ExtensionHeader(checking: reader, kind: next, at: offset, remaining: remaining)
            } catch {
                return .invalid(error)
            }
            if next == .fragment && header.isFragment {
                return .fragment(header, nextHeaderField: nextHeaderField)
            }
            nextHeaderField = header.start + IPv6ExtensionHeader.Layout.nextHeader.offset
            next = header.nextHeader
            offset = header.end
            remaining -= header.length
            isFirst = false
        }
    }
}

/// Where an IPv6 header chain leads.
enum IPv6Chain {
    /// The upper-layer header `protocol` starts at `start`, with `length` bytes of the payload
    /// from there (by the payload length).
    case upperLayer(IPProtocol, start: Int, length: Int)
    /// A fragment header (not an atomic fragment); `nextHeaderField` is where the byte that
    /// names it lies (in the fixed header or the extension header before it).
    case fragment(IPv6ExtensionHeader, nextHeaderField: Int)
    case invalid(DecodeError)
}

extension IPProtocol {
    /// Whether a chain that continues with this header may lead to a protocol whose fragments
    /// are reassembled: that protocol itself, or an extension header before it.
    @inline(__always) var mayLeadToReassembled: Bool {
        isReassembled || isGenericExtensionHeader || self == .authentication || self == .fragment
    }
}
