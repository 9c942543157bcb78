/// One streaming decoder of a compressed format (zlib's inflate, libzstd's, liblz4's frame
/// decoder), driven by `DecompressingInput`. A class: the C libraries' state holds pointers
/// into itself and must not move.
protocol StreamDecoder: AnyObject {
    static var format: Compression { get }
    /// Decodes what it can of `input` into `output`: the bytes used and made, and whether the
    /// stream now stands between two frames (gzip members), where it may end. Throws when the
    /// data is corrupt.
    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws
        -> (used: Int, made: Int, betweenFrames: Bool)
    /// Whether a byte after a finished frame starts another (else the rest is ignored).
    func startsFrame(_ byte: UInt8) -> Bool
}

/// The decompressed bytes of `base`: frame after frame, an input cut short or a decoder's
/// error reported once every byte before it was returned.
final class DecompressingInput<Decoder: StreamDecoder>: ByteInput {
    private let decoder: Decoder
    private var source: CompressedBytes
    private var failure: CaptureFileError?
    private var betweenFrames = false
    private var done = false

    init(_ base: ByteInput, decoder: Decoder) {
        self.decoder = decoder
        source = CompressedBytes(base)
    }

    deinit { source.deallocate() }

    func read(into out: UnsafeMutableRawBufferPointer) throws -> Int {
        guard out.count > 0 else { return 0 }
        var produced = 0
        while produced < out.count && failure == nil && !done {
            // With no input left the decoder is still called: it may hold output to flush.
            let hasInput = source.refill()
            if betweenFrames && hasInput && !decoder.startsFrame(source.next.load(as: UInt8.self)) {
                done = true   // trailing bytes that are not a frame
                break
            }
            do {
                let r = try decoder.decode(UnsafeRawBufferPointer(start: source.next, count: source.available),
                                           into: UnsafeMutableRawBufferPointer(rebasing: out[produced...]))
                source.position += r.used
                produced += r.made
                if r.used > 0 || r.made > 0 {
                    betweenFrames = r.betweenFrames
                } else if hasInput {
                    failure = CaptureFileError(.corrupt, "the \(Decoder.format.name) data is corrupt (the decoder made no progress)")
                } else {
                    failure = source.endFailure(Decoder.format, unfinished: !betweenFrames)
                    done = true
                }
            } catch let e as CaptureFileError {
                failure = e
            }
        }
        if produced > 0 { return produced }
        if let failure { throw failure }
        return 0
    }
}

/// A decompressor's input: compressed bytes read from `base` a chunk at a time.
///
/// An error from `base` is held in `pending` until the decompressor has used every byte read
/// before it, so that what came before a broken read is still decompressed.
struct CompressedBytes {
    static let chunk = 256 << 10

    let base: ByteInput
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: CompressedBytes.chunk, alignment: 16)
    var position = 0
    var end = 0
    /// `base` said it ended, or failed.
    private(set) var ended = false
    /// What `base` threw, if it did.
    private(set) var pending: CaptureFileError?

    init(_ base: ByteInput) { self.base = base }

    func deallocate() { buffer.deallocate() }

    /// Compressed bytes read and not used yet.
    var available: Int { end - position }
    /// The first of them.
    var next: UnsafeMutableRawPointer { buffer.baseAddress! + position }

    /// Makes `available` non-zero unless the input has ended; returns whether it is.
    mutating func refill() -> Bool {
        if available > 0 { return true }
        guard !ended else { return false }
        do {
            let n = try base.read(into: buffer)
            if n == 0 {
                ended = true
                return false
            }
            position = 0
            end = n
            return true
        } catch let e as CaptureFileError {
            pending = e
        } catch {
            pending = CaptureFileError(.io, "\(error)")
        }
        ended = true
        return false
    }

    /// Why the decompressed stream stops where its input stopped: a read error, or, when the
    /// last frame (`unfinished`) is incomplete, an input cut short; nil for a clean end.
    func endFailure(_ format: Compression, unfinished: Bool) -> CaptureFileError? {
        if let pending { return pending }
        return unfinished ? CaptureFileError(.cut, "the \(format.name) data ends early (the file is cut short)") : nil
    }
}
