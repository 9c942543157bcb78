/// An IP protocol / IPv6 next-header number (IANA "protocol-numbers"). An open set.
struct IPProtocol: RawRepresentable, Hashable, Sendable {
    var rawValue: UInt8
    @inline(__always) init(rawValue: UInt8) { self.rawValue = rawValue }

    static let hopByHopOptions = IPProtocol(rawValue: 0)    // RFC 8200 §4.3
    static let ipv4InIP = IPProtocol(rawValue: 4)           // RFC 2003: IPv4 in IP
    static let tcp = IPProtocol(rawValue: 6)
    static let udp = IPProtocol(rawValue: 17)               // RFC 768
    static let ipv6InIP = IPProtocol(rawValue: 41)          // RFC 4213 §3.5, RFC 2473: IPv6 in IP
    static let routing = IPProtocol(rawValue: 43)           // RFC 8200 §4.4
    static let fragment = IPProtocol(rawValue: 44)          // RFC 8200 §4.5
    static let gre = IPProtocol(rawValue: 47)               // RFC 2784
    static let esp = IPProtocol(rawValue: 50)               // RFC 4303
    static let authentication = IPProtocol(rawValue: 51)    // RFC 4302 §2
    static let noNextHeader = IPProtocol(rawValue: 59)      // RFC 8200 §4.7
    static let destinationOptions = IPProtocol(rawValue: 60) // RFC 8200 §4.6
    static let mobility = IPProtocol(rawValue: 135)         // RFC 6275 §6.1
    static let hip = IPProtocol(rawValue: 139)              // RFC 7401 §5.1
    static let shim6 = IPProtocol(rawValue: 140)            // RFC 5533 §5

    /// Extension headers in the RFC 8200 §4 format: next header, length in 8-octet units not
    /// counting the first 8. (AH and the fragment header differ and are handled apart.)
    @inline(__always) var isGenericExtensionHeader: Bool {
        self == .hopByHopOptions || self == .routing || self == .destinationOptions
            || self == .mobility || self == .hip || self == .shim6
    }
}

/// The first byte of an IP header: the version in its high nibble (RFC 791 §3.1, RFC 8200 §3).
enum IPVersion {
    static let v4: UInt8 = 4
    static let v6: UInt8 = 6
    /// The byte that holds the version.
    static let firstByte = Field<UInt8>(at: 0)
    @inline(__always) static func of(_ firstByte: UInt8) -> UInt8 { firstByte >> 4 }
}
