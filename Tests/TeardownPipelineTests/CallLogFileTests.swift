import Foundation
import Testing
import TeardownModel
import TeardownPipeline
import TeardownRender
import TeardownWire

/// NAME.events.jsonl, the socket calls beside a recording.
@Suite struct CallLogFileTests {
    @Test func callLogLine_roundTrips() throws {
        let c = RecordedCall(time: Timestamp(nanoseconds: 1_700_000_000_123_456_789), durationNanoseconds: 1234, pid: 42, fd: 7,
                             local: Endpoint(address: IPAddress("::1")!, port: 5000), remote: Endpoint(address: IPAddress("::1")!, port: 40000),
                             actor: "server", call: "read(1024)", result: -1, errno: "ECONNRESET", bytes: 0, kind: .read)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("td-calls-\(getpid()).jsonl").path
        try CallLogFile.write([c], to: path)
        #expect(try CallLogFile.read(path) == [c])
    }

    @Test func callLog_badLine_namesFileAndLine() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("td-bad-\(getpid()).jsonl").path
        try "{\"time_ns\": 1}\nnot json\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect { _ = try CallLogFile.read(path) } throws: { e in "\(e)".hasPrefix(path + ": line 1: ") }
    }

    @Test func endpointText_parses() {
        #expect(CallLogFile.parseEndpoint("127.0.0.1:80") == Endpoint(address: IPAddress("127.0.0.1")!, port: 80))
        #expect(CallLogFile.parseEndpoint("[::1]:443") == Endpoint(address: IPAddress("::1")!, port: 443))
        #expect(CallLogFile.parseEndpoint("nonsense") == nil)
    }

    /// Every sidecar in captures/ read and written again gives back its bytes: the format
    /// `run --save` writes is the one the recordings were saved in.
    @Test func everyBundledSidecar_isWrittenBackByteForByte() throws {
        let dir = PipelineTests.root + "/captures/experiments"
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".events.jsonl") }.sorted()
        #expect(names.count > 10)
        for name in names {
            let path = dir + "/" + name
            let calls = try CallLogFile.read(path)
            let copy = FileManager.default.temporaryDirectory.appendingPathComponent("td-sidecar-\(getpid())-\(name)").path
            defer { try? FileManager.default.removeItem(atPath: copy) }
            try CallLogFile.write(calls, to: copy)
            #expect(try Data(contentsOf: URL(fileURLWithPath: copy)) == Data(contentsOf: URL(fileURLWithPath: path)), "\(name)")
        }
    }

    /// A capture's sidecar is found beside it, by name, and standard input has none.
    @Test func sidecar_isFoundBesideItsCapture() {
        let dir = PipelineTests.root + "/captures/experiments"
        #expect(CallLogFile.sidecar(for: dir + "/linger-zero.pcap") == dir + "/linger-zero.events.jsonl")
        #expect(CallLogFile.sidecar(for: PipelineTests.root + "/captures/real/refused.pcap") == nil)
        #expect(CallLogFile.sidecar(for: "-") == nil)
    }
}
