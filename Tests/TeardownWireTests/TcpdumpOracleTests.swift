import Foundation   // test-only: files and Process to run the oracle; the Wire module itself stays Foundation-free.
import Testing
@testable import TeardownWire

/// Where tcpdump lives, or nil (the oracle tests then skip and say why).
let tcpdumpPath: String? = {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"
    for dir in (path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/bin"]) {
        let candidate = dir + "/tcpdump"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}()

/// Writes one packet to a classic pcap file (pcap-savefile(5)) and returns tcpdump's
/// `-nn -S -vv` output for it.
func tcpdumpOutput(_ bytes: [UInt8], linkType: LinkType, original: Int? = nil) throws -> String {
    func le32(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)] }
    func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    var file = le32(0xA1B2_C3D4) + le16(2) + le16(4) + le32(0) + le32(0) + le32(262_144)
    file += le32(UInt32(bitPattern: linkType.rawValue))
    file += le32(1_700_000_000) + le32(0) + le32(UInt32(bytes.count)) + le32(UInt32(original ?? bytes.count))
    file += bytes
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("teardown-wire-oracle-\(UUID().uuidString).pcap")
    try Data(file).write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }

    let process = Process()
    process.executableURL = URL(fileURLWithPath: tcpdumpPath ?? "/usr/bin/tcpdump")
    process.arguments = ["-nn", "-S", "-vv", "-r", url.path]
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}

/// tcpdump's flag letters, in the order print-tcp.c's `tcp_flag_values` table lists them
/// (F S R P . U E W). tcpdump 4.99 does not print AE. Checked against tcpdump itself below.
func tcpdumpFlagString(_ f: TCPFlags) -> String {
    var s = ""
    for (flag, letter) in [(TCPFlags.fin, "F"), (.syn, "S"), (.rst, "R"), (.psh, "P"), (.ack, "."),
                           (.urg, "U"), (.ece, "E"), (.cwr, "W")] where f.contains(flag) {
        s += letter
    }
    return s.isEmpty ? "none" : s
}

/// What tcpdump must print for a segment the decoder produced.
func expectedTcpdumpFragments(_ s: TCPSegment) -> [String] {
    func addr(_ a: IPAddress) -> String { a.description }
    // After a fragment or AH header tcpdump prints the ports without the addresses, so the
    // addresses and the ports are matched apart.
    var parts = [" \(addr(s.source.address))", " \(addr(s.destination.address))",
                 "\(s.source.port) > ", "\(s.destination.port): Flags [\(tcpdumpFlagString(s.flags))]"]
    let seq = s.sequenceNumber.rawValue
    parts.append(s.payloadLength > 0 ? ", seq \(seq):\(seq &+ UInt32(s.payloadLength))," : ", seq \(seq),")
    if s.flags.contains(.ack) { parts.append(", ack \(s.acknowledgmentNumber.rawValue),") }
    parts.append(", win \(s.window)")
    parts.append(", length \(s.payloadLength)")
    let o = s.options
    if let mss = o.mss { parts.append("mss \(mss)") }
    if let ws = o.windowScale { parts.append("wscale \(ws)") }
    if o.sackPermitted { parts.append("sackOK") }
    if let v = o.timestampValue, let e = o.timestampEcho { parts.append("TS val \(v) ecr \(e)") }
    if o.sackBlockCount > 0 {
        parts.append("sack \(o.sackBlockCount) " + o.sackBlocks.map { "{\($0.left.rawValue):\($0.right.rawValue)}" }.joined())
    }
    if s.ipVersion == 4 { parts.append("ttl \(s.hopLimit)") } else { parts.append("hlim \(s.hopLimit)") }
    return parts
}

@Suite("tcpdump as an oracle", .enabled(if: tcpdumpPath != nil, "tcpdump is not installed; install it (apt-get install tcpdump) to run the oracle tests"))
struct TcpdumpOracleTests {
    /// The decoder and tcpdump agree on addresses, ports, flags, seq, ack, window, options,
    /// payload length and TTL/hop limit, and tcpdump finds the fixture's checksums correct.
    /// Fixtures tcpdump 4.99 reads differently, on purpose:
    /// - DLT 14 is RAW only on OpenBSD; elsewhere tcpdump does not know it;
    /// - tcpdump stops at Mobility and HIP headers (RFC 6275 §6.1.1 and RFC 7401 §5.1.1 want
    ///   No Next Header after them); the decoder walks over them as the brief asks;
    /// - tcpdump does not take NULL family 10 (Linux AF_INET6) as IPv6;
    /// - tcpdump prints "bad-len 0" for IPv4 total length 0, where the decoder (like Wireshark's
    ///   "may be caused by TSO") takes the length from the wire;
    /// - tcpdump 4.99 prints MPLS payloads only as IP (not Ethernet pseudowires) and does not
    ///   know 802.1ah I-tags, FabricPath or 802.1BR E-Tags (Wireshark does: the captures of
    ///   these are checked against tshark in tools/captures/links.py and the CLI tests);
    /// - tcpdump reads NFLOG attributes in its own host's byte order only.
    static let oracleFixtures = Fixtures.tcp.filter { f in
        f.linkType != .rawBSD14 && !f.name.contains("mobility") && !f.name.hasSuffix("AF_INET6 10") && !f.lengthFromWire
            && !["pseudowire", "PBB", "FabricPath", "E-Tag", "NFLOG big-endian"].contains { f.name.contains($0) }
    }

