import TeardownWire

/// Zeek's choice of originator and responder for a new TCP connection.
///
/// Zeek makes the sender of a connection's first packet the originator, then
/// `TCPAnalyzer::WantConnection` (src/packet_analysis/protocol/tcp/TCP.cc) may
/// *flip* the roles before any packet is analysed:
///
/// - A first packet that is a pure SYN (SYN without ACK) is never flipped.
/// - Otherwise (no SYN, or SYN+ACK: a "partial" connection), when the source
///   port is a *likely server port*:
///   - and the destination port is not, the roles are flipped;
///   - and the destination port is one too, they are flipped only when the packet
///     is not a SYN+ACK ("to avoid confusing stealth scans") and the source port
///     is numerically lower than the destination port ("to favor more plausible
///     servers").
///
/// A flip at creation puts `^` at the start of the history (`Connection::FlipRoles`,
/// src/Conn.cc), which `ZeekTCPState(rolesFlippedAtCreation:)` reproduces.
/// (Zeek skips the flip when the destination address is the IPv4 broadcast
/// address; callers that care check that themselves.)
public enum ZeekRoles {
    /// Given the first segment of a new connection (as captured: `sourcePort` is
    /// the sender's port), whether Zeek makes the *receiver* the originator.
    public static func shouldFlip(firstSegmentFlags: TCPFlags, sourcePort: UInt16, destinationPort: UInt16) -> Bool {
        shouldFlip(firstSegmentFlags: firstSegmentFlags, sourcePort: sourcePort, destinationPort: destinationPort,
                   likelyServerPorts: defaultLikelyServerPorts)
    }

    /// As `shouldFlip(firstSegmentFlags:sourcePort:destinationPort:)`, with an explicit
    /// set of likely server ports (Zeek's `likely_server_ports`, which sites redefine).
    public static func shouldFlip(firstSegmentFlags flags: TCPFlags, sourcePort: UInt16, destinationPort: UInt16,
                                  likelyServerPorts: Set<UInt16>) -> Bool {
        let syn = flags.contains(.syn)
        let ack = flags.contains(.ack)
        // A pure SYN opens a connection the normal way: its sender is the originator.
        guard !syn || ack else { return false }
        guard likelyServerPorts.contains(sourcePort) else { return false }
        if likelyServerPorts.contains(destinationPort) {
            return !syn && sourcePort < destinationPort
        }
        return true
    }

    /// The TCP ports in Zeek's `likely_server_ports` when Zeek runs with its default
    /// (base) scripts: the well-known ports that the base protocol scripts register
    /// for their analyzers (`scripts/base/protocols/*/main.zeek`, `redef
    /// likely_server_ports += { ports }`, and in recent releases
    /// `Analyzer::register_for_ports`, scripts/base/frameworks/analyzer/main.zeek,
    /// which adds every registered server port).
    ///
    /// FTP 21, 2811; SSH 22; SMTP 25, 587; DNS 53; Finger 79; HTTP 80, 81, 631, 1080,
    /// 3128, 8000, 8080, 8888; Kerberos 88; DCE-RPC 135; SMB 139, 445; IMAP 143;
    /// LDAP 389, 3268; SSL/TLS 443, 563, 585, 614, 636, 989, 990, 992, 993, 995, 5223;
    /// Modbus 502; SOCKS 1080; MySQL 1434, 3306; MQTT 1883; RDP 3389; XMPP 5222, 5269;
    /// PostgreSQL 5432; Redis 6379; IRC 6666-6669; DNP3 20000.
    ///
    /// Zeek versions differ slightly in this list (some protocols only joined it when
    /// `register_for_ports` began adding ports automatically); pass your own set to
    /// `shouldFlip(firstSegmentFlags:sourcePort:destinationPort:likelyServerPorts:)`
    /// to match a particular deployment.
    public static let defaultLikelyServerPorts: Set<UInt16> = [
        21, 2811,                         // FTP
        22,                               // SSH
        25, 587,                          // SMTP
        53,                               // DNS
        79,                               // Finger
        80, 81, 631, 1080, 3128, 8000, 8080, 8888, // HTTP (1080 is SOCKS too)
        88,                               // Kerberos
        135,                              // DCE-RPC
        139, 445,                         // SMB
        143,                              // IMAP
        389, 3268,                        // LDAP
        443, 563, 585, 614, 636, 989, 990, 992, 993, 995, 5223, // SSL/TLS
        502,                              // Modbus
        1434, 3306,                       // MySQL
        1883,                             // MQTT
        3389,                             // RDP
        5222, 5269,                       // XMPP
        5432,                             // PostgreSQL
        6379,                             // Redis
        6666, 6667, 6668, 6669,           // IRC
        20000,                            // DNP3
    ]
}
