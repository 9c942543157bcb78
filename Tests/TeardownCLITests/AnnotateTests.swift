import Foundation
import Testing

/// `replay --annotate OUT.pcapng`: the capture written back as pcapng with teardown's comments,
/// read back by tshark. Every comment is compared with what teardown's own JSON output for the
/// same input says about that packet (nothing hard-coded), every packet without one must have
/// none, and each packet's bytes, lengths, time and interface must be the input's.
@Suite struct AnnotateTests {
    static var tshark: String? { WiresharkAgreementTests.tshark }

    static var capinfos: String? {
        for p in ["/usr/bin/capinfos", "/usr/local/bin/capinfos"] where FileManager.default.isExecutableFile(atPath: p) { return p }
        return nil
    }

    /// pcap in microseconds and nanoseconds, several link types (raw IP: LINKTYPE 101, libpcap's
    /// DLT 12), socket calls and the kernel lane beside the capture, diagnoses, pcapng with two
    /// interfaces (Ethernet and raw IP, 10^-9 s and 2^-20 s with offsets), two sections, a
    /// big-endian section, an interface of a link type teardown does not read, blocks teardown
    /// skips, and gzip, zstd and LZ4 inputs.
    static let inputs = [
        "captures/crafted/fin-rst.pcap",
        "captures/crafted/rst-in-window.pcap",
        "captures/crafted/rst-in-time-wait.pcap",
        "captures/paths/middlebox-reset.pcap",
        "captures/experiments/linger-zero-30k.pcap",
        "captures/kernel/close-unread.pcap",
        "captures/linktypes/raw.pcap",
        "captures/linktypes/linux-sll2.pcap",
        "captures/files/multi-interface.pcapng",
        "captures/files/two-sections.pcapng",
        "captures/files/big-endian.pcapng",
        "captures/files/unsupported-interface.pcapng",
        "captures/malformed/unknown-block.pcapng",
        "captures/files/two-sections.pcapng.gz",
        "captures/files/many-connections.pcap.zst",
        "captures/files/many-connections.pcap.lz4",
    ]

    @Test(arguments: inputs)
    func annotated_commentsWhereJSONSaysAndPacketsIdentical(_ input: String) throws {
        guard let tshark = AnnotateTests.tshark else {
            print("skipping: tshark is not installed (apt-get install tshark)")
            return
        }
        let out = try AnnotateTests.temporary("annotated.pcapng")
        let r = try CLI.run(["replay", input, "--format", "json", "--annotate", out])
        #expect(r.status == 0, "\(r.stderr)")
        let records = try AnnotateTests.records(r.stdout)
        let expected = AnnotateTests.expectedComments(records)
        #expect(!expected.isEmpty)
        let frames = try AnnotateTests.comments(tshark, out)
        let inputFrames = try AnnotateTests.comments(tshark, input)
        #expect(frames.count == inputFrames.count, "\(input): \(frames.count) frames written of \(inputFrames.count)")
        #expect(r.stderr.contains("wrote \(out): \(AnnotateTests.thousands(frames.count)) packet"), "\(r.stderr)")
        for (number, comments) in frames.sorted(by: { $0.key < $1.key }) {
            let own = comments.filter { !(inputFrames[number] ?? []).contains($0) }
            #expect(own == expected[number].map { [$0] } ?? [], "\(input) packet \(number)")
        }
        // Bytes, lengths, times, link types and interfaces, as tshark reads them.
        // (tshark gives a pcap file's packets interface 0 or none, depending on how it reads it.)
        let fields = ["frame.number", "frame.time_epoch", "frame.len", "frame.cap_len", "frame.encap_type"]
            + (input.contains(".pcapng") ? ["frame.interface_id"] : [])
        #expect(try AnnotateTests.tsharkText(tshark, input, fields: fields) == AnnotateTests.tsharkText(tshark, out, fields: fields))
        #expect(try AnnotateTests.tsharkText(tshark, input, hex: true) == AnnotateTests.tsharkText(tshark, out, hex: true))
        if let capinfos = AnnotateTests.capinfos {
            #expect(try AnnotateTests.interfaces(capinfos, input) == AnnotateTests.interfaces(capinfos, out), "\(input)")
        }
    }

