#if canImport(Glibc)
import Glibc
#endif

/// Bytes read in order, from the start: a file, standard input, a decompressor.
///
/// A class protocol: readers hold their input and call it once per large chunk (a megabyte or
/// so), never per packet.
public protocol ByteInput: AnyObject {
    /// Reads up to `buffer.count` bytes into `buffer`; returns how many, 0 only at the end of
    /// the input. An error is thrown only after every byte before it was returned.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

extension ByteInput {
    /// Reads until `count` bytes or the end of the input, whichever comes first.
    public func readPrefix(_ count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var n = 0
        while n < count {
            let got = try bytes.withUnsafeMutableBytes { try read(into: UnsafeMutableRawBufferPointer(rebasing: $0[n...])) }
            if got == 0 { break }
            n += got
        }
        bytes.removeLast(count - n)
        return bytes
    }
}

/// A file descriptor read with read(2), retried on EINTR.
public final class FileDescriptorInput: ByteInput {
    public let descriptor: Int32
    private let closesDescriptor: Bool

    /// Reads `descriptor`; closes it when done if `closesDescriptor` (not for standard input).
    public init(descriptor: Int32, closesDescriptor: Bool) {
        self.descriptor = descriptor
        self.closesDescriptor = closesDescriptor
    }

    deinit {
        if closesDescriptor { close(descriptor) }
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            let n = Glibc.read(descriptor, base, buffer.count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw CaptureFileError(.io, "read error: \(String(cString: strerror(errno)))")
        }
    }
}

/// Bytes held in memory (tests, the fuzz target).
public final class MemoryInput: ByteInput {
    private let bytes: [UInt8]
    private var position = 0
    /// At most this many bytes a call, to exercise readers on short reads.
    private let chunk: Int

    public init(_ bytes: [UInt8], chunk: Int = .max) {
        self.bytes = bytes
        self.chunk = max(1, chunk)
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - position, chunk)
        guard n > 0, let base = buffer.baseAddress else { return 0 }
        bytes.withUnsafeBytes { base.copyMemory(from: $0.baseAddress! + position, byteCount: n) }
        position += n
        return n
    }
}

/// Bytes already read from `base` (to recognise its format) given back first, then the rest
/// of `base`.
public final class PrefixedInput: ByteInput {
    private let prefix: [UInt8]
    private var position = 0
    private let base: ByteInput

    public init(_ prefix: [UInt8], then base: ByteInput) {
        self.prefix = prefix
        self.base = base
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if position < prefix.count {
            let n = min(buffer.count, prefix.count - position)
            guard n > 0, let b = buffer.baseAddress else { return 0 }
            prefix.withUnsafeBytes { b.copyMemory(from: $0.baseAddress! + position, byteCount: n) }
            position += n
            return n
        }
        return try base.read(into: buffer)
    }
}
