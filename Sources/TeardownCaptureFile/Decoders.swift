import CLZ4
import CZlib
import CZstd

/// gzip (RFC 1952) by zlib's inflate, one member after another (as `gzip -c a b > c` writes
/// them); bytes after the last member that do not start another are ignored, as gzip(1)
/// ignores them. zlib checks each member's CRC-32 and length.
final class GzipDecoder: StreamDecoder {
    static let format = Compression.gzip
    private var stream = z_stream()

    init() throws {
        let rc = ctd_inflate_init_gzip(&stream)
        guard rc == Z_OK else { throw CaptureFileError(.io, "cannot start zlib to read gzip data (error \(rc))") }
    }

    deinit { inflateEnd(&stream) }

    func startsFrame(_ byte: UInt8) -> Bool { byte == 0x1F }

    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws
        -> (used: Int, made: Int, betweenFrames: Bool) {
        let inBefore = UInt32(clamping: input.count), outBefore = UInt32(clamping: output.count)
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = inBefore
        stream.next_out = output.baseAddress?.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = outBefore
        let rc = inflate(&stream, Z_NO_FLUSH)
        let used = Int(inBefore - stream.avail_in), made = Int(outBefore - stream.avail_out)
        switch rc {
        case Z_STREAM_END:
            inflateReset(&stream)
            return (used, made, true)
        case Z_OK, Z_BUF_ERROR:   // Z_BUF_ERROR: no progress possible without more input
            return (used, made, false)
        default:
            let why = stream.msg.map { String(cString: $0) } ?? "zlib error \(rc)"
            throw CaptureFileError(.corrupt, "the gzip data is corrupt (\(why))")
        }
    }
}

/// Zstandard frames (RFC 8878) by libzstd's streaming decoder. The window is bounded by
/// libzstd's default limit (2^27 bytes): a frame asking for more is refused as corrupt rather
/// than given the memory.
final class ZstdDecoder: StreamDecoder {
    static let format = Compression.zstd
    private let stream: OpaquePointer

    init() throws {
        guard let s = ZSTD_createDStream() else { throw CaptureFileError(.io, "cannot start libzstd to read zstd data") }
        stream = s
        ZSTD_initDStream(s)
    }

    deinit { ZSTD_freeDStream(stream) }

    func startsFrame(_ byte: UInt8) -> Bool { true }

    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws
        -> (used: Int, made: Int, betweenFrames: Bool) {
        var i = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        var o = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
        let rc = ZSTD_decompressStream(stream, &o, &i)
        if ZSTD_isError(rc) != 0 {
            throw CaptureFileError(.corrupt, "the zstd data is corrupt (\(String(cString: ZSTD_getErrorName(rc))))")
        }
        return (i.pos, o.pos, rc == 0)   // 0: a frame is decoded and flushed
    }
}

/// LZ4 frames (magic 0x184D2204) by liblz4's frame decoder; skippable frames are skipped.
/// Blocks are at most 4 MiB, so memory stays bounded; liblz4 checks the block and content
/// checksums a frame says it carries.
final class LZ4Decoder: StreamDecoder {
    static let format = Compression.lz4
    private let context: OpaquePointer

    init() throws {
        var ctx: OpaquePointer?
        let rc = LZ4F_createDecompressionContext(&ctx, UInt32(LZ4F_VERSION))
        guard LZ4F_isError(rc) == 0, let ctx else { throw CaptureFileError(.io, "cannot start liblz4 to read LZ4 data") }
        context = ctx
    }

    deinit { LZ4F_freeDecompressionContext(context) }

    func startsFrame(_ byte: UInt8) -> Bool { true }

    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws
        -> (used: Int, made: Int, betweenFrames: Bool) {
        var made = output.count, used = input.count
        let rc = LZ4F_decompress(context, output.baseAddress, &made, input.baseAddress, &used, nil)
        if LZ4F_isError(rc) != 0 {
            throw CaptureFileError(.corrupt, "the LZ4 data is corrupt (\(String(cString: LZ4F_getErrorName(rc))))")
        }
        return (used, made, rc == 0)   // 0: a frame is decoded and flushed
    }
}
