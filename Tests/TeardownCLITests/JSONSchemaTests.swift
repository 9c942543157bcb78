import Foundation
import Testing

/// The JSON records against their schema, docs/connection.schema.json (issue 18, item 4),
/// checked by python3's jsonschema (Draft 2020-12) through tools/check/validate-json.py: every
/// bundled capture's output with its events; the schema refuses what it must; eviction and
/// idle expiry are fields; `lost` unknown and `lost` zero are told apart.
@Suite struct JSONSchemaTests {
    static let schema = "docs/connection.schema.json"
    static let validator = "tools/check/validate-json.py"

    /// Why the validator cannot run here (the jsonschema package missing), or nil.
    static let missing: String? = {
        let r = try? Self.validate("")
        return r?.status == 2 ? "python3's jsonschema is missing (Debian: python3-jsonschema; .ci/run installs it)" : nil
    }()

    /// Runs the validator over `lines` (JSON Lines on its standard input).
    static func validate(_ lines: String) throws -> CLI.Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", CLI.packageRoot.appendingPathComponent(validator).path,
                       CLI.packageRoot.appendingPathComponent(schema).path]
        let out = Pipe(), err = Pipe(), inp = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = inp
        try p.run()
        let writer = Thread { inp.fileHandleForWriting.write(Data(lines.utf8)); try? inp.fileHandleForWriting.close() }
        writer.start()
        let (o, e) = CLI.readToEnd(out, err)
        p.waitUntilExit()
        return CLI.Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    static func records(_ output: String) -> [[String: Any]] {
        output.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    @Test func everyBundledCaptureMatchesTheSchema() throws {
        if let missing = Self.missing { print("skipping the schema check: \(missing)"); return }
        let r = try CLI.run(["replay"] + CLI.captures() + ["--format", "json"])
        let n = r.stdout.split(separator: "\n").count
        #expect(n > 600)
        let v = try Self.validate(r.stdout)
        #expect(v.status == 0, "\(v.stdout.prefix(3000))")
        #expect(v.stderr.contains("\(n) records, 0 invalid"), "\(v.stderr)")
    }

    /// The schema can fail: a key it does not know, a value outside an enumeration, a missing
    /// key, lost 0 said to be unknown, and a line that is not JSON are each refused.
    @Test func theSchemaRefusesWhatItMust() throws {
        if let missing = Self.missing { print("skipping the schema check: \(missing)"); return }
        let good = try CLI.run(["replay", "captures/experiments/linger-zero-30k.pcap", "--format", "json"]).stdout
        #expect(try Self.validate(good).status == 0)
        let line = good.trimmingCharacters(in: .newlines)
        let mutations = [
            line.replacingOccurrences(of: "\"midstream\":false", with: "\"midstream\":false,\"colour\":1"),
            line.replacingOccurrences(of: "\"conn_state\":\"RSTO\"", with: "\"conn_state\":\"RST0\""),
            line.replacingOccurrences(of: "\"expired\":null,", with: ""),
            line.replacingOccurrences(of: "\"lost\":0,\"lost_known\":true", with: "\"lost\":0,\"lost_known\":false"),
            String(line.dropLast()),
        ]
        for (i, m) in mutations.enumerated() {
            #expect(m != line, "mutation \(i) changed nothing")
            let v = try Self.validate(m + "\n")
            #expect(v.status == 1, "mutation \(i) passed: \(v.stdout)")
        }
    }

    /// `expired`: evicted connections (--max-connections 2) and idle ones (--idle-timeout 5 over
    /// the 12 s of silence in conntrack-idle) say so as fields, as their notes say it in words;
    /// the others are null.
    @Test func evictionAndIdleExpiryAreFields() throws {
        let evicting = Self.records(try CLI.run(["replay", "captures/real/many-connections.pcap", "--format", "json",
                                                  "--no-events", "--max-connections", "2"]).stdout)
        let evicted = evicting.filter { ($0["expired"] as? [String: Any])?["reason"] as? String == "evicted" }
        #expect(!evicted.isEmpty && evicted.count < evicting.count)
        for r in evicting {
            let e = r["expired"] as? [String: Any]
            let noted = (r["notes"] as? [[String: Any]] ?? []).contains { $0["code"] as? String == "evicted" }
            #expect(noted == (e != nil), "\(r["index"] ?? "")")
            if let e { #expect(e["max_connections"] as? Int == 2 && e["seconds"] is NSNull) }
        }
        let idle = Self.records(try CLI.run(["replay", "captures/paths/conntrack-idle.pcap", "--format", "json", "--no-events",
                                              "--idle-timeout", "5"]).stdout)
        let expired = idle.compactMap { $0["expired"] as? [String: Any] }
        #expect(expired.contains { $0["reason"] as? String == "idle-timeout" && $0["seconds"] as? Int == 5 && $0["max_connections"] is NSNull },
                "\(idle.map { $0["expired"] ?? "" })")
        let plain = Self.records(try CLI.run(["replay", "captures/paths/conntrack-idle.pcap", "--format", "json", "--no-events"]).stdout)
        #expect(plain.allSatisfy { $0["expired"] is NSNull })
        if Self.missing == nil {
            let v = try Self.validate(try CLI.run(["replay", "captures/real/many-connections.pcap", "--format", "json",
                                                    "--max-connections", "2"]).stdout)
            #expect(v.status == 0, "\(v.stdout.prefix(2000))")
        }
    }

    /// `lost` unknown (a plain capture: null, lost_known false) and `lost` zero (socket calls
    /// showed every byte read: 0, lost_known true) are told apart.
    @Test func lostUnknownIsNotLostZero() throws {
        func ledger(_ capture: String) throws -> [String: Any] {
            let r = Self.records(try CLI.run(["replay", capture, "--format", "json", "--no-events"]).stdout)
            return (r.first?["bytes"] as? [String: Any])?["orig"] as? [String: Any] ?? [:]
        }
        let plain = try ledger("captures/real/graceful-client-close.pcap")
        #expect(plain["lost"] is NSNull && plain["lost_known"] as? Bool == false)
        let zero = try ledger("captures/experiments/client-close.pcap")
        #expect(zero["lost"] as? Int == 0 && zero["lost_known"] as? Bool == true)
    }
}
