import Foundation
import TeardownModel
import TeardownRender
import TeardownWire

/// NAME.events.jsonl: the socket calls of a recording, one JSON object per line
/// (`JSONLinesRenderer.render(_:)` for a call), saved beside NAME.pcap by `teardown run --save`
/// and picked up by `replay`.
public enum CallLogFile {
    /// The sidecar that belongs to a capture: `x.pcap` -> `x.events.jsonl`.
    public static func sidecar(for capture: String) -> String? { sidecar(for: capture, suffix: ".events.jsonl") }

    /// Where the sidecar of `capture` goes, whether it exists or not (none for standard input).
    public static func sidecarPath(for capture: String) -> String? { sidecarPath(for: capture, suffix: ".events.jsonl") }

    /// The file beside `capture` whose name replaces its .pcap/.pcapng with `suffix`, if it
    /// exists (none for standard input).
    static func sidecar(for capture: String, suffix: String) -> String? {
        guard let path = sidecarPath(for: capture, suffix: suffix) else { return nil }
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// The name of the file beside `capture` whose name replaces its .pcap/.pcapng with
    /// `suffix`, whether it exists or not (none for standard input).
    static func sidecarPath(for capture: String, suffix: String) -> String? {
        guard capture != "-" else { return nil }
        var base = capture
        for ext in [".pcapng", ".pcap"] where base.hasSuffix(ext) { base.removeLast(ext.count); break }
        return base + suffix
    }

    /// Writes `calls` to `path`, one line each.
    public static func write(_ calls: [RecordedCall], to path: String) throws {
        let text = calls.map(JSONLinesRenderer.render).joined(separator: "\n") + (calls.isEmpty ? "" : "\n")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    public struct ParseError: Error, CustomStringConvertible {
        public var path: String, line: Int, message: String
        public var description: String { "\(path): line \(line): \(message)" }
    }

    public static func read(_ path: String) throws -> [RecordedCall] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var out: [RecordedCall] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            guard let obj = try? JSONSerialization.jsonObject(with: Data(raw.utf8)) as? [String: Any] else {
                throw ParseError(path: path, line: n + 1, message: "not a JSON object")
            }
            func int(_ k: String) throws -> Int64 {
                guard let v = obj[k] as? NSNumber else { throw ParseError(path: path, line: n + 1, message: "missing or non-numeric \"\(k)\"") }
                return v.int64Value
            }
            func str(_ k: String) throws -> String {
                guard let v = obj[k] as? String else { throw ParseError(path: path, line: n + 1, message: "missing \"\(k)\"") }
                return v
            }
            out.append(RecordedCall(
                time: Timestamp(nanoseconds: try int("time_ns")), durationNanoseconds: try int("duration_ns"),
                pid: Int32(truncatingIfNeeded: try int("pid")), fd: Int32(truncatingIfNeeded: try int("fd")),
                local: (obj["local"] as? String).flatMap(parseEndpoint), remote: (obj["remote"] as? String).flatMap(parseEndpoint),
                actor: try str("actor"), call: try str("call"), result: try int("result"),
                errno: obj["errno"] as? String, bytes: try int("bytes"),
                kind: RecordedCall.Kind(rawValue: (obj["kind"] as? String) ?? "other") ?? .other,
                socket: (obj["socket"] as? NSNumber)?.intValue))
        }
        return out
    }

    /// `127.0.0.1:80` or `[::1]:80`.
    public static func parseEndpoint(_ s: String) -> Endpoint? {
        guard let colon = s.lastIndex(of: ":"), let port = UInt16(s[s.index(after: colon)...]) else { return nil }
        var host = String(s[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return IPAddress(host).map { Endpoint(address: $0, port: port) }
    }
}