    /// `frame.comment contains "teardown=abort"` finds the first packet of every connection
    /// whose teardown is an abort, and nothing else; `diagnosis=` finds the evidence packets.
    @Test func filterWithoutAPlugin() throws {
        guard let tshark = AnnotateTests.tshark else {
            print("skipping: tshark is not installed (apt-get install tshark)")
            return
        }
        for input in ["captures/files/many-connections.pcap.zst", "captures/paths/middlebox-reset.pcap"] {
            let out = try AnnotateTests.temporary("filter.pcapng")
            let r = try CLI.run(["replay", input, "--format", "json", "--no-events", "--annotate", out])
            #expect(r.status == 0, "\(r.stderr)")
            let records = try AnnotateTests.records(r.stdout)
            let aborts = records.filter { ($0["teardown"] as? String ?? "").hasPrefix("abort") }.map { $0["first_packet"] as! Int }
            let evidence = Set(records.flatMap { ($0["diagnoses"] as? [[String: Any]] ?? []).flatMap { $0["evidence"] as! [Int] } })
            let found = try AnnotateTests.numbers(tshark, out, filter: "frame.comment contains \"teardown=abort\"")
            #expect(found == aborts.sorted())
            let diagnosed = try AnnotateTests.numbers(tshark, out, filter: "frame.comment contains \"diagnosis=\"")
            #expect(diagnosed == evidence.sorted())
            if input.hasSuffix(".zst") { #expect(aborts.count > 0) } else { #expect(evidence.count > 0) }
        }
    }

    /// The comments do not depend on what is printed: `--summary` (which keeps no rows) writes
    /// the same file as JSON with every row.
    @Test func summaryWritesTheSameFileAsJSON() throws {
        let input = "captures/experiments/linger-zero-30k.pcap"
        let a = try AnnotateTests.temporary("summary.pcapng"), b = try AnnotateTests.temporary("json.pcapng")
        let r1 = try CLI.run(["replay", input, "--summary", "--annotate", a])
        let r2 = try CLI.run(["replay", input, "--format", "json", "--annotate", b])
        #expect(r1.status == 0 && r2.status == 0)
        #expect(r1.stdout.contains("abort-by-originator"))
        let x = try Data(contentsOf: URL(fileURLWithPath: a)), y = try Data(contentsOf: URL(fileURLWithPath: b))
        #expect(x == y && x.count > 1000)
    }

    /// Comments a pcapng file already has are kept, ours after them.
    @Test func existingCommentsKept() throws {
        guard let tshark = AnnotateTests.tshark, FileManager.default.isExecutableFile(atPath: "/usr/bin/editcap") else {
            print("skipping: tshark and editcap are not installed (apt-get install tshark)")
            return
        }
        let commented = try AnnotateTests.temporary("commented.pcapng")
        let e = Process()
        e.executableURL = URL(fileURLWithPath: "/usr/bin/editcap")
        e.arguments = ["-a", "1:first, with a comma", "-a", "5:fifth", CLI.packageRoot.path + "/captures/fixtures/graceful-client-close.pcapng", commented]
        e.standardError = Pipe()
        try e.run()
        e.waitUntilExit()
        #expect(e.terminationStatus == 0)
        let out = try AnnotateTests.temporary("kept.pcapng")
        let r = try CLI.run(["replay", commented, "--annotate", out])
        #expect(r.status == 0, "\(r.stderr)")
        let frames = try AnnotateTests.comments(tshark, out)
        #expect(frames[1]?.first == "first, with a comma")
        #expect(frames[1]?.count == 2 && frames[1]?.last?.hasPrefix("conn=1 teardown=graceful ") == true)
        #expect(frames[5] == ["fifth"])
    }

    /// With a filter, the file holds the packets teardown read, numbered as it numbers them.
    @Test func filterKeepsThePacketsRead() throws {
        guard let tshark = AnnotateTests.tshark else {
            print("skipping: tshark is not installed (apt-get install tshark)")
            return
        }
        let input = "captures/files/many-connections.pcap.zst"
        let out = try AnnotateTests.temporary("filtered.pcapng")
        let filter = "tcp port 58978 or tcp port 58982 or tcp port 8101"
        let r = try CLI.run(["replay", input, filter, "--format", "json", "--annotate", out])
        #expect(r.status == 0, "\(r.stderr)")
        let records = try AnnotateTests.records(r.stdout)
        let frames = try AnnotateTests.comments(tshark, out)
        let all = try AnnotateTests.comments(tshark, input)
        #expect(frames.count > 0 && frames.count < all.count)
        #expect(records.count > 2)
        let expected = AnnotateTests.expectedComments(records)
        #expect(expected.keys.allSatisfy { $0 <= frames.count })
        for (number, comments) in frames { #expect(comments == expected[number].map { [$0] } ?? [], "packet \(number)") }
    }

    @Test func badOutput_oneLineAndFailure() throws {
        let input = "captures/crafted/fin-rst.pcap"
        let r = try CLI.run(["replay", input, "--summary", "--annotate", "/nonexistent-directory/x.pcapng"])
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr == "teardown: /nonexistent-directory/x.pcapng: cannot write: No such file or directory\n")
        // The input itself is refused, and left as it was.
        let copy = try AnnotateTests.temporary("self.pcap")
        try FileManager.default.copyItem(atPath: CLI.packageRoot.path + "/" + input, toPath: copy)
        let before = try Data(contentsOf: URL(fileURLWithPath: copy))
        let s = try CLI.run(["replay", copy, "--annotate", copy])
        #expect(s.status == 1)
        #expect(s.stderr == "teardown: \(copy): is the capture being read; name another file to write\n")
        #expect(try Data(contentsOf: URL(fileURLWithPath: copy)) == before)
        // Standard input cannot be read twice; several files are not one capture.
        let t = try CLI.run(["replay", "-", "--annotate", copy])
        #expect(t.status == 64 && t.stderr.contains("--annotate reads its capture twice"))
        let u = try CLI.run(["replay", input, "captures/crafted/fin-rst.pcap", "--annotate", copy])
        #expect(u.status == 64 && u.stderr.contains("name one file"))
        // An input that cannot be read leaves no file behind.
        let gone = try AnnotateTests.temporary("never.pcapng")
        let v = try CLI.run(["replay", "captures/no-such-file.pcap", "--annotate", gone])
        #expect(v.status == 1 && !FileManager.default.fileExists(atPath: gone))
    }

    // MARK: what the JSON says

    /// JSON Lines with every time as an integer string of nanoseconds (a Double would round
    /// the ninth digit away, and with it which packet is nearest a call).
    static func records(_ text: String) throws -> [[String: Any]] {
        let exact = try NSRegularExpression(pattern: "\"(time|first_time|last_time)\":(\\d+)\\.(\\d{9})")
        return try text.split(separator: "\n").map { line in
            let s = String(line)
            let fixed = exact.stringByReplacingMatches(in: s, range: NSRange(s.startIndex..., in: s), withTemplate: "\"$1\":\"$2$3\"")
            return try #require(try JSONSerialization.jsonObject(with: Data(fixed.utf8)) as? [String: Any])
        }
    }

    /// The comment each packet must carry, built from the JSON records as docs/annotate.md
    /// describes them.
    static func expectedComments(_ records: [[String: Any]]) -> [Int: String] {
        var comments: [Int: String] = [:]
        for record in records {
            var parts: [Int: [String]] = [:]
            func add(_ n: Int, _ s: String) { if n > 0 { parts[n, default: []].append(s) } }
            func role(_ side: Any?) -> String { side as? String == "orig" ? "client" : "server" }
            var verdict = "teardown=\(record["teardown"]!) conn_state=\(record["conn_state"]!)"
            if let c = record["closed_by"] as? String { verdict += " closed_by=\(c == "both" ? "both" : role(c))" }
            if record["half_close"] as? Bool == true { verdict += " half_close=true" }
            add(record["first_packet"] as! Int, verdict)
            var marks: [(time: Int64, number: Int)] = []
            let events = record["events"] as? [[String: Any]] ?? []
            for e in events {
                switch e["type"] as! String {
                case "packet":
                    let n = e["number"] as! Int
                    marks.append((Int64(e["time"] as! String)!, n))
                    for t in e["transitions"] as! [[String: Any]] { add(n, "state=\(role(t["side"])):\(t["to"]!)") }
                    if let v = e["rst_validity"] as? String { add(n, "rst=\(v)") }
                    if let reason = e["kernel_reason"] as? String { add(n, "kernel_reason=\(logfmt(reason))") }
                    if let here = e["sent_by_this_host"] as? Bool { add(n, "sent_by_this_host=\(here)") }
                    for note in e["notes"] as! [[String: Any]] { add(n, "note=\(note["code"]!)") }
                case "fold":
                    marks.append((Int64(e["first_time"] as! String)!, e["first_number"] as! Int))
                    marks.append((Int64(e["last_time"] as! String)!, e["last_number"] as! Int))
                default:
                    break
                }
            }
            for d in record["diagnoses"] as? [[String: Any]] ?? [] {
                for n in d["evidence"] as! [Int] { add(n, "diagnosis=\(d["code"]!):\(d["confidence"]!)") }
            }
            for e in events where e["type"] as? String == "call" && !marks.isEmpty {
                let t = Int64(e["time"] as! String)!
                // The nearest packet; of two as near, the later.
                var best = marks[0]
                for m in marks.dropFirst() {
                    let d = abs(m.time - t), bestD = abs(best.time - t)
                    if d < bestD || (d == bestD && m.time > best.time) { best = m }
                }
                var text = "\(role(e["side"])) \(e["call"]!) = \(e["result"]!)"
                if let errno = e["errno"] as? String { text += " \(errno)" }
                add(best.number, "call=\(logfmt(text))")
            }
            for (n, list) in parts { comments[n] = "conn=\(record["index"]!) " + list.joined(separator: " ") }
        }
        return comments
    }

    static func logfmt(_ v: String) -> String {
        if !v.isEmpty && !v.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\\" }) { return v }
        return "\"" + v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    // MARK: what tshark reads

    /// Each packet's comments, as a list (tshark's JSON keeps them apart, commas and all), by
    /// teardown's packet number: Wireshark also shows some blocks that hold no packet (custom
    /// blocks) as frames, which have no encapsulation and which teardown does not count.
    static func comments(_ tshark: String, _ capture: String) throws -> [Int: [String]] {
        let data = try run(tshark, ["-n", "-r", capture, "-Y", "frame.encap_type", "-T", "json", "-e", "frame.comment"])
        let frames = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        var out: [Int: [String]] = [:]
        for (i, f) in frames.enumerated() {
            let layers = (f["_source"] as? [String: Any])?["layers"] as? [String: Any] ?? [:]
            out[i + 1] = layers["frame.comment"] as? [String] ?? []
        }
        return out
    }

    static func tsharkText(_ tshark: String, _ capture: String, fields: [String] = [], hex: Bool = false) throws -> String {
        var args = ["-n", "-r", capture]
        if hex { args += ["-x"] } else { args += ["-T", "fields"] + fields.flatMap { ["-e", $0] } }
        let text = String(decoding: try run(tshark, args), as: UTF8.self)
        #expect(!text.isEmpty)
        return text
    }

    static func numbers(_ tshark: String, _ capture: String, filter: String) throws -> [Int] {
        let text = String(decoding: try run(tshark, ["-n", "-r", capture, "-Y", filter, "-T", "fields", "-e", "frame.number"]), as: UTF8.self)
        return text.split(separator: "\n").compactMap { Int($0) }
    }

    /// capinfos' description of each interface (link type, snapshot length, time precision and
    /// resolution, packets), without the file's name.
    static func interfaces(_ capinfos: String, _ capture: String) throws -> String {
        let text = String(decoding: try run(capinfos, [capture]), as: UTF8.self)
        guard let r = text.range(of: "Interface #0 info:") else { return "" }
        return String(text[r.lowerBound...])
    }

    static func run(_ tool: String, _ args: [String]) throws -> Data {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        p.currentDirectoryURL = CLI.packageRoot
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let (data, _) = CLI.readToEnd(out, err)
        p.waitUntilExit()
        return data
    }

    static func temporary(_ name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("teardown-annotate-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name).path
    }

    static func thousands(_ n: Int) -> String {
        let f = NumberFormatter()
        f.numberStyle = .decimal
        f.groupingSeparator = ","
        return f.string(from: NSNumber(value: n)) ?? "\(n)"
    }
}
