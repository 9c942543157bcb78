import Foundation
import Testing

/// Golden-file comparison. Goldens live next to this file in `Goldens/`, found from
/// `#filePath` (Package.swift declares no resources). Run with `TEARDOWN_UPDATE_GOLDENS=1`
/// to (re)write them, then read every changed golden before committing it.
enum Golden {
    static var directory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Goldens")
    }

    static var updating: Bool { ProcessInfo.processInfo.environment["TEARDOWN_UPDATE_GOLDENS"] == "1" }

    static func check(_ actual: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let url = directory.appendingPathComponent(name)
        if updating {
            do {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                try actual.write(to: url, atomically: true, encoding: .utf8)
            } catch {
                Issue.record("could not write golden \(name): \(error)", sourceLocation: sourceLocation)
            }
            return
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            Issue.record("missing golden \(url.path); run with TEARDOWN_UPDATE_GOLDENS=1 to create it",
                         sourceLocation: sourceLocation)
            return
        }
        if expected != actual {
            let message: String = "golden \(name) differs (- golden, + actual; escapes shown as ⎋):\n"
                + diff(expected, actual)
                + "\nIf the change is intended: TEARDOWN_UPDATE_GOLDENS=1 swift test --filter TeardownRenderTests"
            Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
        }
    }

    /// A line diff (longest common subsequence) showing changed lines with two lines of context.
    static func diff(_ a: String, _ b: String) -> String {
        let x = a.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let y = b.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var lcs = [[Int]](repeating: [Int](repeating: 0, count: y.count + 1), count: x.count + 1)
        for i in stride(from: x.count - 1, through: 0, by: -1) {
            for j in stride(from: y.count - 1, through: 0, by: -1) {
                lcs[i][j] = x[i] == y[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
            }
        }
        var ops: [(Character, String)] = []
        var i = 0, j = 0
        while i < x.count || j < y.count {
            if i < x.count && j < y.count && x[i] == y[j] { ops.append((" ", x[i])); i += 1; j += 1 }
            else if i < x.count && (j == y.count || lcs[i + 1][j] >= lcs[i][j + 1]) { ops.append(("-", x[i])); i += 1 }
            else { ops.append(("+", y[j])); j += 1 }
        }
        // Show every changed line with two lines of context; "⋯" marks skipped runs.
        var shown = [Bool](repeating: false, count: ops.count)
        for (k, op) in ops.enumerated() where op.0 != " " {
            for c in max(0, k - 2)...min(ops.count - 1, k + 2) { shown[c] = true }
        }
        var out: [String] = []
        for (k, op) in ops.enumerated() {
            if shown[k] { out.append("\(op.0) " + visible(op.1)) }
            else if k > 0 && shown[k - 1] { out.append("  ⋯") }
        }
        return out.joined(separator: "\n")
    }

    static func visible(_ s: String) -> String { s.replacingOccurrences(of: "\u{1B}", with: "⎋") }
}
