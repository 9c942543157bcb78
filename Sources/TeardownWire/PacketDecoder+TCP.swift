extension Packet {
    /// The TCP header at `ip.segmentStart` (RFC 9293 §3.1), whose segment is `ip.segmentLength`
    /// bytes long by the IP length fields, written field by field into `segment`.
    ///
    /// The payload length is the IP's segment length minus the TCP header length, never the
    /// captured length; `isTruncated` says the capture holds less than the whole segment.
    /// Options that snaplen cut are kept as far as they were captured, and the segment counts.
    @inline(__always)
    func decodeTCP(_ ip: IPContext, into segment: inout TCPSegment) -> DecodeResult {
        let tcp: TCPHeader
        do throws(DecodeError) {
            tcp = try TCPHeader(checking: reader, at: ip.segmentStart, segmentLength: ip.segmentLength)
        } catch {
            return .invalid(error)
        }
        if let error = tcp.parseOptions(into: &segment.options), tcp.optionsAreWhole {
            return .invalid(error)
        }
        segment.source = Endpoint(address: ip.source, port: tcp.sourcePort)
        segment.destination = Endpoint(address: ip.destination, port: tcp.destinationPort)
        segment.sequenceNumber = tcp.sequenceNumber
        segment.acknowledgmentNumber = tcp.acknowledgmentNumber
        segment.flags = tcp.flags
        segment.window = tcp.window
        segment.payloadLength = ip.segmentLength - tcp.headerLength
        segment.isTruncated = reader.count - ip.segmentStart < ip.segmentLength
        segment.ipVersion = ip.ipVersion
        segment.hopLimit = ip.hopLimit
        segment.ipLength = UInt32(truncatingIfNeeded: ip.headerLength + ip.segmentLength)
        return .tcp
    }
}
