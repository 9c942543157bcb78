import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Exits that tell the truth: a problem is one line naming the file and what is wrong, with a
/// non-zero status; an input that yields nothing says so instead of printing nothing.
@Suite struct ExitTests {
    static let sample = "captures/real/graceful-client-close.pcap"

    static func tmp(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("teardown-exits-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name).path
    }

    /// A negative number after an option is its value (then refused for what it is), not a
    /// "missing value" with the number taken for an option.
    @Test(arguments: [
        (["replay", "--idle-timeout", "-5", sample], "--idle-timeout must be a positive number of seconds."),
        (["replay", "--max-connections", "-1", sample], "--max-connections must be at least 1."),
        (["live", "-i", "lo", "--linger", "-1"], "--linger must be between 0 and 86400 seconds."),
        (["live", "-i", "lo", "--snaplen", "-100"], "--snaplen must be at least 64 bytes to hold the headers."),
        (["live", "-i", "lo", "--buffer-size", "4096"], "--buffer-size is in MiB and must be between 1 and 2047."),
        (["live", "-i", "lo", "-c", "-3"], "-c must be at least 1 packet."),
        (["live", "-i", "lo", "--duration", "-1"], "--duration must be a positive number of seconds."),
        (["live", "-i", "lo", "--duration", "nan"], "--duration must be a positive number of seconds."),
    ])
    func negativeNumbers_areValues_refusedByName(_ args: [String], _ message: String) throws {
        let r = try CLI.run(args)
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stderr.hasPrefix("Error: \(message)\n"), "\(r.stderr)")
        #expect(!r.stderr.contains("Missing value"))
        #expect(r.stdout.isEmpty)
    }

    @Test(arguments: [["--no-color"], ["--format", "json"], ["--format", "zeek"]])
    func filterMatchingNothing_saysSo(_ format: [String]) throws {
        let r = try CLI.run(["replay", ExitTests.sample, "tcp port 9"] + format)
        #expect(r.status == 0)
        #expect(r.stderr == "teardown: warning: \(ExitTests.sample): no packet matched the filter 'tcp port 9'\n")
        if format.first == "--no-color" || format.last == "json" { #expect(r.stdout.isEmpty) }
        // The same file and filter that match do not say it.
        let matching = try CLI.run(["replay", ExitTests.sample, "tcp port 8001"] + format)
        #expect(!matching.stderr.contains("no packet matched"), "\(matching.stderr)")
        #expect(!matching.stdout.isEmpty)
    }

    /// With several files the line is said once, and only when no file had a matching packet.
    @Test(arguments: [["--summary"], ["--format", "zeek"]])
    func filterMatchingNothing_inSeveralFiles_oneLine(_ format: [String]) throws {
        let other = "captures/real/refused.pcap"
        let none = try CLI.run(["replay", ExitTests.sample, other, "tcp port 9"] + format)
        #expect(none.status == 0)
        #expect(none.stderr == "teardown: warning: no packet matched the filter 'tcp port 9' in any of the 2 files\n")
        let one = try CLI.run(["replay", ExitTests.sample, other, "tcp port 8001"] + format)
        #expect(one.status == 0)
        #expect(one.stderr.isEmpty, "\(one.stderr)")
    }

    @Test func captureWithNoPackets_saysSo() throws {
        let full = try Data(contentsOf: CLI.packageRoot.appendingPathComponent(ExitTests.sample))
        let path = ExitTests.tmp("empty.pcap")
        try full.prefix(24).write(to: URL(fileURLWithPath: path))
        let r = try CLI.run(["replay", path])
        #expect(r.status == 0)
        #expect(r.stderr == "teardown: warning: \(path): the capture holds no packets\n")
        #expect(r.stdout.isEmpty)
    }

    /// Cut inside its first packet record, a file has nothing to report: an error and status
    /// 1, in every format (a file cut later keeps status 0 and its earlier packets: see
    /// ReplayErrorTests).
    @Test(arguments: [["--no-color"], ["--summary"], ["--format", "zeek"]])
    func cutInsideTheFirstPacket_exit1(_ format: [String]) throws {
        let full = try Data(contentsOf: CLI.packageRoot.appendingPathComponent(ExitTests.sample))
        let path = ExitTests.tmp("cut-first-\(format.joined(separator: "_")).pcap")
        try full.prefix(24 + 16 + 20).write(to: URL(fileURLWithPath: path))
        let r = try CLI.run(["replay", path] + format)
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.hasPrefix("teardown: \(path): packet 1: file ends in the middle of a packet record"), "\(r.stderr)")
        #expect(r.stderr.hasSuffix("; no packet in the file could be read\n"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(!r.stderr.contains("the 0 packets"))
        // With a second, good file the good one is still reported, and the status says one failed.
        let both = try CLI.run(["replay", path, ExitTests.sample, "--format", "json", "--no-events"])
        #expect(both.status == 1)
        #expect(both.stdout.split(separator: "\n").count == 1)
    }

    /// `run --save` checks its directory before any experiment runs (so these need no root):
    /// a file of that name, or a missing parent, is one line and status 1, and nothing is made.
    @Test func runSave_badDirectory_oneLine_exit1() throws {
        let file = ExitTests.tmp("not-a-directory")
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        let onFile = try CLI.run(["run", "close-unread", "--save", file])
        #expect(onFile.status == 1, "\(onFile.stderr)")
        #expect(onFile.stderr == "teardown: --save \(file): exists and is not a directory\n")

        let parent = ExitTests.tmp("missing-\(UInt32.random(in: 0...UInt32.max))")
        let deep = parent + "/dir"
        let missing = try CLI.run(["run", "close-unread", "--save", deep])
        #expect(missing.status == 1, "\(missing.stderr)")
        #expect(missing.stderr == "teardown: --save \(deep): \(parent) does not exist (make it first, or name an existing directory)\n")
        #expect(!FileManager.default.fileExists(atPath: parent))
        #expect(!missing.stderr.contains("NSCocoaErrorDomain"))
    }
}
