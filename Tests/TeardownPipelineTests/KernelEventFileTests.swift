import Foundation
import Testing
import TeardownKernel
import TeardownModel
import TeardownWire
@testable import TeardownPipeline

/// NAME.kernel.jsonl: written and read back to the same events; a bad line names the file and
/// the line, and the events before it are kept.
@Suite struct KernelEventFileTests {
    static let client = Endpoint(address: IPAddress("127.0.0.1")!, port: 41832)
    static let server = Endpoint(address: IPAddress("::1")!, port: 5001)
    static let events: [KernelEvent] = [
        KernelEvent(time: Timestamp(nanoseconds: 1_796_476_165_870_549_791), pid: 7373,
                    kind: .stateChange(from: .close, to: .synSent, protocol: 6), socket: 0xffff_8881_043f_8940,
                    source: client, destination: server),
        KernelEvent(time: Timestamp(nanoseconds: 1_796_476_165_870_549_800), pid: 0,
                    kind: .sendReset(state: .closeWait, reason: RSTReason(rawValue: 11, name: "TCP_ABORT_ON_CLOSE")),
                    socket: 0, source: server, destination: client),
        KernelEvent(time: Timestamp(nanoseconds: 5), pid: -1, kind: .sendReset(state: nil, reason: nil), socket: nil,
                    source: nil, destination: nil),
        KernelEvent(time: Timestamp(nanoseconds: 6), pid: 2, kind: .receiveReset, socket: 1, source: client, destination: server),
        KernelEvent(time: Timestamp(nanoseconds: 7), pid: 2, kind: .errorReport(errno: 104, protocol: nil), socket: nil,
                    source: client, destination: server),
        KernelEvent(time: Timestamp(nanoseconds: 8), pid: 2, kind: .sendReset(state: KernelTCPState(rawValue: 99), reason: RSTReason(rawValue: 77, name: nil)),
                    socket: .max, source: client, destination: server),
    ]
    static let header = KernelEventFile.Header(clock: "mono", offsetNanoseconds: 1_796_402_738_192_326_387,
                                               offsetUncertaintyNanoseconds: 30, driftNanoseconds: -6, tracesEveryReset: true)

    static func temporary(_ text: String? = nil) throws -> String {
        let path = NSTemporaryDirectory() + "kernel-\(UUID().uuidString).kernel.jsonl"
        if let text { try text.write(toFile: path, atomically: true, encoding: .utf8) }
        return path
    }

    @Test func roundTrip() throws {
        let path = try Self.temporary()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try KernelEventFile.write(Self.header, Self.events, to: path)
        let back = try KernelEventFile.read(path)
        #expect(back.header == Self.header)
        #expect(back.events == Self.events)
        #expect(back.error == nil)
        #expect(back.lane == KernelLane(events: Self.events, tracesEveryReset: true))
    }

    /// Live's sidecar, written as connections are printed: the same file `write` makes, once the
    /// drift is written in at the end; readable before that too, without the drift.
    @Test func appender_writesWhatWriteWrites() throws {
        let path = try Self.temporary(), whole = try Self.temporary()
        defer { try? FileManager.default.removeItem(atPath: path); try? FileManager.default.removeItem(atPath: whole) }
        var unfinished = Self.header
        unfinished.driftNanoseconds = 0
        let file = try KernelEventFile.Appender(path: path, header: unfinished)
        try file.append(Array(Self.events.prefix(2)))
        try file.append([])
        let early = try KernelEventFile.read(path)
        #expect(early.header == unfinished && early.events == Array(Self.events.prefix(2)) && early.error == nil)
        try file.append(Array(Self.events.dropFirst(2)))
        try file.finish(driftNanoseconds: Self.header.driftNanoseconds)
        let back = try KernelEventFile.read(path)
        #expect(back.header == Self.header)
        #expect(back.events == Self.events)
        try KernelEventFile.write(Self.header, Self.events, to: whole)
        let spaced = try String(contentsOfFile: path, encoding: .utf8)
        #expect(spaced.replacingOccurrences(of: " ", with: "") == (try String(contentsOfFile: whole, encoding: .utf8)))
        for drift: Int64 in [.min, .max] {
            let f = try KernelEventFile.Appender(path: path, header: unfinished)
            try f.finish(driftNanoseconds: drift)
            #expect(try KernelEventFile.read(path).header.driftNanoseconds == drift)
        }
        #expect(throws: KernelEventFile.WriteError.self) { try KernelEventFile.Appender(path: "/nonexistent/x.kernel.jsonl", header: unfinished) }
    }

