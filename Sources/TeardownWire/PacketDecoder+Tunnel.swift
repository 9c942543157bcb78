/// The tunnels: what an IP protocol (GRE, IP in IP), a GRE protocol type or a UDP port names,
/// decoded down to the packet or frame inside, which the loop in `Packet.decode(_:into:)`
/// then decodes as it would an outer one.
///
/// As Wireshark and Zeek do, a tunnel is recognised by its IP protocol, GRE protocol type or
/// well-known UDP port (the destination port first, then the source port, so both directions
/// of a tunnel open); a payload that is not the shape its port promises is not ours
/// (`.notTCP`), as an unknown EtherType is not.

/// The UDP ports tunnels are recognised by (IANA "service-names-port-numbers").
enum TunnelPort {
    /// GTP-U (3GPP TS 29.281 §4.4.2.3).
    static let gtpU: UInt16 = 2152
    /// Teredo (RFC 4380 §5.2.1).
    static let teredo: UInt16 = 3544
    /// VXLAN (RFC 7348 §5).
    static let vxlan: UInt16 = 4789
    /// AYIYA (draft-massar-v6ops-ayiya-02).
    static let ayiya: UInt16 = 5072
    /// CAPWAP data channel (RFC 5415 §3.2).
    static let capwapData: UInt16 = 5247
    /// Geneve (RFC 8926 §3.3).
    static let geneve: UInt16 = 6081

    /// The tunnel a UDP port names, if any.
    @inline(__always)
    static func kind(_ port: UInt16) -> HeaderKind? {
        switch port {
        case vxlan: return .vxlan
        case geneve: return .geneve
        case gtpU: return .gtpU
        case teredo: return .teredo
        case ayiya: return .ayiya
        case capwapData: return .capwap
        default: return nil
        }
    }
}

extension EtherType {
    /// Transparent Ethernet bridging: GRE (or Geneve) carries an Ethernet frame (RFC 1701).
    static let transparentEthernetBridging = EtherType(rawValue: 0x6558)
    /// ERSPAN type I and II (type II when GRE's sequence flag is set).
    static let erspanTypeII = EtherType(rawValue: 0x88BE)
    /// ERSPAN type III.
    static let erspanTypeIII = EtherType(rawValue: 0x22EB)
}

extension Packet {
    /// What an IP packet carries, after its headers (the IPv4 header and any authentication
    /// headers, or the IPv6 chain): TCP is decoded here; UDP, GRE and IP in IP (RFC 2003,
    /// RFC 4213: IPv4 or IPv6 in IPv4 or IPv6) are the next layer; anything else is not ours.
    @inline(__always)
    ///
    /// The IP packet's addresses go into `tunnel`: as an IP-in-IP layer, or as the outer
    /// addresses of the UDP or GRE tunnel that follows.
    func carried(_ next: IPProtocol, _ ip: IPContext, into segment: inout TCPSegment,
                 tunnel: inout TunnelPath) -> LayerStep {
        if next == .tcp { return .done(decodeTCP(ip, into: &segment)) }
        let end = ip.segmentStart + ip.segmentLength
        tunnel.outerSource = ip.source
        tunnel.outerDestination = ip.destination
        switch next {
        case .udp: return .next(Encapsulated(.udp, at: ip.segmentStart, wireEnd: end))
        case .gre: return .next(Encapsulated(.gre, at: ip.segmentStart, wireEnd: end))
        case .ipv4InIP:
            tunnel.append(.ipInIP)
            return .next(Encapsulated(.ipv4, at: ip.segmentStart, wireEnd: end))
        case .ipv6InIP:
            tunnel.append(.ipInIP)
            return .next(Encapsulated(.ipv6, at: ip.segmentStart, wireEnd: end))
        default: return .done(.notTCP)
        }
    }

    /// UDP (RFC 768): a datagram to or from a tunnel's port is opened; any other is not ours.
    @inline(__always)
    func decodeUDP(_ here: Encapsulated) -> LayerStep {
        let udp: UDPHeader
        do throws(DecodeError) {
            udp = try UDPHeader(checking: reader, at: here.start, wireEnd: here.wireEnd)
        } catch {
            return .done(.invalid(error))
        }
        guard let kind = TunnelPort.kind(udp.destinationPort) ?? TunnelPort.kind(udp.sourcePort) else {
            return .done(.notTCP)
        }
        return .next(Encapsulated(kind, at: udp.end, wireEnd: udp.datagramEnd))
    }

