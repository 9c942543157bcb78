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

    /// What an EtherType names, for a payload that starts at `start`: VLAN tags (802.1Q,
    /// 802.1ad, QinQ) and 802.1BR E-Tags are skipped, in any number (the loop ends: each tag is
    /// 4 or 8 captured bytes further on, so a stack of tags that never ends runs out of bytes),
    /// then IPv4, IPv6, or an encapsulation that carries them is next: MPLS, a PPPoE session,
    /// an 802.1ah I-tag or a FabricPath header (both followed by a customer Ethernet frame).
    /// Anything else (802.3 length fields, ARP, PPPoE discovery, ...) is not ours.
    @inline(__always)
    func next(afterEtherType first: EtherType, at start: Int, wireEnd: Int) -> LayerStep {
        var type = first
        var offset = start
        while true {
            switch type {
            case .ipv4: return .next(Encapsulated(.ipv4, at: offset, wireEnd: wireEnd))
            case .ipv6: return .next(Encapsulated(.ipv6, at: offset, wireEnd: wireEnd))
            case .vlan8021Q, .vlan8021AD, .vlanQinQLegacy:
                let tag: VLANTag
                do throws(DecodeError) {
                    tag = try VLANTag(checking: reader, at: offset)
                } catch {
                    return .done(.invalid(error))
                }
                type = tag.etherType
                offset = tag.end
            case .eTag:
                let tag: ETag
                do throws(DecodeError) {
                    tag = try ETag(checking: reader, at: offset)
                } catch {
                    return .done(.invalid(error))
                }
                type = tag.etherType
                offset = tag.end
            default:
                return next(afterOtherEtherType: type, at: offset, wireEnd: wireEnd)
            }
        }
    }

    /// The EtherTypes past IP and tags (kept apart so that the common path stays short).
    func next(afterOtherEtherType type: EtherType, at offset: Int, wireEnd: Int) -> LayerStep {
        switch type {
        case .mplsUnicast, .mplsMulticast: return .next(Encapsulated(.mpls, at: offset, wireEnd: wireEnd))
        case .pppoeSession: return .next(Encapsulated(.pppoeSession, at: offset, wireEnd: wireEnd))
        case .pbbInstanceTag:
            return .next(Encapsulated(.ethernet, at: offset + PBBInstanceTag.length, wireEnd: wireEnd))
        case .fabricPath:
            return .next(Encapsulated(.ethernet, at: offset + FabricPathTag.length, wireEnd: wireEnd))
        default: return .done(.notTCP)
        }
    }
}
