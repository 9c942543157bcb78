import Foundation
import Testing
import TeardownCapture
@testable import TeardownDriver
import TeardownKernel
import TeardownModel
import TeardownPipeline
import TeardownWire

/// The everyday case of issue 14: `curl` against `python3 -m http.server` on loopback. The
/// server (HTTP/1.0) shuts its side down after each response while curl closes as soon as it has
/// read the body, so some connections close simultaneously (the kernel traces CLOSING on both
/// sockets) and some do not. In a private network namespace, with packets and the kernel lane
/// recorded as `run` records them, every connection's inferred states must agree with the
/// kernel's (state_oracle: agree == seen, nothing kernel-only or inferred-only), and the
/// connections the kernel takes through CLOSING on both sides must be exactly those teardown
/// classifies as simultaneous-close. Needs root, tracefs, curl and python3; says which is
/// missing when it skips. TEARDOWN_SAVE_CURL=DIR keeps the recording as
/// DIR/curl-http-server.{pcap,kernel.jsonl}.
@Suite(.serialized) struct CurlHTTPServerTests {
    static let requests = 30

    static func executable(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    struct Recording {
        var packets: [StoredPacket]
        var linkType: LinkType
        var recording: KernelRecording?
        var why: String?
        var port: UInt16
    }

    /// Serves a directory with one small file on 127.0.0.1:`port` inside a new namespace and
    /// fetches it `requests` times with curl, one after the other, recording all of it.
    static func record(curl: String, python: String, port: UInt16) throws -> Recording {
        try Netns.withNew {
            let root = NSTemporaryDirectory() + "td-curl-\(getpid())"
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: root) }
            try Data(repeating: UInt8(ascii: "x"), count: 512).write(to: URL(fileURLWithPath: root + "/index.txt"))

            let capture = try CaptureSession(interface: "lo")
            let trace = KernelTrace.start()
            // Processes spawned from this thread are in its namespace.
            let server = Process()
            server.executableURL = URL(fileURLWithPath: python)
            server.arguments = ["-u", "-m", "http.server", "--bind", "127.0.0.1", "--directory", root, String(port)]
            server.standardOutput = FileHandle.nullDevice
            server.standardError = FileHandle.nullDevice
            try server.run()
            // SIGKILL: spawned from the test process, the server did not die of SIGTERM (a child
            // inherits its parent's blocked and ignored signals).
            let stopServer = { if server.isRunning { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() } }
            defer { stopServer() }
            // Ready when its socket listens (this thread's /proc/net/tcp is the namespace's), so
            // no request meets a closed port; no packet is sent to find out.
            let listening = String(format: "0100007F:%04X 00000000:0000 0A", port)
            for _ in 0..<500 where server.isRunning {
                if let table = try? String(contentsOfFile: "/proc/thread-self/net/tcp", encoding: .utf8), table.contains(listening) { break }
                usleep(10_000)
            }
            for _ in 0..<requests {
                let c = Process()
                c.executableURL = URL(fileURLWithPath: curl)
                c.arguments = ["-s", "-o", "/dev/null", "--http1.0", "http://127.0.0.1:\(port)/index.txt"]
                c.standardError = FileHandle.nullDevice
                try c.run()
                c.waitUntilExit()
            }
            stopServer()
            let packets = capture.stop()
            switch trace {
            case .success(let t): return Recording(packets: packets, linkType: capture.linkType, recording: t.stop(), why: nil, port: port)
            case .failure(let why): return Recording(packets: packets, linkType: capture.linkType, recording: nil, why: "\(why)", port: port)
            }
        }
    }

    @Test func curlAgainstHTTPServer_theKernelTellsSimultaneousClosesApart() throws {
        guard geteuid() == 0 else {
            print("skipping curl against http.server: needs root for a network namespace, capture and tracefs (CI runs as root)")
            return
        }
        guard let curl = Self.executable("curl"), let python = Self.executable("python3") else {
            print("skipping curl against http.server: \(Self.executable("curl") == nil ? "curl" : "python3") is not installed")
            return
        }
        let rec = try Self.record(curl: curl, python: python, port: 8000)
        guard let recording = rec.recording else {
            print("skipping curl against http.server: no kernel lane: \(rec.why ?? "?")")
            return
        }
        var records = Runner.analyse(rec.packets, linkType: rec.linkType, calls: [])
        let lane = KernelLane(events: KernelJoin.relevant(recording.events, to: records), tracesEveryReset: recording.tracesEveryReset)
        records = KernelJoin.attach(lane, to: records)
        #expect(records.count == Self.requests, "one connection per request")

        var simultaneous = 0, ordinary = 0, seen = 0, agree = 0
        for r in records {
            #expect(r.resp.endpoint.port == rec.port)
            let checks = try #require(r.kernelStates, "connection \(r.index) has the kernel's states")
            for side in Side.allCases {
                let c = try #require(checks[side], "connection \(r.index): the kernel traced its \(side) socket")
                seen += c.seen
                agree += c.agree
                #expect(c.agrees && c.seen == c.agree,
                        "connection \(r.index) \(side): kernel only \(c.kernelOnly), inferred only \(c.inferredOnly)")
            }
            let closing = Side.allCases.filter { side in
                (r.kernelEvents ?? []).contains { row in
                    if case .stateChange(_, .closing, _) = row.event.kind { return row.side == side }
                    return false
                }
            }
            let kernelSimultaneous = closing.count == 2
            #expect(kernelSimultaneous == (r.teardown.kind == .simultaneousClose),
                    "connection \(r.index): the kernel took \(closing.count) sockets through CLOSING, teardown says \(r.teardown.name)")
            if kernelSimultaneous { simultaneous += 1 } else { ordinary += 1 }
        }
        print("curl against http.server: \(records.count) connections, \(simultaneous) closed simultaneously (CLOSING on both sides), "
              + "\(ordinary) not; kernel transitions agreeing \(agree) of \(seen)")

        if let dir = ProcessInfo.processInfo.environment["TEARDOWN_SAVE_CURL"] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let pcap = dir + "/curl-http-server.pcap"
            let w = try PcapWriter(path: pcap, linkType: rec.linkType)
            for (i, p) in rec.packets.enumerated() {
                p.bytes.withUnsafeBytes { b in
                    w.write(CapturedPacket(time: p.time, bytes: b, originalLength: p.originalLength, number: i + 1, linkType: rec.linkType))
                }
            }
            w.close()
            let header = KernelEventFile.Header(clock: recording.clock, offsetNanoseconds: recording.offsetNanoseconds,
                                                offsetUncertaintyNanoseconds: recording.offsetUncertaintyNanoseconds,
                                                driftNanoseconds: recording.driftNanoseconds, tracesEveryReset: recording.tracesEveryReset)
            try KernelEventFile.write(header, lane.events, to: dir + "/curl-http-server.kernel.jsonl")
            print("saved \(pcap) and its kernel lane")
        }
    }
}