    /// GRE (RFC 2784, RFC 2890; PPTP's version 1, RFC 2637 §4.1). Version 0 carries what its
    /// protocol type names: an EtherType (IPv4, IPv6, VLAN-tagged ... as after an Ethernet
    /// header), an Ethernet frame (0x6558), or ERSPAN (0x88BE, 0x22EB); version 1 carries PPP.
    /// As Zeek does, other versions and RFC 1701's source routes are not followed.
    @inline(__always)
    func decodeGRE(_ here: Encapsulated, tunnel: inout TunnelPath) -> LayerStep {
        let gre: GREHeader
        do throws(DecodeError) {
            gre = try GREHeader(checking: reader, at: here.start, wireEnd: here.wireEnd)
        } catch {
            return .done(.invalid(error))
        }
        guard !gre.hasRouting else { return .done(.notTCP) }
        switch gre.version {
        case GREHeader.version0:
            let isERSPAN = gre.protocolType == .erspanTypeII || gre.protocolType == .erspanTypeIII
            tunnel.append(isERSPAN ? .erspan : .gre, id: !isERSPAN && gre.hasKey ? gre.key : nil)
            switch gre.protocolType {
            case .transparentEthernetBridging:
                return .next(Encapsulated(.ethernet, at: gre.end, wireEnd: here.wireEnd))
            case .erspanTypeII:
                // Without a sequence number, type I: the mirrored frame follows GRE directly.
                return .next(Encapsulated(gre.hasSequenceNumber ? .erspan : .ethernet, at: gre.end, wireEnd: here.wireEnd))
            case .erspanTypeIII:
                return .next(Encapsulated(.erspan, at: gre.end, wireEnd: here.wireEnd))
            default:
                return next(afterEtherType: gre.protocolType, at: gre.end, wireEnd: here.wireEnd)
            }
        case GREHeader.version1:
            guard gre.protocolType.rawValue == GREHeader.Layout.pptpProtocolType else { return .done(.notTCP) }
            tunnel.append(.pptp, id: gre.hasKey ? gre.key & 0xFFFF : nil)
            // An acknowledgment alone carries no payload.
            guard gre.end < here.wireEnd else { return .done(.notTCP) }
            return .next(Encapsulated(.ppp, at: gre.end, wireEnd: here.wireEnd))
        default:
            return .done(.notTCP)
        }
    }

    /// ERSPAN type II or III: the mirrored Ethernet frame after the header.
    @inline(__always)
    func decodeERSPAN(_ here: Encapsulated, tunnel: inout TunnelPath) -> LayerStep {
        let erspan: ERSPANHeader
        do throws(DecodeError) {
            erspan = try ERSPANHeader(checking: reader, at: here.start, wireEnd: here.wireEnd)
        } catch {
            return .done(.invalid(error))
        }
        guard erspan.carriesEthernet else { return .done(.notTCP) }
        tunnel.setInnermostID(UInt32(erspan.session))
        return .next(Encapsulated(.ethernet, at: erspan.end, wireEnd: here.wireEnd))
    }

    /// VXLAN: an Ethernet frame.
    @inline(__always)
    func decodeVXLAN(_ here: Encapsulated, tunnel: inout TunnelPath) -> LayerStep {
        let vxlan: VXLANHeader
        do throws(DecodeError) {
            vxlan = try VXLANHeader(checking: reader, at: here.start, wireEnd: here.wireEnd)
        } catch {
            return .done(.invalid(error))
        }
        tunnel.append(.vxlan, id: vxlan.vni)
        return .next(Encapsulated(.ethernet, at: vxlan.end, wireEnd: here.wireEnd))
    }

    /// Geneve version 0: what its protocol type names (an Ethernet frame for 0x6558, else an
    /// EtherType), past its options.
    @inline(__always)
    func decodeGeneve(_ here: Encapsulated, tunnel: inout TunnelPath) -> LayerStep {
        let geneve: GeneveHeader
        do throws(DecodeError) {
            geneve = try GeneveHeader(checking: reader, at: here.start, wireEnd: here.wireEnd)
        } catch {
            return .done(.invalid(error))
        }
        guard geneve.version == GeneveHeader.version0 else { return .done(.notTCP) }
        tunnel.append(.geneve, id: geneve.vni)
        if geneve.protocolType == .transparentEthernetBridging {
            return .next(Encapsulated(.ethernet, at: geneve.end, wireEnd: here.wireEnd))
        }
        return next(afterEtherType: geneve.protocolType, at: geneve.end, wireEnd: here.wireEnd)
    }

