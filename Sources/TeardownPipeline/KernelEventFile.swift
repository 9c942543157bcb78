import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TeardownKernel
import TeardownModel
import TeardownWire

/// NAME.kernel.jsonl: the kernel's events of a recording (the kernel lane), saved beside
/// NAME.pcap by `teardown run --save` and picked up by `replay`, so that a replay shows what the
/// run showed. The first line says what the file is and how its times were made:
///
///     {"teardown_kernel_events":1,"clock":"mono","offset_ns":…,"offset_uncertainty_ns":…,
///      "drift_ns":…,"traces_every_reset":true}
///
/// then one event a line, its time already on the packet clock (CLOCK_REALTIME, nanoseconds),
/// its 4-tuple as joined (`KernelJoin.resolved`), states, reasons and errnos as the kernel
/// numbers them (the reason's name as the recording kernel named it):
///
///     {"time_ns":…,"pid":0,"socket":"0xffff8881043fca00","src":"127.0.0.1:5001","dst":"127.0.0.1:43520",
///      "type":"send_reset","state":1,"reason":11,"reason_name":"TCP_ABORT_ON_CLOSE"}
///     … "type":"receive_reset"}
///     … "type":"state_change","from":1,"to":4,"protocol":6}
///     … "type":"error_report","errno":104,"protocol":6}
public enum KernelEventFile {
    /// The version this teardown writes and reads.
    public static let version = 1

    /// How the events' times were put on the packet clock (the first line).
    public struct Header: Sendable, Hashable {
        public var clock: String
        public var offsetNanoseconds: Int64
        public var offsetUncertaintyNanoseconds: Int64
        public var driftNanoseconds: Int64
        public var tracesEveryReset: Bool
        public init(clock: String, offsetNanoseconds: Int64, offsetUncertaintyNanoseconds: Int64, driftNanoseconds: Int64,
                    tracesEveryReset: Bool) {
            self.clock = clock; self.offsetNanoseconds = offsetNanoseconds
            self.offsetUncertaintyNanoseconds = offsetUncertaintyNanoseconds
            self.driftNanoseconds = driftNanoseconds; self.tracesEveryReset = tracesEveryReset
        }
    }

    /// The sidecar that belongs to a capture: `x.pcap` -> `x.kernel.jsonl`, if it exists.
    public static func sidecar(for capture: String) -> String? { CallLogFile.sidecar(for: capture, suffix: ".kernel.jsonl") }

    /// The name the sidecar of `capture` has (`x.pcap` -> `x.kernel.jsonl`), whether it exists
    /// or not; nil for standard output.
    public static func sidecarPath(for capture: String) -> String? { CallLogFile.sidecarPath(for: capture, suffix: ".kernel.jsonl") }

    public static func write(_ header: Header, _ events: [KernelEvent], to path: String) throws {
        var text = headerLine(header, drift: "\(header.driftNanoseconds)") + "\n"
        for e in events { text += line(e) + "\n" }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// The first line, with `drift` as the text of drift_ns.
    static func headerLine(_ header: Header, drift: String) -> String {
        "{\"teardown_kernel_events\":\(version),\"clock\":\(quoted(header.clock)),\"offset_ns\":\(header.offsetNanoseconds),"
            + "\"offset_uncertainty_ns\":\(header.offsetUncertaintyNanoseconds),\"drift_ns\":\(drift),"
            + "\"traces_every_reset\":\(header.tracesEveryReset)}"
    }

    /// A sidecar that cannot be written: the file and why.
    public struct WriteError: Error, CustomStringConvertible {
        public var path: String, message: String
        public var description: String { "\(path): \(message)" }
        init(_ path: String) { self.path = path; message = String(cString: strerror(errno)) }
    }

    /// A sidecar written as a capture goes (`live -w`): the header first, with drift_ns `null`
    /// padded to the width of any Int64 (JSON allows the spaces), then events as they are
    /// joined to printed connections, flushed each time; `finish` writes the drift measured at
    /// the end in the header's place. A session that dies leaves a readable file without it.
    public final class Appender {
        let fd: Int32
        let path: String
        /// Where drift_ns's value starts in the file.
        let driftOffset: Int
        static let driftWidth = 20

        public init(path: String, header: Header) throws {
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw WriteError(path) }
            self.fd = fd
            self.path = path
            let marker = "\u{1}"
            let text = headerLine(header, drift: marker)
            driftOffset = text.utf8.count - text.split(separator: marker)[1].utf8.count - 1
            let placeholder = "null" + String(repeating: " ", count: Self.driftWidth - 4)
            try put(text.replacingOccurrences(of: marker, with: placeholder) + "\n")
        }

        func put(_ text: String) throws {
            var bytes = Array(text.utf8)[...]
            while !bytes.isEmpty {
                let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw WriteError(path) }
                bytes = bytes.dropFirst(n)
            }
        }