    @Test("agrees on every TCP fixture", arguments: oracleFixtures)
    func agrees(_ f: Fixture) throws {
        guard case .tcp(let seg) = decode(f.bytes, f.linkType) else { Issue.record("\(f.name) did not decode"); return }
        let text = try tcpdumpOutput(f.bytes, linkType: f.linkType)
        let lines = text.split(separator: "\n").map(String.init)
        // tcpdump -v puts the IPv4 TCP line on its own indented line; IPv6 shares one line.
        let tcpLine = lines.first { $0.contains(" > ") && $0.contains("Flags [") } ?? ""
        #expect(!tcpLine.isEmpty, "\(f.name): tcpdump printed no TCP line:\n\(text)")
        for fragment in expectedTcpdumpFragments(seg) {
            #expect(text.contains(fragment), "\(f.name): tcpdump output lacks \"\(fragment)\":\n\(text)")
        }
        #expect(!text.contains("incorrect") && !text.contains("bad cksum"), "\(f.name): a checksum is wrong, so the fixture is:\n\(text)")
        #expect(!text.contains("[|"), "\(f.name): tcpdump saw a truncation:\n\(text)")
    }

    /// Non-TCP fixtures: tcpdump must not find TCP flags in them either. (A first fragment
    /// holds a TCP header, which tcpdump prints; teardown holds the fragment for reassembly.
    /// tcpdump 4.99 reads an A-MSDU's body as one LLC frame; the fixture's body is one.)
    @Test("agrees that non-TCP fixtures carry no TCP header",
          arguments: Fixtures.nonTCP.filter {
              ($0.expected == .notTCP || $0.expected == .fragment) && !$0.name.contains("first fragment")
                  && !$0.name.contains("A-MSDU")
          })
    func agreesNotTCP(_ f: Fixture) throws {
        let text = try tcpdumpOutput(f.bytes, linkType: f.linkType)
        #expect(!text.isEmpty)
        #expect(!text.contains("Flags ["), "\(f.name):\n\(text)")
    }

    /// A snaplen-cut packet: tcpdump shows the same header fields and the IP-derived length.
    @Test("agrees on a snaplen-cut segment")
    func snaplenCut() throws {
        let f = Fixture.v4("", .ethernet(tags: []), Specs.data(200))
        let cut = Array(f.bytes.prefix(f.tcpEnd + 5))
        guard case .tcp(let seg) = decode(cut, .ethernet, original: f.bytes.count) else { Issue.record("not TCP"); return }
        #expect(seg.isTruncated && seg.payloadLength == 200)
        let text = try tcpdumpOutput(cut, linkType: .ethernet, original: f.bytes.count)
        for fragment in expectedTcpdumpFragments(seg) where !fragment.hasPrefix(", length") {
            #expect(text.contains(fragment), "tcpdump output lacks \"\(fragment)\":\n\(text)")
        }
        #expect(text.contains("length 240"), "IP total length:\n\(text)")   // 20 + 20 + 200
    }

    /// Where tcpdump and the decoder agree that the header is broken.
    @Test("agrees that a TCP data offset below 5 is bad")
    func badDataOffset() throws {
        let bytes = Build.ipv4(src: 1, dst: 2, payload: Build.tcp(sport: 1, dport: 2, seq: 3, ack: 4, flags: 0x10, dataOffset: 4))
        let text = try tcpdumpOutput(bytes, linkType: .ipv4)
        #expect(text.contains("bad hdr length"), "\(text)")
        guard case .invalid(let e) = decode(bytes, .ipv4) else { Issue.record("decoded"); return }
        #expect(e.kind == .malformed && e.layer == .tcp)
    }

    /// `TCPFlags.tcpdumpString` prints tcpdump's order, F S R P . U E W (and nothing for AE),
    /// checked against tcpdump itself.
    @Test("TCPFlags.tcpdumpString matches tcpdump's flag order")
    func sharedFlagString() throws {
        let cases: [UInt16] = [0x002, 0x012, 0x011, 0x018, 0x004, 0x014, 0x0C2, 0x052, 0x1FF]
        for raw in cases {
            var spec = Specs.ack
            spec.flags = raw
            let text = try tcpdumpOutput(Build.ipv4(src: 1, dst: 2, payload: spec.bytes), linkType: .ipv4)
            #expect(text.contains("Flags [\(tcpdumpFlagString(TCPFlags(rawValue: raw)))]"), "test helper vs tcpdump:\n\(text)")
            #expect(text.contains("Flags [\(TCPFlags(rawValue: raw).tcpdumpString)]"), "tcpdumpString vs tcpdump:\n\(text)")
        }
    }
}
