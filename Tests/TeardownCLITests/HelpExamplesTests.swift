import Foundation
import Testing

/// What `--help` and the README show can be run as shown: every bundled capture they name
/// exists (a help once named captures/linger-zero-unsent.pcap, which did not).
@Suite struct HelpExamplesTests {
    static func capturesNamed(in text: String) -> [String] {
        let pattern = try! NSRegularExpression(pattern: #"captures/[A-Za-z0-9_./-]+\.(pcapng|pcap)(\.gz|\.zst|\.lz4)?"#)
        return pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
            Range($0.range, in: text).map { String(text[$0]) }
        }
    }

    @Test(arguments: ["replay", "live", "run", "scenarios", "trace"])
    func helpNamesOnlyCapturesThatExist(_ command: String) throws {
        let r = try CLI.run([command, "--help"])
        guard r.status == 0 else {
            #expect(command == "trace", "\(command) --help: \(r.stderr)")   // a subcommand still to come
            return
        }
        for path in Self.capturesNamed(in: r.stdout) {
            #expect(FileManager.default.fileExists(atPath: CLI.packageRoot.appendingPathComponent(path).path),
                    "\(command) --help names \(path), which does not exist")
        }
    }

    @Test func readmeNamesOnlyCapturesThatExist() throws {
        let readme = try String(contentsOf: CLI.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let named = Self.capturesNamed(in: readme)
        #expect(!named.isEmpty)
        for path in named {
            #expect(FileManager.default.fileExists(atPath: CLI.packageRoot.appendingPathComponent(path).path),
                    "README.md names \(path), which does not exist")
        }
        #expect(Self.capturesNamed(in: "see captures/linger-zero-unsent.pcap.") == ["captures/linger-zero-unsent.pcap"])
    }
}
