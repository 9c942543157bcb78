import Foundation
import Testing

/// The captures in captures/tunnels/ (made by tools/captures/tunnels.py): the real recordings
/// with every packet wrapped in one tunnel, and hostile nesting.
@Suite struct TunnelTests {
    static let fixtures = CLI.captures(under: "captures/tunnels").filter {
        !$0.hasSuffix("/nested.pcap") && !$0.hasSuffix("/same-tuple.pcap")
    }

    /// The recording a fixture wraps (captures/README.md lists it).
    static func source(of fixture: String) -> String {
        let v6 = ["gre-ipv6", "gtpu-ipv6", "ipip-6in4", "ipip-6in6", "teredo", "ayiya", "capwap-80211"]
        return v6.contains { fixture.hasSuffix("/\($0).pcap") }
            ? "captures/real/ipv6-graceful.pcap" : "captures/real/graceful-client-close.pcap"
    }

    /// JSON records without the keys that name the file and the tunnel.
    static func records(_ path: String) throws -> (records: [NSDictionary], stderr: String) {
        let r = try CLI.run(["replay", path, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let records = try r.stdout.split(separator: "\n").map { line in
            var o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            o.removeValue(forKey: "file")
            o.removeValue(forKey: "tunnel")
            return o as NSDictionary
        }
        return (records, r.stderr)
    }

    @Test func everyTunnelHasAFixture() {
        #expect(TunnelTests.fixtures.count >= 21)
    }

    /// Every tunnelled fixture gives the recording's records, event by event: the inner TCP is
    /// found in both directions, at the recording's times, with nothing said on stderr.
    @Test(arguments: fixtures)
    func sameResultAsTheRecording(_ fixture: String) throws {
        let mine = try TunnelTests.records(fixture)
        let original = try TunnelTests.records(TunnelTests.source(of: fixture))
        #expect(mine.records.count == 1)
        #expect(mine.records == original.records, "\(fixture) differs from \(TunnelTests.source(of: fixture))")
        #expect(mine.stderr.isEmpty, "\(mine.stderr)")
    }

    /// GRE nested 40 deep and Teredo nested 12 deep: each is one per-packet warning, and the
    /// conversation around them is whole.
    @Test func nestingPastTheLimit_warnsPerPacket() throws {
        let path = "captures/tunnels/nested.pcap"
        let mine = try TunnelTests.records(path)
        let original = try TunnelTests.records("captures/real/graceful-client-close.pcap")
        #expect(mine.records.count == 1)
        let drop: (NSDictionary) -> NSDictionary = { d in
            let m = d.mutableCopy() as! NSMutableDictionary
            // Packet numbers shift by the two nested packets; compare what does not number packets.
            m.removeObjects(forKeys: ["events", "first_packet", "last_packet"])
            return m
        }
        #expect(mine.records.map(drop) == original.records.map(drop))
        #expect(mine.stderr.split(separator: "\n").map(String.init) == [
            "teardown: warning: \(path): packet 4: malformed GRE header: headers are nested more deeply than the decoder follows",
            "teardown: warning: \(path): packet 5: malformed IPv6 header: headers are nested more deeply than the decoder follows",
        ])
    }

    /// The same conversation in VXLAN VNI 100 and VNI 200 at once (same inner 4-tuple, same
    /// outer endpoints): two connections, each the recording's, each naming its tunnel.
    @Test func sameInnerTuple_inTwoTunnels_isTwoConnections() throws {
        let r = try CLI.run(["replay", "captures/tunnels/same-tuple.pcap", "--format", "json", "--no-events"])
        #expect(r.status == 0, "\(r.stderr)")
        let objects = try r.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        try #require(objects.count == 2)
        let vnis = objects.compactMap { (($0["tunnel"] as? [[String: Any]])?.first?["vni"] as? Int) }
        #expect(vnis == [100, 200])
        for o in objects {
            #expect(o["teardown"] as? String == "graceful")
            #expect((o["orig"] as? [String: Any])?["packets"] as? Int == 6)
            #expect((o["resp"] as? [String: Any])?["packets"] as? Int == 4)
            let layer = try #require((o["tunnel"] as? [[String: Any]])?.first)
            #expect(layer["type"] as? String == "vxlan" && layer["orig"] as? String == "192.0.2.1"
                    && layer["resp"] as? String == "198.51.100.1")
        }
    }

    /// Untunnelled captures carry no `tunnel` key and no tunnel line.
    @Test func untunnelled_hasNoTunnelKey() throws {
        let r = try CLI.run(["replay", "captures/real/many-connections.pcap", "--format", "json", "--no-events"])
        #expect(!r.stdout.contains("\"tunnel\""))
        let t = try CLI.run(["replay", "captures/real/many-connections.pcap", "--no-color"])
        #expect(!t.stdout.contains("   tunnel "))
    }
}
