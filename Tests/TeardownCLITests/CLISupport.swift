import Foundation
import Testing

/// Runs the built `teardown` binary (it sits beside the test bundle in the build directory).
struct CLI {
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static var binary: URL {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // Swift Testing on Linux runs `<build>/teardownPackageTests.xctest`; the tool is `<build>/teardown`.
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("teardown")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return packageRoot.appendingPathComponent(".build/debug/teardown")
    }

    /// A copy of the binary that `nobody` can execute, for the tests that run it through
    /// `runuser -u nobody` as root: the build directory may sit under a folder only its owner
    /// can enter (root's home is mode 0700), where `nobody` is refused the binary itself.
    /// Made once per test process in a mode-0755 directory of its own under /tmp.
    static func binaryNobodyCanRun() throws -> String {
        let dir = "/tmp/teardown-tests-\(getpid())"
        let copy = dir + "/teardown"
        if FileManager.default.isExecutableFile(atPath: copy) { return copy }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        chmod(dir, 0o755)
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: binary.path, toPath: copy)
        chmod(copy, 0o755)
        return copy
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The executable and arguments that run `teardown args...`, through `wrapper` (a command
    /// that ends by running its arguments, like `unshare -m`) when one is given.
    static func command(_ args: [String], through wrapper: [String]) -> (URL, [String]) {
        guard let first = wrapper.first else { return (binary, args) }
        return (URL(fileURLWithPath: first), wrapper.dropFirst() + [binary.path] + args)
    }

    /// Runs `teardown args...` in the package root with NO_COLOR unset and stdin from `input`
    /// (through `wrapper`, see `command`).
    @discardableResult
    static func run(_ args: [String], stdin input: Data? = nil, environment: [String: String] = [:],
                    through wrapper: [String] = []) throws -> Result {
        let p = Process()
        (p.executableURL, p.arguments) = command(args, through: wrapper)
        p.currentDirectoryURL = packageRoot
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "NO_COLOR")
        env.removeValue(forKey: "COLUMNS")   // the wide layout, whatever the shell that ran the tests had
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = Pipe(), err = Pipe(), inp = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = inp
        try p.run()
        if let input { inp.fileHandleForWriting.write(input) }
        try inp.fileHandleForWriting.close()
        let (outData, errData) = readToEnd(out, err)
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Runs the shell command line `command` on a pseudo-terminal made by util-linux's
    /// script(1) (TERM=xterm; NO_COLOR and COLUMNS unset), in the package root: its status, what
    /// the terminal showed (its CR LF line ends as they are), and how long it took.
    static func onTerminal(_ command: String) throws -> (status: Int32, shown: String, seconds: Double) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        p.arguments = ["-qec", command, "/dev/null"]
        p.currentDirectoryURL = packageRoot
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "COLUMNS")
        env.removeValue(forKey: "NO_COLOR")
        env["TERM"] = "xterm"
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        let start = Date()
        try p.run()
        let (data, _) = readToEnd(out, err)
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self), Date().timeIntervalSince(start))
    }

    /// `s` quoted for the shell.
    static func shellQuoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    static var scriptMissing: Bool { !FileManager.default.isExecutableFile(atPath: "/usr/bin/script") }

    /// Reads a child's standard output and standard error to their ends, both at once, so that
    /// a large output on one cannot block the child while the other is read.
    static func readToEnd(_ out: Pipe, _ err: Pipe) -> (stdout: Data, stderr: Data) {
        final class Box: @unchecked Sendable { var data = Data() }   // written once, read after the wait
        let errBox = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { errBox.data = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        return (outData, errBox.data)
    }

    /// The endings of capture files: pcap, pcapng, and either compressed.
    static let captureSuffixes = [".pcap", ".pcapng", ".gz", ".zst", ".lz4"]

    /// Every capture under captures/ (pcap and pcapng, compressed or not), relative to the
    /// package root, sorted.
    static func captures(under sub: String = "captures") -> [String] {
        let root = packageRoot.appendingPathComponent(sub)
        guard let e = FileManager.default.enumerator(atPath: root.path) else { return [] }
        var out: [String] = []
        for case let f as String in e where captureSuffixes.contains(where: { f.hasSuffix($0) }) && !f.hasPrefix("malformed/") {
            out.append(sub + "/" + f)
        }
        return out.sorted()
    }
}

/// Compares `actual` with the golden file at `path` (relative to the package root). With
/// TEARDOWN_UPDATE_GOLDENS=1 the golden is written instead; read it before committing it.
func expectGolden(_ actual: String, path: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let url = CLI.packageRoot.appendingPathComponent(path)
    if ProcessInfo.processInfo.environment["TEARDOWN_UPDATE_GOLDENS"] == "1" {
        try? actual.write(to: url, atomically: true, encoding: .utf8)
        return
    }
    guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
        Issue.record("missing golden \(path); run with TEARDOWN_UPDATE_GOLDENS=1 and read the result", sourceLocation: sourceLocation)
        return
    }
    if expected != actual {
        Issue.record("output differs from \(path):\n\(lineDiff(expected, actual))", sourceLocation: sourceLocation)
    }
}

/// A readable line diff: the first differing lines with a little context.
func lineDiff(_ a: String, _ b: String) -> String {
    let x = a.split(separator: "\n", omittingEmptySubsequences: false)
    let y = b.split(separator: "\n", omittingEmptySubsequences: false)
    var out: [String] = []
    var shown = 0
    for i in 0..<max(x.count, y.count) where shown < 12 {
        let l = i < x.count ? String(x[i]) : "<end>"
        let r = i < y.count ? String(y[i]) : "<end>"
        if l != r {
            out.append("line \(i + 1):\n  - \(l)\n  + \(r)")
            shown += 1
        }
    }
    return out.joined(separator: "\n")
}
