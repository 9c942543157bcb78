/// A problem with a capture file's bytes, or with reading them, in words a user can act on.
/// The file's name and the packet number are added by the caller, who knows them.
public struct CaptureFileError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The bytes are not a capture (or not the format their first bytes claim).
        case notACapture
        /// The input ends part-way through a header, a block or a compressed stream.
        case cut
        /// Something inside contradicts itself: a length, a checksum, compressed data.
        case corrupt
        /// The operating system could not read the input.
        case io
    }
    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
