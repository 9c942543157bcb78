extension Packet {
    /// LINKTYPE_IEEE802_11: an 802.11 frame with no radio header and no FCS (as libpcap and
    /// Wireshark's default assume).
    @inline(__always)
    func decodeIEEE80211(_ here: Encapsulated) -> LayerStep {
        decodeIEEE80211(at: here.start, wireEnd: here.wireEnd, padded: false)
    }

    /// An 802.11 frame: a data frame's body, behind LLC/SNAP, names its EtherType (RFC 1042).
    /// Not TCP that can be read: management and control frames, protected (encrypted) frames,
    /// data subtypes without a body (Null, CF-Ack ...), fragments of an MSDU (each is part of
    /// a datagram that 802.11 reassembles) and A-MSDUs (several packets in one frame).
    /// - Parameter padded: the header is padded to a multiple of 4 bytes (radiotap's DATAPAD).
    func decodeIEEE80211(at start: Int, wireEnd: Int, padded: Bool) -> LayerStep {
        let wlan: IEEE80211Header
        do throws(DecodeError) {
            wlan = try IEEE80211Header(checking: reader, at: start)
        } catch {
            return .done(.invalid(error))
        }
        guard wlan.isData, !wlan.isProtected, wlan.hasBody, !wlan.isFragment, !wlan.isAMSDU else {
            return .done(.notTCP)
        }
        let body = padded ? start + (wlan.bytes.count + 3) / 4 * 4 : wlan.end
        guard body <= wireEnd - LLCSNAPHeader.Layout.length else {
            return .done(.malformed(.link, "802.11 data frame body is shorter than an LLC/SNAP header"))
        }
        let llc: LLCSNAPHeader
        do throws(DecodeError) {
            llc = try LLCSNAPHeader(checking: reader, at: body)
        } catch {
            return .done(.invalid(error))
        }
        guard let type = llc.etherType else { return .done(.notTCP) }
        return next(afterEtherType: type, at: llc.end, wireEnd: wireEnd)
    }

    /// LINKTYPE_IEEE802_11_RADIOTAP: the radiotap header's length says where the 802.11
    /// frame starts; its Flags say whether the frame ends with an FCS (not part of the
    /// datagram) and whether the 802.11 header is padded.
    func decodeRadiotap(_ here: Encapsulated) -> LayerStep {
        let radiotap: RadiotapHeader
        do throws(DecodeError) {
            radiotap = try RadiotapHeader(checking: reader, at: here.start, wireEnd: here.wireEnd)
        } catch {
            return .done(.invalid(error))
        }
        var wireEnd = here.wireEnd
        if radiotap.hasFCS {
            guard radiotap.end <= wireEnd - IEEE80211FCS.length else {
                return .done(.malformed(.link, "802.11 frame is shorter than the FCS its radiotap flags announce"))
            }
            wireEnd -= IEEE80211FCS.length
        }
        return decodeIEEE80211(at: radiotap.end, wireEnd: wireEnd, padded: radiotap.isDataPadded)
    }

    /// LINKTYPE_PPI: the header names the link type that follows it (usually 802.11), and its
    /// 802.11-Common field whether an FCS ends the frame.
    func decodePPI(_ here: Encapsulated) -> LayerStep {
        let ppi: PPIHeader
        do throws(DecodeError) {
            ppi = try PPIHeader(checking: reader, at: here.start, wireEnd: here.wireEnd)
        } catch {
            return .done(.invalid(error))
        }
        guard let kind = HeaderKind(linkType: ppi.linkType) else { return .done(.notTCP) }
        var wireEnd = here.wireEnd
        if ppi.hasFCS {
            guard ppi.end <= wireEnd - IEEE80211FCS.length else {
                return .done(.malformed(.link, "frame is shorter than the FCS its PPI header announces"))
            }
            wireEnd -= IEEE80211FCS.length
        }
        return .next(Encapsulated(kind, at: ppi.end, wireEnd: wireEnd))
    }

    /// LINKTYPE_ARCNET_LINUX: the protocol ID names IPv4 (RFC 1051's 240, RFC 1201's 212) or
    /// IPv6 (196).
    func decodeARCNETLinux(_ here: Encapsulated) -> LayerStep {
        let arcnet: ARCNETLinuxHeader
        do throws(DecodeError) {
            arcnet = try ARCNETLinuxHeader(checking: reader, at: here.start)
        } catch {
            return .done(.invalid(error))
        }
        switch arcnet.protocolID {
        case ARCNETLinuxHeader.ProtocolID.ipv4RFC1051, ARCNETLinuxHeader.ProtocolID.ipv4RFC1201:
            return .next(Encapsulated(.ipv4, at: arcnet.end, wireEnd: here.wireEnd))
        case ARCNETLinuxHeader.ProtocolID.ipv6:
            return .next(Encapsulated(.ipv6, at: arcnet.end, wireEnd: here.wireEnd))
        default:
            return .done(.notTCP)
        }
    }

    /// LINKTYPE_NFLOG: the address family says IPv4 or IPv6; the payload attribute holds the
    /// packet, and its length says where the packet ends on the wire. Attributes are walked
    /// in order, each at least 4 bytes further on. Their length and type are in the logging
    /// host's byte order: little-endian unless the first attribute only makes sense big-endian
    /// (as Wireshark's packet-nflog.c guesses it).
    func decodeNFLOG(_ here: Encapsulated) -> LayerStep {
        let nflog: NFLOGHeader
        do throws(DecodeError) {
            nflog = try NFLOGHeader(checking: reader, at: here.start)
        } catch {
            return .done(.invalid(error))
        }
        let ip: HeaderKind
        switch nflog.family {
        case NFLOGHeader.Layout.inet: ip = .ipv4
        case NFLOGHeader.Layout.inet6: ip = .ipv6
        default: return .done(.notTCP)
        }
        var offset = nflog.end
        var bigEndian: Bool?
        while offset < here.wireEnd {
            let attribute: NFLOGAttribute
            do throws(DecodeError) {
                attribute = try NFLOGAttribute(checking: reader, at: offset)
            } catch {
                return .done(.invalid(error))
            }
            let room = here.wireEnd - offset
            func fits(_ length: Int) -> Bool { length >= NFLOGAttribute.Layout.length && length <= room }
            let order = bigEndian ?? (!fits(attribute.length(bigEndian: false)) && fits(attribute.length(bigEndian: true)))
            bigEndian = order
            let length = attribute.length(bigEndian: order)
            guard fits(length) else {
                return .done(.malformed(.link, "NFLOG attribute length is below 4 bytes or past the end of the packet"))
            }
            if attribute.type(bigEndian: order) == NFLOGAttribute.Layout.payload {
                return .next(Encapsulated(ip, at: attribute.end, wireEnd: offset + length))
            }
            let alignment = NFLOGAttribute.Layout.alignment
            offset += (length + alignment - 1) / alignment * alignment
        }
        return .done(.notTCP)
    }
}