    @Test func aBadLineNamesTheFileAndLineAndKeepsWhatCameBefore() throws {
        let good = try Self.temporary()
        defer { try? FileManager.default.removeItem(atPath: good) }
        try KernelEventFile.write(Self.header, Self.events, to: good)
        var lines = try String(contentsOfFile: good, encoding: .utf8).split(separator: "\n").map(String.init)
        let cases: [(String, String)] = [
            ("{\"time_ns\":1,\"pid\":1,\"type\":\"close\"}", "unknown event type \"close\""),
            ("{\"time_ns\":1,\"pid\":1}", "missing \"type\""),
            ("{\"pid\":1,\"type\":\"receive_reset\"}", "missing or non-numeric \"time_ns\""),
            ("{\"time_ns\":1,\"pid\":1,\"src\":\"nowhere\",\"type\":\"receive_reset\"}", "\"src\" is not an address:port"),
            ("{\"time_ns\":1,\"pid\":99999999999,\"type\":\"receive_reset\"}", "\"pid\" out of range: 99999999999"),
            ("{\"time_ns\":1,\"pid\":1,\"socket\":\"ff\",\"type\":\"receive_reset\"}", "\"socket\" is not a hex address"),
            ("[1,2]", "not a JSON object"),
            ("{\"time_ns\":1,\"pid\":1,\"type\":\"send_reset\",\"reason\":-1}", "\"reason\" out of range"),
        ]
        for (bad, message) in cases {
            lines.insert(bad, at: 3)
            let path = try Self.temporary(lines.joined(separator: "\n") + "\n")
            defer { try? FileManager.default.removeItem(atPath: path) }
            lines.remove(at: 3)
            let back = try KernelEventFile.read(path)
            #expect(back.error?.description == "\(path): line 4: \(message)")
            #expect(back.events == Array(Self.events.prefix(2)), "the two events before line 4 are kept")
            #expect(back.lane.tracesEveryReset == false, "a file read in part vouches for no missing reset")
        }
    }

    @Test func aFileThatIsNotOneOrOfAnotherVersionIsRefused() throws {
        for (text, message) in [("", "not a teardown kernel-events file (no header object)"),
                                ("{\"a\":1}\n", "not a teardown kernel-events file (no \"teardown_kernel_events\")"),
                                ("{\"teardown_kernel_events\":2,\"clock\":\"mono\",\"offset_ns\":0}\n",
                                 "version 2 of the kernel-events format; this teardown reads version 1"),
                                ("{\"teardown_kernel_events\":1}\n", "the header lacks \"clock\" or \"offset_ns\"")] {
            let path = try Self.temporary(text)
            defer { try? FileManager.default.removeItem(atPath: path) }
            #expect(throws: KernelEventFile.ParseError.self) { try KernelEventFile.read(path) }
            do { _ = try KernelEventFile.read(path) } catch { #expect("\(error)" == "\(path): line 1: \(message)") }
        }
    }

    @Test func theSidecarIsFoundBesideTheCapture() throws {
        let dir = NSTemporaryDirectory() + "kernel-sidecar-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(KernelEventFile.sidecar(for: dir + "/x.pcap") == nil)
        FileManager.default.createFile(atPath: dir + "/x.kernel.jsonl", contents: Data())
        #expect(KernelEventFile.sidecar(for: dir + "/x.pcap") == dir + "/x.kernel.jsonl")
        #expect(KernelEventFile.sidecar(for: dir + "/x.pcapng") == dir + "/x.kernel.jsonl")
        #expect(KernelEventFile.sidecar(for: "-") == nil)
    }
}
