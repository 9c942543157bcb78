import Foundation
import Testing

/// The progress line of a long replay (issue 18, item 5): on a terminal (a pseudo-terminal made
/// by script(1)), after about a second, `teardown: … of … read (…%) · N connections · …/s`
/// redrawn in place and cleared at the end; never when stderr is a pipe; never with --quiet.
/// The capture is the benchmark's synthetic one (tools/captures/gen_capture.py, a C generator
/// it compiles), sized so that replaying it takes more than a second.
@Suite struct ProgressTests {
    static var toolsMissing: Bool {
        CLI.scriptMissing || !FileManager.default.isExecutableFile(atPath: "/usr/bin/cc")
    }

    /// A synthetic capture of `connections` connections in a fresh directory.
    static func capture(connections: Int) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("teardown-progress-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let out = dir.appendingPathComponent("synth.pcap").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", CLI.packageRoot.appendingPathComponent("tools/captures/gen_capture.py").path,
                       "--connections", "\(connections)", "--concurrency", "200", "--seed", "3", "--out", out]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        return out
    }

    /// `teardown args` on a pseudo-terminal, standard output into `stdoutFile`; what the terminal
    /// showed (stderr), and how long it took.
    static func onTerminal(_ args: [String], stdoutFile: String) throws -> (shown: String, seconds: Double) {
        let command = ([CLI.binary.path] + args).map(CLI.shellQuoted).joined(separator: " ") + " > " + CLI.shellQuoted(stdoutFile)
        let r = try CLI.onTerminal("stty cols 120 rows 40; " + command)
        return (r.shown, r.seconds)
    }

    @Test(.disabled(if: toolsMissing, "needs script(1) for a pseudo-terminal and cc for the synthetic capture"))
    func longReplayShowsProgressOnATerminalOnly() throws {
        let capture = try Self.capture(connections: 15_000)
        defer { try? FileManager.default.removeItem(atPath: (capture as NSString).deletingLastPathComponent) }
        let size = (try FileManager.default.attributesOfItem(atPath: capture)[.size] as? Int) ?? 0
        #expect(size > 50_000_000)
        let args = ["replay", capture, "--summary"]
        let stdoutFile = capture + ".out"

        let (shown, seconds) = try Self.onTerminal(args, stdoutFile: stdoutFile)
        let printed = try String(contentsOfFile: stdoutFile, encoding: .utf8)
        let piped = try CLI.run(args)
        // What went to standard output is the same as without a terminal.
        #expect(printed == piped.stdout)
        #expect(printed.contains("15,000 connections by teardown"))
        // Drawn at least once, in place (carriage return, erase to the end of the line), with
        // the bytes read of the file's size, a share, connections and a rate.
        let draws = shown.components(separatedBy: "\rteardown: ").dropFirst()
        if draws.isEmpty && seconds < 1.6 {
            print("the replay took \(seconds) s, too short for the line; not judged")
            return
        }
        #expect(!draws.isEmpty, "\(shown.debugDescription)")
        let megabytes = Double(size) / 1e6
        let total = megabytes < 100 ? String(format: "%.1f MB", megabytes) : "\(Int(megabytes.rounded())) MB"
        for d in draws {
            #expect(d.contains(" of \(total) read (") && d.contains("%) · ") && d.contains(" connections · ") && d.contains("/s"), "\(d.debugDescription)")
        }
        // Cleared at the end: the last drawing is followed by the erase, and what comes after
        // (the end-of-input warnings) starts at the beginning of the line.
        #expect(draws.last?.contains("\u{1B}[K\r\u{1B}[K") == true, "\(shown.suffix(300).debugDescription)")

        // Not with --quiet; not in a pipe.
        let (quiet, _) = try Self.onTerminal(args + ["--quiet"], stdoutFile: stdoutFile)
        #expect(!quiet.contains("\rteardown: ") && !quiet.contains("\u{1B}[K") && !quiet.contains(" read ("), "\(quiet.debugDescription)")
        #expect(!piped.stderr.contains("read (") && !piped.stderr.contains("\r"), "\(piped.stderr.debugDescription)")
    }

    /// Standard input that keeps the replay waiting two seconds: the line comes whatever the
    /// machine's speed, with the connections so far and the time (a pipe has no size and no
    /// position to read), and is cleared.
    @Test(.disabled(if: CLI.scriptMissing, "needs script(1) for a pseudo-terminal"))
    func slowStandardInputShowsConnectionsAndTime() throws {
        let capture = CLI.packageRoot.appendingPathComponent("captures/real/many-connections.pcap").path
        let command = "(cat \(CLI.shellQuoted(capture)); sleep 2) | \(CLI.shellQuoted(CLI.binary.path)) replay - --summary > /dev/null"
        let shown = try CLI.onTerminal(command).shown
        let draws = shown.components(separatedBy: "\rteardown: ").dropFirst()
        #expect(draws.count >= 2, "\(shown.debugDescription)")
        for d in draws {
            // The connections so far (the reader hands packets over in batches: none may have
            // been reported yet while it waits) and the seconds.
            #expect(d.range(of: "^[0-9,]+ connections? · [0-9]+\\.[0-9] s\u{1B}\\[K", options: .regularExpression) != nil, "\(d.debugDescription)")
        }
        #expect(shown.hasSuffix("\u{1B}[K\r\u{1B}[K"), "\(shown.suffix(200).debugDescription)")
    }
}
