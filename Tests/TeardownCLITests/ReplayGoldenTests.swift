import Foundation
import Testing

/// Replays every capture in captures/ and compares the output with the goldens beside it:
/// `NAME.timeline.txt` (the annotated timeline, no colour) and `NAME.jsonl` (JSON Lines).
/// Goldens are written by `TEARDOWN_UPDATE_GOLDENS=1 swift test --filter ReplayGoldenTests`
/// and read by a person before they are committed.
@Suite struct ReplayGoldenTests {
    static let files = CLI.captures()

    /// `x.pcap` → `x` + ext; a compressed file keeps its whole name (`x.pcap.gz` → `x.pcap.gz` + ext).
    static func golden(_ capture: String, _ ext: String) -> String {
        if [".gz", ".zst", ".lz4"].contains(where: { capture.hasSuffix($0) }) { return capture + ext }
        var base = capture
        for suffix in [".pcapng", ".pcap"] where base.hasSuffix(suffix) { base.removeLast(suffix.count) }
        return base + ext
    }

    @Test func capturesArePresent() {
        #expect(ReplayGoldenTests.files.count >= 10, "captures/ should hold the recordings and fixtures")
    }

    @Test(arguments: files)
    func timeline(_ capture: String) throws {
        let r = try CLI.run(["replay", capture, "--no-color"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stdout.contains("\u{1b}["), "no escape bytes without colour")
        expectGolden(r.stdout, path: ReplayGoldenTests.golden(capture, ".timeline.txt"))
    }

    @Test(arguments: files)
    func json(_ capture: String) throws {
        let r = try CLI.run(["replay", capture, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        for line in r.stdout.split(separator: "\n") {
            let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(obj?["schema_version"] as? Int == 2)
        }
        expectGolden(r.stdout, path: ReplayGoldenTests.golden(capture, ".jsonl"))
    }

    /// Zeek's conn.log (`--format zeek`), golden `NAME.zeek.log`.
    @Test(arguments: files)
    func zeek(_ capture: String) throws {
        let r = try CLI.run(["replay", capture, "--format", "zeek"])
        #expect(r.status == 0, "\(r.stderr)")
        expectGolden(r.stdout, path: ReplayGoldenTests.golden(capture, ".zeek.log"))
    }

    /// `--format zeek-json` parsed back: one object per TSV line, with the same values (times
    /// to the microsecond), unset fields left out, keys in column order.
    @Test(arguments: files)
    func zeekJSONAgreesWithTSV(_ capture: String) throws {
        let tsv = try CLI.run(["replay", capture, "--format", "zeek"])
        let json = try CLI.run(["replay", capture, "--format", "zeek-json"])
        #expect(json.status == 0, "\(json.stderr)")
        let rows = tsv.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") }
        let objects = json.stdout.split(separator: "\n")
        try #require(rows.count == objects.count)
        let fields = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service", "duration",
                      "orig_bytes", "resp_bytes", "conn_state", "local_orig", "local_resp", "missed_bytes", "history",
                      "orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes", "tunnel_parents", "ip_proto"]
        for (row, line) in zip(rows, objects) {
            let cells = row.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            let obj = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(cells.count == fields.count)
            var order: [String] = []
            for (name, cell) in zip(fields, cells) {
                guard cell != "-" else {
                    #expect(obj[name] == nil, "\(name) is unset in TSV but present in JSON")
                    continue
                }
                order.append(name)
                let value = try #require(obj[name], "\(name) missing from JSON")
                if name == "ts" || name == "duration" {
                    let d = try #require((value as? NSNumber)?.doubleValue)
                    #expect(String(format: "%.6f", d) == cell, "\(name)")
                } else {
                    #expect("\(value)" == cell, "\(name)")
                }
            }
            // Keys in column order: each present key appears after the one before it.
            var last = line.startIndex
            for name in order {
                let r = try #require(line.range(of: "\"\(name)\":", range: last..<line.endIndex), "\(name) out of order")
                last = r.upperBound
            }
        }
    }
}

/// Checks per-direction FIN/RST/SYN segment counts against tshark, the oracle users compare with.
@Suite struct WiresharkAgreementTests {
    static var tshark: String? {
        for p in ["/usr/bin/tshark", "/usr/local/bin/tshark"] where FileManager.default.isExecutableFile(atPath: p) { return p }
        return nil
    }

    /// What tshark must be told to decode a capture as teardown does, where its defaults do not
    /// (captures/README.md lists these): an Ethernet pseudowire without control word whose
    /// first nibble is neither 0, 4 nor 6 is "data" to Wireshark's MPLS heuristic; Wireshark
    /// swaps the two frame control bytes of an 802.11 frame in CAPWAP (`capwap.swap_fc`, for
    /// APs that send them swapped), where RFC 5416 sends them as on the air.
    static let decodeAs: [String: [String]] = [
        "captures/encapsulations/mpls-pw.pcap": ["-d", "mpls.label==24,pwethnocw"],
        "captures/tunnels/capwap-80211.pcap": ["-o", "capwap.swap_fc:FALSE"],
    ]

    /// tshark's count of segments with `flag` set, keyed by "addr:port>addr:port" of the sender.
    ///
    /// In a tunnelled packet tshark lists every IP layer's addresses; the TCP segment's are the
    /// innermost IP layer's: the last of `ip` and `ipv6` in `frame.protocols`, its last
    /// occurrence (`-E occurrence=l`). tshark opens every tunnel of captures/tunnels by default;
    /// `decodeAs` names the captures that need telling. `field` "packets" counts every TCP segment.
    static func tsharkCounts(_ capture: String, field: String) throws -> [String: Int] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tshark!)
        // Wireshark's field names: tcp.flags.fin, tcp.flags.syn, tcp.flags.reset.
        let name = field == "rst" ? "reset" : field
        let filter = field == "packets" ? "tcp" : "tcp.flags.\(name) == 1"
        p.arguments = ["-n", "-r", capture] + (decodeAs[capture] ?? []) + ["-Y", filter, "-T", "fields", "-E", "occurrence=l",
                       "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport", "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport",
                       "-e", "frame.protocols"]
        p.currentDirectoryURL = CLI.packageRoot
        let out = Pipe()
        p.standardOutput = out
        p.standardError = Pipe()
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        var counts: [String: Int] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 7 else { continue }
            let innermostIsIPv6 = f[6].split(separator: ":").last { $0 == "ip" || $0 == "ipv6" } == "ipv6"
            let src = innermostIsIPv6 ? f[1] : f[0], dst = innermostIsIPv6 ? f[4] : f[3]
            counts["\(src):\(f[2])>\(dst):\(f[5])", default: 0] += 1
        }
        return counts
    }

    @Test(arguments: CLI.captures())
    func flagCountsMatchTshark(_ capture: String) throws {
        try WiresharkAgreementTests.compare(capture, ["fin", "rst", "syn"])
    }

    /// Hostile fixtures whose segments teardown rightly counts differently from tshark, and why.
    static let packetCountExceptions: [String: String] = [
        "captures/tunnels/nested.pcap":
            "a segment in 40 GRE layers and one in 12 Teredo layers are past the nesting limit: teardown warns and drops them, tshark decodes both",
        "captures/fragments/tiny-overlap.pcap":
            "a datagram whose fragments overlap is dropped as Linux drops it (RFC 5722); tshark reassembles it and shows one ACK more",
    ]

    /// The fixtures of link types, encapsulations, tunnels and IP fragments.
    static let packetCountFixtures = LinkTypeEquivalenceTests.fixtures + CLI.captures(under: "captures/tunnels")
        + CLI.captures(under: "captures/fragments")

    /// The link-type, encapsulation, tunnel and fragment fixtures also agree on the segments per
    /// direction: every packet of theirs is decoded, none more (but `packetCountExceptions`).
    @Test(arguments: packetCountFixtures)
    func packetCountsMatchTshark(_ capture: String) throws {
        if let why = WiresharkAgreementTests.packetCountExceptions[capture] {
            // The exception must stay an exception: if the counts came to agree, it would hide nothing.
            try WiresharkAgreementTests.compare(capture, ["packets"], expectEqual: false, because: why)
            return
        }
        try WiresharkAgreementTests.compare(capture, ["packets"])
    }

    @Test func packetCountFixturesCoverTunnelsAndFragments() {
        let f = WiresharkAgreementTests.packetCountFixtures
        #expect(f.filter { $0.hasPrefix("captures/tunnels/") }.count >= 23)
        #expect(f.filter { $0.hasPrefix("captures/fragments/") }.count >= 9)
        #expect(WiresharkAgreementTests.packetCountExceptions.keys.allSatisfy { f.contains($0) })
    }

    static func compare(_ capture: String, _ fields: [String], expectEqual: Bool = true, because reason: String = "") throws {
        guard WiresharkAgreementTests.tshark != nil else {
            print("skipping: tshark is not installed (apt-get install tshark); it is the oracle for flag counts")
            return
        }
        let r = try CLI.run(["replay", capture, "--format", "json", "--no-events"])
        #expect(r.status == 0)
        var ours: [String: [String: Int]] = [:]
        for line in r.stdout.split(separator: "\n") {
            let obj = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let o = try #require(obj["orig"] as? [String: Any]), s = try #require(obj["resp"] as? [String: Any])
            let oKey = "\(o["addr"]!):\(o["port"]!)>\(s["addr"]!):\(s["port"]!)"
            let sKey = "\(s["addr"]!):\(s["port"]!)>\(o["addr"]!):\(o["port"]!)"
            for field in fields {
                ours[field, default: [:]][oKey, default: 0] += o[field] as! Int
                ours[field, default: [:]][sKey, default: 0] += s[field] as! Int
            }
        }
        for field in fields {
            let theirs = try WiresharkAgreementTests.tsharkCounts(capture, field: field)
            let mine = (ours[field] ?? [:]).filter { $0.value > 0 }
            if expectEqual {
                #expect(mine == theirs, "\(field) counts per direction differ from tshark for \(capture)")
            } else {
                #expect(mine != theirs, "\(field) counts now equal tshark's for \(capture), listed as differing: \(reason)")
            }
        }
    }
}

