import Foundation
import Testing

/// `--format tsv` (issue 18, item 4): a header line, then one line per connection whose every
/// field says what the JSON output's own keys say, raw: integers without separators, times with
/// nine decimals, and an empty field where JSON has null (unknown), never 0.
@Suite struct TSVTests {
    static let columns = ["file", "index", "orig_addr", "orig_port", "resp_addr", "resp_port", "teardown", "closed_by",
                          "conn_state", "history", "rst_from", "start", "end", "duration",
                          "orig_packets", "resp_packets", "orig_payload_bytes", "resp_payload_bytes",
                          "orig_sent", "orig_retransmitted", "orig_acked", "orig_in_flight_at_rst", "orig_written",
                          "orig_read_by_peer", "orig_lost",
                          "resp_sent", "resp_retransmitted", "resp_acked", "resp_in_flight_at_rst", "resp_written",
                          "resp_read_by_peer", "resp_lost", "diagnoses"]

    /// A JSON value as the TSV field it must be: null is empty, numbers as their digits.
    static func field(_ v: Any?) -> String {
        switch v {
        case nil, is NSNull: return ""
        case let n as NSNumber: return n.stringValue
        case let s as String: return s
        default: return "\(v!)"
        }
    }

    /// The raw text of `key`'s number in a JSON line (times: JSONSerialization's Double would
    /// round the nine decimals).
    static func rawNumber(_ key: String, in line: Substring) -> String? {
        guard let r = line.range(of: "\"\(key)\":") else { return nil }
        return String(line[r.upperBound...].prefix { "0123456789.-".contains($0) })
    }

    @Test func everyBundledCaptureAgreesWithItsJSON() throws {
        let files = CLI.captures()
        let tsv = try CLI.run(["replay"] + files + ["--format", "tsv"])
        let json = try CLI.run(["replay"] + files + ["--format", "json", "--no-events"])
        #expect(tsv.status == json.status)
        let lines = tsv.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.first.map(String.init) == Self.columns.joined(separator: "\t"))
        let rows = lines.dropFirst().map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        let objects = json.stdout.split(separator: "\n")
        #expect(rows.count == objects.count)
        #expect(rows.count > 500)
        var checked = 0, emptyLost = 0, knownLost = 0, oneSided = 0
        for (row, line) in zip(rows, objects) {
            #expect(row.count == Self.columns.count, "\(row)")
            guard row.count == Self.columns.count,
                  let d = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
            var f: [String: String] = [:]
            for (name, value) in zip(Self.columns, row) { f[name] = value }
            let orig = d["orig"] as? [String: Any] ?? [:], resp = d["resp"] as? [String: Any] ?? [:]
            var expected: [String: String] = [
                "file": Self.field(d["file"]), "index": Self.field(d["index"]),
                "orig_addr": Self.field(orig["addr"]), "orig_port": Self.field(orig["port"]),
                "resp_addr": Self.field(resp["addr"]), "resp_port": Self.field(resp["port"]),
                "teardown": Self.field(d["teardown"]), "closed_by": Self.field(d["closed_by"]),
                "conn_state": Self.field(d["conn_state"]), "history": Self.field(d["history"]),
                "rst_from": Self.field((d["rst"] as? [String: Any])?["from"]),
                "start": Self.rawNumber("start", in: line) ?? "?", "end": Self.rawNumber("end", in: line) ?? "?",
                "duration": Self.rawNumber("duration", in: line) ?? "?",
                "diagnoses": (d["diagnoses"] as? [[String: Any]] ?? []).map { Self.field($0["code"]) }.joined(separator: ","),
            ]
            let missing = (d["one_sided"] as? [String: Any])?["missing"] as? String
            if missing != nil { oneSided += 1 }
            for (side, s) in [("orig", orig), ("resp", resp)] {
                expected["\(side)_packets"] = missing == side ? "" : Self.field(s["packets"])
                expected["\(side)_payload_bytes"] = missing == side ? "" : Self.field(s["payload_bytes"])
                let ledger = (d["bytes"] as? [String: Any])?[side] as? [String: Any] ?? [:]
                for row in ["sent", "retransmitted", "acked", "in_flight_at_rst", "written", "read_by_peer", "lost"] {
                    expected["\(side)_\(row)"] = Self.field(ledger[row])
                }
            }
            for name in Self.columns where f[name] != expected[name] {
                Issue.record("\(f["file"] ?? "")#\(f["index"] ?? ""): \(name) is '\(f[name] ?? "")', JSON says '\(expected[name] ?? "")'")
            }
            if f["orig_lost"] == "" { emptyLost += 1 } else { knownLost += 1 }
            #expect(!row.dropLast().joined().contains(","), "thousands separator in \(row)")   // diagnoses are a list
            checked += 1
        }
        // Both kinds of lost, and one-sided captures, were among them.
        #expect(emptyLost > 100 && knownLost > 10 && oneSided > 0, "\(emptyLost) \(knownLost) \(oneSided)")
        #expect(checked == rows.count)
    }

    /// Raw numbers where the timeline groups digits: 30,000 bytes written is 30000.
    @Test func numbersAreRaw() throws {
        let r = try CLI.run(["replay", "captures/experiments/linger-zero-30k.pcap", "--format", "tsv"])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        let row = lines[1].split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        let f = Dictionary(uniqueKeysWithValues: zip(Self.columns, row))
        #expect(f["orig_written"] == "30000" && f["orig_lost"] == "25904" && f["resp_lost"] == "0")
        #expect(f["teardown"] == "abort-by-originator" && f["rst_from"] == "orig")
    }

    /// With --only the header stays and only the chosen rows follow; zeek and --summary refuse.
    @Test func onlyAndRefusals() throws {
        let r = try CLI.run(["replay", "captures/real/many-connections.pcap", "--format", "tsv", "--only", "refused"])
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 11, "\(lines.count)")
        #expect(lines.dropFirst().allSatisfy { $0.contains("\trefused\t") })
        let both = try CLI.run(["replay", "captures/real/refused.pcap", "--format", "tsv", "--summary"])
        #expect(both.status == 64)
    }
}
