extension Packet {
    /// PPP (LINKTYPE_PPP, a PPPoE session, PPTP's enhanced GRE): the protocol field says what
    /// follows (RFC 1661 §2); IPv4, IPv6 and MPLS are followed, anything else (LCP, IPCP, CHAP,
    /// Van Jacobson compressed TCP, compressed or encrypted payloads (CCP, ECP) ...) is not a TCP
    /// segment we can read.
    @inline(__always)
    func decodePPP(_ here: Encapsulated) -> LayerStep {
        let ppp: PPPHeader
        do throws(DecodeError) {
            ppp = try PPPHeader(checking: reader, at: here.start, wireEnd: here.wireEnd)
        } catch {
            return .done(.invalid(error))
        }
        switch ppp.protocol {
        case PPPHeader.ipv4: return .next(Encapsulated(.ipv4, at: ppp.end, wireEnd: here.wireEnd))
        case PPPHeader.ipv6: return .next(Encapsulated(.ipv6, at: ppp.end, wireEnd: here.wireEnd))
        case PPPHeader.mplsUnicast, PPPHeader.mplsMulticast:
            return .next(Encapsulated(.mpls, at: ppp.end, wireEnd: here.wireEnd))
        default: return .done(.notTCP)
        }
    }

    /// LINKTYPE_PPP_HDLC: PPP in HDLC-like framing, or Cisco HDLC when the address byte is
    /// Cisco's 0x0F or 0x8F (as tcpdump's print-ppp.c and libpcap's linktypes page say).
    @inline(__always)
    func decodePPPSerial(_ here: Encapsulated) -> LayerStep {
        guard reader.has(1, at: here.start) else {
            return .done(.truncated(.link, "captured bytes end before the PPP address byte"))
        }
        switch reader.header(at: here.start, length: 1).read(UInt8.self, at: 0) {
        case CiscoHDLCHeader.Layout.unicast, CiscoHDLCHeader.Layout.broadcast:
            return .next(Encapsulated(.ciscoHDLC, at: here.start, wireEnd: here.wireEnd))
        default:
            return .next(Encapsulated(.ppp, at: here.start, wireEnd: here.wireEnd))
        }
    }

    /// A PPPoE session packet (EtherType 0x8864): its PPP frame follows the 6-byte header.
    /// The header's length field is not used to bound the frame, as Zeek does not: the IP
    /// length inside says where the datagram ends, and Ethernet padding stays outside it.
    @inline(__always)
    func decodePPPoESession(_ here: Encapsulated) -> LayerStep {
        let pppoe: PPPoESessionHeader
        do throws(DecodeError) {
            pppoe = try PPPoESessionHeader(checking: reader, at: here.start)
        } catch {
            return .done(.invalid(error))
        }
        guard pppoe.isSessionData else { return .done(.notTCP) }
        return .next(Encapsulated(.ppp, at: pppoe.end, wireEnd: here.wireEnd))
    }

    /// An MPLS label stack (RFC 3032), skipped entry by entry to the one with the bottom-of-stack
    /// bit. A stack whose bottom is never reached runs into the end of the packet: each entry
    /// is 4 captured bytes further on, so the walk is bounded by the packet's length.
    ///
    /// The stack does not say what it carries (RFC 3032 §2.2); as Wireshark's packet-mpls.c
    /// and Zeek's MPLS analyzer do, the first nibble after it decides (RFC 4928 §2): 4 is IPv4,
    /// 6 is IPv6, anything else an Ethernet pseudowire (RFC 4448), whose control word (first
    /// nibble 0, RFC 4385) is skipped when present. A bottom label 13 (GAL, RFC 5586) carries
    /// an associated channel, not user data.
    func decodeMPLS(_ here: Encapsulated) -> LayerStep {
        var offset = here.start
        var entry: MPLSLabelEntry
        repeat {
            guard offset <= here.wireEnd - MPLSLabelEntry.length else {
                return .done(.malformed(.link, "MPLS label stack ends with the packet, before a bottom-of-stack entry"))
            }
            do throws(DecodeError) {
                entry = try MPLSLabelEntry(checking: reader, at: offset)
            } catch {
                return .done(.invalid(error))
            }
            offset = entry.end
        } while !entry.isBottomOfStack
        guard entry.label != MPLSLabelEntry.generalAssociatedChannel else { return .done(.notTCP) }
        guard reader.has(1, at: offset) else {
            if offset >= here.wireEnd {
                return .done(.malformed(.link, "MPLS label stack ends with the packet: it carries nothing"))
            }
            return .done(.truncated(.link, "captured bytes end after the MPLS label stack, before its payload"))
        }
        switch IPVersion.of(reader.header(at: offset, length: 1)[IPVersion.firstByte]) {
        case IPVersion.v4: return .next(Encapsulated(.ipv4, at: offset, wireEnd: here.wireEnd))
        case IPVersion.v6: return .next(Encapsulated(.ipv6, at: offset, wireEnd: here.wireEnd))
        case 0 where hasPseudowireControlWord(at: offset):
            return .next(Encapsulated(.ethernet, at: offset + PseudowireControlWord.length, wireEnd: here.wireEnd))
        default:
            return .next(Encapsulated(.ethernet, at: offset, wireEnd: here.wireEnd))
        }
    }

    /// Whether an Ethernet pseudowire payload whose first nibble is 0 starts with a control
    /// word. Wireshark's pw_eth_heuristic takes it for a plain frame only when it looks like
    /// one (known vendor prefixes and a known EtherType), and otherwise for a control word; here,
    /// without a vendor table, a plain frame is one whose EtherType is one that carries TCP
    /// while the EtherType 4 bytes later (where it would be after a control word) is not.
    func hasPseudowireControlWord(at offset: Int) -> Bool {
        let needed = PseudowireControlWord.etherTypeWith + 2
        guard reader.has(needed, at: offset) else { return true }
        let frame = reader.header(at: offset, length: needed)
        func carriesTCP(_ type: EtherType) -> Bool {
            switch type {
            case .ipv4, .ipv6, .vlan8021Q, .vlan8021AD, .vlanQinQLegacy, .mplsUnicast, .mplsMulticast, .pppoeSession:
                return true
            default:
                return false
            }
        }
        let without = EtherType(rawValue: frame.read(UInt16.self, at: PseudowireControlWord.etherTypeWithout))
        let with = EtherType(rawValue: frame.read(UInt16.self, at: PseudowireControlWord.etherTypeWith))
        return !(carriesTCP(without) && !carriesTCP(with))
    }
}