        /// Appends `events`, one line each.
        public func append(_ events: [KernelEvent]) throws {
            guard !events.isEmpty else { return }
            try put(events.map { line($0) + "\n" }.joined())
        }

        /// Writes the drift measured at the end into the header and closes the file.
        public func finish(driftNanoseconds: Int64) throws {
            defer { close(fd) }
            let text = "\(driftNanoseconds)".padding(toLength: Self.driftWidth, withPad: " ", startingAt: 0)
            let n = Array(text.utf8).withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(driftOffset)) }
            guard n == Self.driftWidth else { throw WriteError(path) }
        }
    }

    static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    static func endpoint(_ e: Endpoint?) -> String {
        guard let e else { return "null" }
        return quoted(e.address.isIPv6 ? "[\(e.address)]:\(e.port)" : "\(e.address):\(e.port)")
    }

    static func line(_ e: KernelEvent) -> String {
        var s = "{\"time_ns\":\(e.time.nanoseconds),\"pid\":\(e.pid),\"socket\":"
            + (e.socket.map { quoted("0x" + String($0, radix: 16)) } ?? "null")
            + ",\"src\":\(endpoint(e.source)),\"dst\":\(endpoint(e.destination)),"
        func opt<T>(_ v: T?) -> String { v.map { "\($0)" } ?? "null" }
        switch e.kind {
        case .sendReset(let state, let reason):
            s += "\"type\":\"send_reset\",\"state\":\(opt(state?.rawValue)),\"reason\":\(opt(reason?.rawValue)),"
                + "\"reason_name\":\(reason?.name.map(quoted) ?? "null")"
        case .receiveReset:
            s += "\"type\":\"receive_reset\""
        case .stateChange(let from, let to, let proto):
            s += "\"type\":\"state_change\",\"from\":\(from.rawValue),\"to\":\(to.rawValue),\"protocol\":\(opt(proto))"
        case .errorReport(let errno, let proto):
            s += "\"type\":\"error_report\",\"errno\":\(errno),\"protocol\":\(opt(proto))"
        }
        return s + "}"
    }

    /// A line that cannot be read: the file, the line (1-based) and what was wrong.
    public struct ParseError: Error, CustomStringConvertible {
        public var path: String, line: Int, message: String
        public var description: String { "\(path): line \(line): \(message)" }
    }

    /// What a sidecar held: its header and the events read, and the first error if one stopped
    /// the reading (the events before it are kept).
    public struct Contents {
        public var header: Header
        public var events: [KernelEvent]
        public var error: ParseError?
        /// The lane the events make; a file read only in part vouches for no missing reset.
        public var lane: KernelLane {
            KernelLane(events: events, tracesEveryReset: header.tracesEveryReset && error == nil)
        }
    }

    /// Reads a sidecar. Throws when the file or its first line cannot be read; a bad event line
    /// ends the reading there (`Contents.error`).
    public static func read(_ path: String) throws -> Contents {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        guard let first = lines.first,
              let head = try? JSONSerialization.jsonObject(with: Data(first)) as? [String: Any] else {
            throw ParseError(path: path, line: 1, message: "not a teardown kernel-events file (no header object)")
        }
        guard let v = head["teardown_kernel_events"] as? NSNumber else {
            throw ParseError(path: path, line: 1, message: "not a teardown kernel-events file (no \"teardown_kernel_events\")")
        }
        guard v.intValue == version else {
            throw ParseError(path: path, line: 1, message: "version \(v) of the kernel-events format; this teardown reads version \(version)")
        }
        func int64(_ o: [String: Any], _ k: String) -> Int64? { (o[k] as? NSNumber)?.int64Value }
        guard let clock = head["clock"] as? String, let offset = int64(head, "offset_ns") else {
            throw ParseError(path: path, line: 1, message: "the header lacks \"clock\" or \"offset_ns\"")
        }
        let header = Header(clock: clock, offsetNanoseconds: offset,
                            offsetUncertaintyNanoseconds: int64(head, "offset_uncertainty_ns") ?? 0,
                            driftNanoseconds: int64(head, "drift_ns") ?? 0,
                            tracesEveryReset: (head["traces_every_reset"] as? Bool) ?? false)
        var contents = Contents(header: header, events: [], error: nil)
        for (n, raw) in lines.enumerated().dropFirst() {
            do {
                contents.events.append(try event(Data(raw), path: path, line: n + 1))
            } catch {
                contents.error = error as? ParseError ?? ParseError(path: path, line: n + 1, message: "\(error)")
                break
            }
        }
        return contents
    }

    static func event(_ raw: Data, path: String, line: Int) throws -> KernelEvent {
        func fail(_ m: String) -> ParseError { ParseError(path: path, line: line, message: m) }
        guard let o = (try? JSONSerialization.jsonObject(with: raw)) as? [String: Any] else { throw fail("not a JSON object") }
        func number(_ k: String) throws -> NSNumber {
            guard let v = o[k] as? NSNumber else { throw fail("missing or non-numeric \"\(k)\"") }
            return v
        }
        func optional(_ k: String) throws -> NSNumber? {
            if o[k] == nil || o[k] is NSNull { return nil }
            return try number(k)
        }
        func int32(_ k: String) throws -> Int32 {
            let v = try number(k).int64Value
            guard let x = Int32(exactly: v) else { throw fail("\"\(k)\" out of range: \(v)") }
            return x
        }
        func endpoint(_ k: String) throws -> Endpoint? {
            if o[k] == nil || o[k] is NSNull { return nil }
            guard let s = o[k] as? String, let e = CallLogFile.parseEndpoint(s) else { throw fail("\"\(k)\" is not an address:port") }
            return e
        }
        let time = try number("time_ns").int64Value
        var socket: UInt64?
        if let s = o["socket"] as? String {
            guard s.hasPrefix("0x"), let v = UInt64(s.dropFirst(2), radix: 16) else { throw fail("\"socket\" is not a hex address") }
            socket = v
        } else if o["socket"] != nil, !(o["socket"] is NSNull) {
            throw fail("\"socket\" is not a hex address")
        }
        func proto() throws -> UInt16? {
            guard let v = try optional("protocol") else { return nil }
            guard let p = UInt16(exactly: v.int64Value) else { throw fail("\"protocol\" out of range") }
            return p
        }
        let kind: KernelEvent.Kind
        switch o["type"] as? String {
        case "send_reset":
            let state = try optional("state").map { v throws -> KernelTCPState in
                guard let s = Int32(exactly: v.int64Value) else { throw fail("\"state\" out of range") }
                return KernelTCPState(rawValue: s)
            }
            let reason = try optional("reason").map { v throws -> RSTReason in
                guard let r = UInt32(exactly: v.int64Value) else { throw fail("\"reason\" out of range") }
                return RSTReason(rawValue: r, name: o["reason_name"] as? String)
            }
            kind = .sendReset(state: state, reason: reason)
        case "receive_reset":
            kind = .receiveReset
        case "state_change":
            kind = .stateChange(from: KernelTCPState(rawValue: try int32("from")), to: KernelTCPState(rawValue: try int32("to")),
                                protocol: try proto())
        case "error_report":
            kind = .errorReport(errno: try int32("errno"), protocol: try proto())
        case let other:
            throw fail(other.map { "unknown event type \"\($0)\"" } ?? "missing \"type\"")
        }
        return KernelEvent(time: Timestamp(nanoseconds: time), pid: try int32("pid"), kind: kind, socket: socket,
                           source: try endpoint("src"), destination: try endpoint("dst"))
    }
}