/// Every link-type and encapsulation fixture was derived from a real recording by rewriting
/// only what lies below IP (tools/captures/fixtures.py, tools/captures/links.py); teardown must
/// report exactly what it reports for the recording itself. Labels, tags and link headers are
/// not part of a connection's identity: in `mpls-half` only one direction is labelled and it
/// is still one connection.
@Suite struct LinkTypeEquivalenceTests {
    static let fixtures = CLI.captures(under: "captures/linktypes") + CLI.captures(under: "captures/encapsulations")

    /// The recording a fixture came from (captures/README.md lists it).
    static func source(of fixture: String) -> String {
        if fixture.contains("-many") { return "captures/real/many-connections.pcap" }
        return fixture.contains("ipv6") ? "captures/real/ipv6-graceful.pcap" : "captures/real/graceful-client-close.pcap"
    }

    /// JSON records with the `file` key dropped.
    static func records(_ path: String) throws -> [NSDictionary] {
        let r = try CLI.run(["replay", path, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        return try r.stdout.split(separator: "\n").map { line in
            let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            var copy = o
            copy.removeValue(forKey: "file")
            return copy as NSDictionary
        }
    }

    @Test func everyLinkTypeHasAFixture() {
        #expect(LinkTypeEquivalenceTests.fixtures.count >= 40)
    }

    @Test(arguments: fixtures)
    func sameResultAsTheRecording(_ fixture: String) throws {
        let mine = try LinkTypeEquivalenceTests.records(fixture)
        let original = try LinkTypeEquivalenceTests.records(LinkTypeEquivalenceTests.source(of: fixture))
        #expect(mine.count == (fixture.contains("-many") ? 50 : 1))
        #expect(mine == original, "\(fixture) differs from \(LinkTypeEquivalenceTests.source(of: fixture))")
    }
}
