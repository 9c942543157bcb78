/// Decodes one captured packet, link layer to TCP.
///
/// Every read is bounds-checked; nothing read from the wire can trap, and nothing here
/// allocates on the heap. (Implemented in PacketDecoder+*.swift.)
public enum PacketDecoder {
    /// Decodes `bytes` (the captured bytes of one packet) under `linkType`.
    /// - Parameter originalLength: the packet's length on the wire (pcap `len`); when it is larger
    ///   than `bytes.count` the packet was cut by snaplen.
    public static func decode(_ bytes: UnsafeRawBufferPointer, linkType: LinkType, originalLength: Int) -> DecodeResult {
        // Placeholder until the decoder lands; returns a clear non-crash result.
        return .unsupportedLinkType(linkType)
    }
}
