import Foundation
import Testing

/// `--only`: exactly the connections one of its words fits, judged here from the full JSON
/// output's own fields (teardown, conn_state, rst, the ledger's lost and in_flight_at_rst).
@Suite struct OnlyTests {
    static let files = ["captures/real/close-unread-data.pcap", "captures/real/graceful-client-close.pcap",
                        "captures/real/linger-zero-unsent.pcap", "captures/real/refused.pcap",
                        "captures/real/write-after-close.pcap", "captures/experiments/linger-zero-30k.pcap",
                        "captures/crafted/rst-in-time-wait.pcap"]

    static func records(_ extra: [String]) throws -> [[String: Any]] {
        let r = try CLI.run(["replay"] + files + ["--format", "json", "--no-events"] + extra)
        #expect(r.status == 0, "\(r.stderr)")
        return r.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    static func key(_ d: [String: Any]) -> String { "\(d["file"] ?? "")#\(d["index"] ?? "")" }

    static func fits(_ d: [String: Any], _ word: String) -> Bool {
        if (d["teardown"] as? String)?.replacingOccurrences(of: "midstream-", with: "") == word { return true }
        if d["conn_state"] as? String == word { return true }
        if word == "reset" { return !(d["rst"] is NSNull) }
        if word == "lost" {
            let bytes = d["bytes"] as? [String: [String: Any]] ?? [:]
            return bytes.values.contains { ($0["lost"] as? Int ?? 0) > 0 || ($0["in_flight_at_rst"] as? Int ?? 0) > 0 }
        }
        let diagnoses = d["diagnoses"] as? [[String: Any]] ?? []
        return diagnoses.contains { $0["code"] as? String == word }
    }

    @Test(arguments: ["graceful", "RSTR", "reset", "lost", "refused,graceful", "time-wait-assassination", "abort-by-originator, SF"])
    func selectsExactlyTheConnectionsItsWordsFit(_ only: String) throws {
        let all = try Self.records([])
        let words = only.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let expected = all.filter { d in words.contains { Self.fits(d, $0) } }.map(Self.key)
        #expect(!expected.isEmpty && expected.count < all.count, "\(only): a word that selects some, not all")
        let got = try Self.records(["--only", only]).map(Self.key)
        #expect(got == expected, "--only \(only)")
    }

    @Test func unknownWord_usageError_listsTheWords() throws {
        let r = try CLI.run(["replay", Self.files[0], "--only", "graceful,bogus"])
        #expect(r.status == 64)
        #expect(r.stderr.hasPrefix("Error: --only: 'bogus' is none of: graceful, half-closed"), "\(r.stderr)")
        #expect(r.stderr.contains("RSTO") && r.stderr.contains("reset, lost") && r.stderr.contains("keepalive-race"))
        let zeek = try CLI.run(["replay", Self.files[0], "--only", "reset", "--format", "zeek"])
        #expect(zeek.status == 64 && zeek.stderr.contains("--only applies to teardown's own formats"))
    }

    /// The summary's tally counts what was printed.
    @Test func summaryTalliesWhatIsSelected() throws {
        let r = try CLI.run(["replay"] + Self.files + ["--only", "refused", "--summary", "--no-color"])
        #expect(r.stdout.contains("1 connection by teardown:") || r.stdout.contains("connections by teardown:"))
        #expect(!r.stdout.contains("graceful"), "\(r.stdout)")
        #expect(r.stdout.contains("refused"))
    }
}
