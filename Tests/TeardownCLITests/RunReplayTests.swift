import Foundation
import Testing

/// `replay` of what `run --save` wrote for every bundled experiment prints, byte for byte, the
/// connections `run` printed: the timelines (`--no-color`) and the JSON objects (`--format
/// json`), the kernel lane included when the run had one (issue 14: "replay of the saved files
/// byte-identical to what run printed"). Only the capture's name differs: `run` names the experiment, `replay` the file.
/// Needs root (run creates a network namespace and captures); skips with the reason otherwise.
@Suite(.serialized) struct RunReplayTests {
    /// Every bundled experiment, as `teardown scenarios` lists them (the order `run` keeps).
    static let experiments: [String] = {
        let listed = (try? CLI.run(["scenarios"]).stdout) ?? ""
        return listed.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
    }()

    /// `run` of the experiments saved into a new directory, with `options`; nil (having said
    /// why) when not root.
    static func run(_ options: [String]) throws -> (dir: String, result: CLI.Result)? {
        guard LiveTests.isRoot else {
            print("skipping run/replay identity: run needs root for its network namespace and capture (CI runs as root)")
            return nil
        }
        try #require(!Self.experiments.isEmpty, "teardown scenarios lists the experiments: \(Self.experiments)")
        let dir = NSTemporaryDirectory() + "td-run-replay-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return (dir, try CLI.run(["run"] + experiments + ["--save", dir] + options))
    }

    /// The timelines of each experiment in `run`'s text: what follows its last verdict, from its
    /// first connection header to the blank line that separates it from the next experiment.
    static func timelines(_ stdout: String) -> [String: String] {
        var out: [String: String] = [:]
        // A run of several experiments ends with its tally, after an empty line.
        let reports = stdout.components(separatedBy: "\n━━ tally ━━").first ?? stdout
        for block in reports.components(separatedBy: "━━ experiment ").dropFirst() {
            let name = String(block.prefix { $0 != " " })
            guard let first = block.range(of: "\n ━━ connection ") else { continue }
            var text = String(block[block.index(after: first.lowerBound)...])
            // `run` puts an empty line before each experiment after the first.
            if text.hasSuffix("\n\n") { text.removeLast() }
            out[name] = text
        }
        return out
    }

    /// The connections of one experiment's line of `run --format json`: the array's members,
    /// as replay writes them one a line, here joined by commas; nil without the array.
    static func connections(ofRunLine line: String) -> String? {
        guard let open = line.range(of: ",\"connections\":["), line.hasSuffix("]}") else { return nil }
        return String(line[open.upperBound..<line.index(line.endIndex, offsetBy: -2)])
    }

    /// `replay PCAP --format json`, its lines joined as `connections(ofRunLine:)` gives them and
    /// the file named `name`, as `run` names it.
    static func replayJSON(_ pcap: String, named name: String) throws -> (CLI.Result, String) {
        let replay = try CLI.run(["replay", pcap, "--format", "json"])
        let joined = replay.stdout.split(separator: "\n").joined(separator: ",")
            .replacingOccurrences(of: "\"file\":\"\(pcap)\"", with: "\"file\":\"\(name)\"")
        return (replay, joined)
    }

    @Test func replayedTimelinesAreWhatRunPrinted() throws {
        guard let (dir, run) = try Self.run(["--no-color"]) else { return }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try #require(run.status == 0, "\(run.stderr)")
        if run.stderr.contains("no kernel lane") { print("run had no kernel lane (\(run.stderr)); comparing packets and calls only") }
        let printed = Self.timelines(run.stdout)
        #expect(printed.keys.sorted() == Self.experiments.sorted())
        for name in Self.experiments {
            let pcap = "\(dir)/\(name).pcap"
            if !run.stderr.contains("no kernel lane") {
                #expect(FileManager.default.fileExists(atPath: "\(dir)/\(name).kernel.jsonl"), "the kernel lane is saved beside \(name).pcap")
            }
            let replay = try CLI.run(["replay", pcap, "--no-color"])
            #expect(replay.status == 0, "\(replay.stderr)")
            let expected = (printed[name] ?? "").replacingOccurrences(of: "   capture    \(name) · ", with: "   capture    \(pcap) · ")
            #expect(replay.stdout == expected, "replay of \(name) differs from what run printed")
            if name == "close-unread" && !run.stderr.contains("no kernel lane") {
                #expect(replay.stdout.contains("kernel: RST sent ("), "the kernel lane is on the replayed timeline")
            }
        }
    }

    @Test func replayedJSONIsWhatRunPrinted() throws {
        guard let (dir, run) = try Self.run(["--format", "json"]) else { return }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try #require(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        try #require(lines.count == Self.experiments.count)
        for (name, line) in zip(Self.experiments, lines) {
            guard let members = Self.connections(ofRunLine: line) else {
                Issue.record("\(name): no connections array in run's JSON"); continue
            }
            let (replay, replayed) = try Self.replayJSON("\(dir)/\(name).pcap", named: name)
            #expect(replay.status == 0, "\(replay.stderr)")
            #expect(replayed == members, "replay --format json of \(name) differs from the connections run printed")
            if !run.stderr.contains("no kernel lane") {
                #expect(replayed.contains("\"state_oracle\""), "the kernel lane's oracle is in the replayed JSON")
            }
        }
    }
}