    /// GTP-U: a G-PDU's user packet, IPv4 or IPv6 by its version nibble (as Wireshark and Zeek
    /// read it); signalling messages (echo, error indication, end marker) and GTP' are not ours.
    @inline(__always)
    func decodeGTPU(_ here: Encapsulated, tunnel: inout TunnelPath) -> LayerStep {
        let gtp: GTPUHeader
        do throws(DecodeError) {
            gtp = try GTPUHeader(checking: reader, at: here.start, wireEnd: here.wireEnd)
        } catch {
            return .done(.invalid(error))
        }
        guard gtp.version == GTPUHeader.version1, gtp.isGTP, gtp.messageType == GTPUHeader.gPDU else {
            return .done(.notTCP)
        }
        tunnel.append(.gtpU, id: gtp.teid)
        return ipByVersion(at: gtp.end, wireEnd: gtp.messageEnd, layer: .gtpU)
    }

    /// CAPWAP data (RFC 5415 §4.3): an IEEE 802.3 frame (T clear), or, with T set and the
    /// IEEE 802.11 binding (WBID 1), a native 802.11 frame (RFC 5416), without an FCS as
    /// Wireshark reads it, which the 802.11 step reads (a data frame, LLC/SNAP, then the
    /// EtherType it names), its frame control field in the order it has on the air. HLEN covers
    /// the optional radio MAC address and wireless information. DTLS-encrypted data,
    /// keep-alives, fragments (not reassembled) and native frames of other bindings are not ours.
    @inline(__always)
    func decodeCAPWAP(_ here: Encapsulated, tunnel: inout TunnelPath) -> LayerStep {
        let capwap: CAPWAPHeader
        do throws(DecodeError) {
            capwap = try CAPWAPHeader(checking: reader, at: here.start, wireEnd: here.wireEnd)
        } catch {
            return .done(.invalid(error))
        }
        guard capwap.preamble == CAPWAPHeader.clearPreamble, !capwap.isKeepAlive, !capwap.isFragment else {
            return .done(.notTCP)
        }
        let payload: HeaderKind
        if capwap.isNativeFrame {
            guard capwap.wirelessBinding == CAPWAPHeader.ieee80211Binding else { return .done(.notTCP) }
            payload = .ieee80211
        } else {
            payload = .ethernet
        }
        tunnel.append(.capwap)
        return .next(Encapsulated(payload, at: capwap.end, wireEnd: here.wireEnd))
    }

    /// Teredo: the IPv6 packet after the indicators.
    @inline(__always)
    func decodeTeredo(_ here: Encapsulated, tunnel: inout TunnelPath) -> LayerStep {
        let teredo: TeredoHeader?
        do throws(DecodeError) {
            teredo = try TeredoHeader.locate(reader, at: here.start, wireEnd: here.wireEnd)
        } catch {
            return .done(.invalid(error))
        }
        guard let teredo else { return .done(.notTCP) }
        tunnel.append(.teredo)
        return .next(Encapsulated(.ipv6, at: teredo.end, wireEnd: here.wireEnd))
    }

    /// AYIYA: a forwarded IPv4 or IPv6 packet, as its next header says.
    @inline(__always)
    func decodeAYIYA(_ here: Encapsulated, tunnel: inout TunnelPath) -> LayerStep {
        let ayiya: AYIYAHeader
        do throws(DecodeError) {
            ayiya = try AYIYAHeader(checking: reader, at: here.start, wireEnd: here.wireEnd)
        } catch {
            return .done(.invalid(error))
        }
        guard ayiya.operation == AYIYAHeader.forward else { return .done(.notTCP) }
        tunnel.append(.ayiya)
        switch ayiya.nextHeader {
        case .ipv4InIP: return .next(Encapsulated(.ipv4, at: ayiya.end, wireEnd: here.wireEnd))
        case .ipv6InIP: return .next(Encapsulated(.ipv6, at: ayiya.end, wireEnd: here.wireEnd))
        default: return .done(.notTCP)
        }
    }

    /// An IP packet at `start` whose version nibble says which IP it is; nothing there, or
    /// another version, is not ours.
    @inline(__always)
    func ipByVersion(at start: Int, wireEnd: Int, layer: ProtocolLayer) -> LayerStep {
        guard start < wireEnd else { return .done(.notTCP) }
        guard reader.has(IPVersion.firstByte.end, at: start) else {
            return .done(.invalid(DecodeError(.truncated, layer, "captured bytes end before the version field of the IP packet inside")))
        }
        switch IPVersion.of(reader.header(at: start, length: IPVersion.firstByte.end)[IPVersion.firstByte]) {
        case IPVersion.v4: return .next(Encapsulated(.ipv4, at: start, wireEnd: wireEnd))
        case IPVersion.v6: return .next(Encapsulated(.ipv6, at: start, wireEnd: wireEnd))
        default: return .done(.notTCP)
        }
    }
}
