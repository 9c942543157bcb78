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

extension Packet {
    /// IPv4 (RFC 791 §3.1). Protocols other than TCP are `.notTCP`, and non-first fragments of
    /// TCP are `.fragment`; a first fragment with MF set is decoded like any other packet (its
    /// payload length is the fragment's share).
    @inline(__always)
    func decodeIPv4(_ here: Encapsulated, into segment: inout TCPSegment) -> LayerStep {
        let ip: IPv4Header
        do throws(DecodeError) {
            ip = try IPv4Header(checking: reader, at: here.start, wireEnd: here.wireEnd)
        } catch {
            return .done(.invalid(error))
        }
        guard ip.protocol == .tcp else { return .done(.notTCP) }
        guard !ip.isNonFirstFragment else { return .done(.fragment) }
        return .done(decodeTCP(IPContext(
            source: ip.source, destination: ip.destination, ipVersion: IPVersion.v4, hopLimit: ip.timeToLive,
            segmentStart: ip.end, segmentLength: ip.payloadLength, headerLength: ip.end - here.start), into: &segment))
    }

    /// IPv6 (RFC 8200), walking the extension-header chain to TCP.
    ///
    /// - Hop-by-hop options must come first (RFC 8200 §4.1); elsewhere they are malformed.
    /// - ESP (its payload is encrypted) and No Next Header are `.notTCP`, as is any
    ///   upper-layer protocol other than TCP.
    /// - A non-first fragment is `.fragment` when what follows its fragment header may lead
    ///   to TCP (TCP or another extension header), otherwise `.notTCP`.
    @inline(__always)
    func decodeIPv6(_ here: Encapsulated, into segment: inout TCPSegment) -> LayerStep {
        let ip: IPv6Header
        do throws(DecodeError) {
            ip = try IPv6Header(checking: reader, at: here.start, wireEnd: here.wireEnd)
        } catch {
            return .done(.invalid(error))
        }
        // Walk the chain. Each header is at least 8 bytes and must be captured to be read,
        // so the loop ends within (captured bytes / 8) steps.
        var next = ip.nextHeader
        var offset = ip.end
        var remaining = ip.payloadLength
        var isFirst = true
        while true {
            if next == .tcp {
                return .done(decodeTCP(IPContext(
                    source: ip.source, destination: ip.destination, ipVersion: IPVersion.v6, hopLimit: ip.hopLimit,
                    segmentStart: offset, segmentLength: remaining, headerLength: offset - here.start), into: &segment))
            }
            guard next == .fragment || next == .authentication || next.isGenericExtensionHeader else {
                // ESP, No Next Header, UDP, ICMPv6, ...: nothing TCP to find.
                return .done(.notTCP)
            }
            if next == .hopByHopOptions && !isFirst {
                return .done(.malformed(.ipv6, "IPv6 hop-by-hop options header is not first in the chain"))
            }
            let header: IPv6ExtensionHeader
            do throws(DecodeError) {
                header = try IPv6ExtensionHeader(checking: reader, kind: next, at: offset, remaining: remaining)
            } catch {
                return .done(.invalid(error))
            }
            let following = header.nextHeader
            if next == .fragment && header.isNonFirstFragment {
                let mayLeadToTCP = following == .tcp || following.isGenericExtensionHeader
                    || following == .authentication || following == .fragment
                return .done(mayLeadToTCP ? .fragment : .notTCP)
            }
            next = following
            offset = header.end
            remaining -= header.length
            isFirst = false
        }
    }
}
