extension Packet {
    /// A link header that names its payload by EtherType: Ethernet II (with any number of
    /// stacked VLAN tags: 802.1Q, 802.1ad, legacy QinQ), LINUX_SLL and LINUX_SLL2 (whose
    /// protocol field is an EtherType for the address types that carry IP).
    @inline(__always)
    func decodeLink<Header: EtherTypeHeader>(_: Header.Type, _ here: Encapsulated) -> LayerStep {
        let link: Header
        do throws(DecodeError) {
            link = try Header(checking: reader, at: here.start)
        } catch {
            return .done(.invalid(error))
        }
        return next(afterEtherType: link.etherType, at: link.end, wireEnd: here.wireEnd)
    }

    /// NULL and LOOP: the address family says which IP follows.
    @inline(__always)
    func decodeLoopback(_ here: Encapsulated) -> LayerStep {
        let loopback: LoopbackHeader
        do throws(DecodeError) {
            loopback = try LoopbackHeader(checking: reader, at: here.start)
        } catch {
            return .done(.invalid(error))
        }
        switch loopback.family {
        case LoopbackFamily.inet:
            return .next(Encapsulated(.ipv4, at: loopback.end, wireEnd: here.wireEnd))
        case LoopbackFamily.inet6Linux, LoopbackFamily.inet6BSD, LoopbackFamily.inet6FreeBSD, LoopbackFamily.inet6Darwin:
            return .next(Encapsulated(.ipv6, at: loopback.end, wireEnd: here.wireEnd))
        default:
            return .done(.notTCP)
        }
    }

    /// RAW (101, and DLT_RAW 12/14): no link header; the IP version nibble says which IP.
    @inline(__always)
    func decodeRawIP(_ here: Encapsulated) -> LayerStep {
        guard reader.has(IPVersion.firstByte.end, at: here.start) else {
            return .done(.truncated(.link, "captured bytes end before the IP version field of a raw IP packet"))
        }
        switch IPVersion.of(reader.header(at: here.start, length: IPVersion.firstByte.end)[IPVersion.firstByte]) {
        case IPVersion.v4: return .next(Encapsulated(.ipv4, at: here.start, wireEnd: here.wireEnd))
        case IPVersion.v6: return .next(Encapsulated(.ipv6, at: here.start, wireEnd: here.wireEnd))
        default: return .done(.malformed(.link, "raw IP packet has a version other than 4 or 6"))
        }
    }

    /// What an EtherType names, for a payload that starts at `start`: VLAN tags are skipped
    /// (the loop ends: each tag is 4 captured bytes further on), then IPv4 or IPv6 is next.
    /// Anything else (802.3 length fields, ARP, MPLS, PPPoE, ...) is not ours.
    @inline(__always)
    func next(afterEtherType first: EtherType, at start: Int, wireEnd: Int) -> LayerStep {
        var type = first
        var offset = start
        while type.isVLANTag {
            let tag: VLANTag
            do throws(DecodeError) {
                tag = try VLANTag(checking: reader, at: offset)
            } catch {
                return .done(.invalid(error))
            }
            type = tag.etherType
            offset = tag.end
        }
        switch type {
        case .ipv4: return .next(Encapsulated(.ipv4, at: offset, wireEnd: wireEnd))
        case .ipv6: return .next(Encapsulated(.ipv6, at: offset, wireEnd: wireEnd))
        default: return .done(.notTCP)
        }
    }
}
