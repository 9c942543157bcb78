import Foundation
import Testing

/// Fitting the terminal (issue 18, item 2): on a terminal (a real pseudo-terminal made by
/// util-linux's `script`, its size set with `stty`), timelines and the summary are laid out for
/// its width; in a pipe, they are the wide layout the goldens hold, byte for byte.
@Suite struct WidthTests {
    /// Columns of `line` on a terminal: one per Unicode scalar, none for ANSI escapes (CSI).
    static func columns(_ line: Substring) -> Int {
        var n = 0
        var it = line.unicodeScalars.makeIterator()
        while let u = it.next() {
            if u == "\u{1B}" {
                guard it.next() == "[" else { continue }
                while let v = it.next(), !(0x40...0x7E).contains(v.value) {}
                continue
            }
            n += 1
        }
        return n
    }

    /// Lines of `text` wider than `width`, with their columns.
    static func overlong(_ text: String, _ width: Int) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { columns($0) > width }
            .map { "\(columns($0)): \($0)" }
    }

    /// Runs `teardown args` for each `args` in `runs`, one after another, on a pseudo-terminal of
    /// `columns` columns (COLUMNS unset, so that the terminal's own size is what is read);
    /// returns what it printed, with the terminal's CR LF turned back into LF.
    static func onTerminal(columns: Int, _ runs: [[String]]) throws -> (status: Int32, output: String) {
        let bin = CLI.shellQuoted(CLI.binary.path)
        let commands = runs.map { args in ([bin] + args.map(CLI.shellQuoted)).joined(separator: " ") + " 2>/dev/null" }
        let r = try CLI.onTerminal("stty cols \(columns) rows 50; " + commands.joined(separator: "; "))
        return (r.status, r.shown.replacingOccurrences(of: "\r\n", with: "\n"))
    }

    static var scriptMissing: Bool { CLI.scriptMissing }

    /// Every bundled capture's timelines on an 80-column terminal: not one line wider, and the
    /// compact ladder (the RFC's short state names) where the wide one (103 columns) would not fit.
    @Test(.disabled(if: scriptMissing, "needs util-linux's script(1) for a pseudo-terminal"))
    func everyTimelineFits80Columns() throws {
        let files = CLI.captures()
        #expect(files.count > 150)
        let (status, output) = try Self.onTerminal(columns: 80, files.map { ["replay", $0] })
        #expect(status == 0)
        let wide = Self.overlong(output, 80)
        #expect(wide.isEmpty, "\(wide.count) lines wider than 80 columns:\n\(wide.prefix(10).joined(separator: "\n"))")
        let plain = output.replacingOccurrences(of: "\u{1B}\\[[0-9;]*[@-~]", with: "", options: .regularExpression)
        #expect(plain.contains(" ESTAB* │◀"))
        #expect(plain.components(separatedBy: "━━ connection ").count > 300)
        // Colour stays on at a terminal, as before.
        #expect(output.contains("\u{1B}["))
    }

    @Test(.disabled(if: scriptMissing, "needs util-linux's script(1) for a pseudo-terminal"))
    func summaryFits80Columns() throws {
        let files = CLI.captures(under: "captures/real") + CLI.captures(under: "captures/experiments")
        let (status, output) = try Self.onTerminal(columns: 80, [["replay", "--summary"] + files])
        #expect(status == 0)
        let wide = Self.overlong(output, 80)
        #expect(wide.isEmpty, "\(wide.count) lines wider than 80 columns:\n\(wide.prefix(10).joined(separator: "\n"))")
        #expect(output.contains("connections by teardown:"))
    }

    /// At 200 columns the wide layout is kept: the same text as in a pipe for a timeline and
    /// a summary whose lines are all narrower than 200.
    @Test(.disabled(if: scriptMissing, "needs util-linux's script(1) for a pseudo-terminal"))
    func wideTerminalKeepsTheWideLayout() throws {
        let timeline = ["replay", "captures/experiments/client-close.pcap", "--color", "never"]
        let summary = ["replay", "--summary", "captures/real/many-connections.pcap", "--color", "never"]
        for args in [timeline, summary] {
            let (status, output) = try Self.onTerminal(columns: 200, [args])
            #expect(status == 0)
            let piped = try CLI.run(args)
            #expect(output == piped.stdout, "\(lineDiff(piped.stdout, output))")
        }
    }

    /// Not a terminal and no COLUMNS: the wide layout (the goldens'); COLUMNS=80 in a pipe, or
    /// --width 80, the compact one; --width below 40 refused.
    @Test func pipesKeepTheWideLayoutUnlessAWidthIsGiven() throws {
        let capture = "captures/experiments/client-close.pcap"
        let piped = try CLI.run(["replay", capture])
        #expect(piped.stdout == (try String(contentsOf: CLI.packageRoot.appendingPathComponent("captures/experiments/client-close.timeline.txt"), encoding: .utf8)))
        #expect(Self.overlong(piped.stdout, 80).count > 20)
        let forced = try CLI.run(["replay", capture, "--width", "80"])
        #expect(Self.overlong(forced.stdout, 80).isEmpty)
        #expect(forced.stdout != piped.stdout)
        let columns = try CLI.run(["replay", capture], environment: ["COLUMNS": "80"])
        #expect(columns.stdout == forced.stdout)
        let narrow = try CLI.run(["replay", capture, "--width", "20"])
        #expect(narrow.status == 64)
        #expect(narrow.stderr.contains("--width must be at least 40"))
    }

    /// The compact layouts, read: a timeline with socket calls, kernel rows, a fold and notes,
    /// and a summary of several files (three lines a connection: the label wraps).
    @Test func compactGoldens() throws {
        let timeline = try CLI.run(["replay", "captures/experiments/linger-zero-30k.pcap", "--width", "80"])
        #expect(timeline.status == 0)
        expectGolden(timeline.stdout, path: "Tests/TeardownCLITests/Goldens/linger-zero-30k.width80.txt")
        let summary = try CLI.run(["replay", "--summary", "captures/real/close-unread-data.pcap",
                                   "captures/real/many-connections.pcap", "captures/real/ipv6-graceful.pcap", "--width", "80"])
        #expect(summary.status == 0)
        expectGolden(summary.stdout, path: "Tests/TeardownCLITests/Goldens/summary.width80.txt")
    }
}
