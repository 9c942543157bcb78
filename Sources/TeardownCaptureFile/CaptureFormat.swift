/// What a capture file is, told from its first four bytes (its content, never its name).
public enum CaptureFormat: Equatable, Sendable {
    /// pcapng: a Section Header Block, type 0x0A0D0D0A (the same in either byte order).
    case pcapng
    /// A compressed stream, holding a capture.
    case compressed(Compression)
    /// Anything else: pcap, or not a capture at all; libpcap reads it or says what it is not.
    case other

    /// How many bytes `init(magic:)` looks at.
    public static let magicLength = 4

    public init(magic: some Collection<UInt8>) {
        let m = Array(magic.prefix(CaptureFormat.magicLength))
        if m == [0x0A, 0x0D, 0x0D, 0x0A] {
            self = .pcapng
        } else if let c = Compression(magic: m) {
            self = .compressed(c)
        } else {
            self = .other
        }
    }
}

/// The compressed formats teardown reads, each by its library (zlib, libzstd, liblz4).
public enum Compression: Sendable, Equatable, CaseIterable {
    /// gzip (RFC 1952): ID1 ID2 = 1f 8b, then CM = 8 (deflate, the only method defined).
    case gzip
    /// Zstandard frames (RFC 8878 §3.1.1): magic number 0xFD2FB528, little-endian.
    case zstd
    /// LZ4 frame format: magic number 0x184D2204, little-endian.
    case lz4

    public init?(magic: [UInt8]) {
        if magic.starts(with: [0x1F, 0x8B, 0x08]) {
            self = .gzip
        } else if magic.starts(with: [0x28, 0xB5, 0x2F, 0xFD]) {
            self = .zstd
        } else if magic.starts(with: [0x04, 0x22, 0x4D, 0x18]) {
            self = .lz4
        } else {
            return nil
        }
    }

    /// As users call it: `gzip`, `zstd`, `LZ4`.
    public var name: String {
        switch self {
        case .gzip: return "gzip"
        case .zstd: return "zstd"
        case .lz4: return "LZ4"
        }
    }

    /// A problem met reading this format's decompressed content, worded so: the
    /// decompressor's own messages name the format already (`the gzip data ends early ...`),
    /// others say where they come from (`gzip-compressed: not a pcap or pcapng capture`).
    public func words(_ e: CaptureFileError) -> String {
        e.message.hasPrefix("the \(name) data") ? e.message : "\(name)-compressed: \(e.message)"
    }

    /// The decompressed bytes of `base` (which starts with this format's magic).
    public func decompressing(_ base: ByteInput) throws -> ByteInput {
        switch self {
        case .gzip: return DecompressingInput(base, decoder: try GzipDecoder())
        case .zstd: return DecompressingInput(base, decoder: try ZstdDecoder())
        case .lz4: return DecompressingInput(base, decoder: try LZ4Decoder())
        }
    }
}
