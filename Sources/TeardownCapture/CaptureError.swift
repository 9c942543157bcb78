/// A capture problem, worded for the user: which file or interface, which packet, what went wrong.
public struct CaptureError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The file or interface could not be opened.
        case open
        /// The input broke off part-way (e.g. a record cut short); packets before it were read.
        case read
        /// The BPF filter did not compile or could not be installed.
        case filter
        /// Capturing needs privileges this process does not have.
        case permission
        /// Writing a `-w` file failed.
        case write
    }
    public var kind: Kind
    /// The file path (or `-` for stdin) or interface name.
    public var source: String
    /// 1-based number of the packet the problem was met at, when it applies.
    public var packetNumber: Int?
    public var message: String

    public init(_ kind: Kind, source: String, packetNumber: Int? = nil, message: String) {
        self.kind = kind; self.source = source; self.packetNumber = packetNumber; self.message = message
    }

    /// `capture.pcap: packet 17: truncated dump file; ...`
    public var description: String {
        var s = source == "-" ? "<stdin>" : source
        if let n = packetNumber { s += ": packet \(n)" }
        return s + ": " + message
    }
}
