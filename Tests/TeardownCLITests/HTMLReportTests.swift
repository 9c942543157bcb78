import Foundation
import Testing

/// `--format svg` and `--format html`, judged against the JSON output of the same captures: the
/// SVG parses as XML (python3's xml.etree) and draws one arrow per packet row; the page's data
/// holds every connection; and, where Chromium is installed, the page opened in it: every
/// connection reachable in the DOM, the filter leaving exactly the connections it fits, an
/// opened ladder with one arrow per packet, no console error.
@Suite struct HTMLReportTests {
    static var experiments: [String] {
        let dir = CLI.packageRoot.appendingPathComponent("captures/experiments").path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { $0.hasSuffix(".pcap") }.sorted().map { "captures/experiments/" + $0 }
    }

    static func json(_ files: [String]) throws -> [[String: Any]] {
        let r = try CLI.run(["replay"] + files + ["--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        return r.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    static func packetRows(_ record: [String: Any]) -> Int {
        (record["events"] as? [[String: Any]] ?? []).filter { $0["type"] as? String == "packet" }.count
    }

    static func foldRows(_ record: [String: Any]) -> Int {
        (record["events"] as? [[String: Any]] ?? []).filter { $0["type"] as? String == "fold" }.count
    }

    static func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "teardown-html-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Runs `python3 args...`: its status, standard output and standard error.
    static func python(_ args: [String]) throws -> (Int32, Data, Data) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3"] + args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let (o, e) = CLI.readToEnd(out, err)
        p.waitUntilExit()
        return (p.terminationStatus, o, e)
    }

    /// What python3's XML parser reads in `svg`: the root's tag and data-connection, the arrows
    /// (`g.pkt`) and the folds; nil when it cannot parse it (the error in `problem`).
    static func parseSVG(_ path: String) throws -> (root: String, connection: String, arrows: Int, folds: Int)? {
        let script = """
        import sys, json, xml.etree.ElementTree as ET
        root = ET.parse(sys.argv[1]).getroot()
        ns = '{http://www.w3.org/2000/svg}'
        gs = [g for g in root.iter(ns + 'g')]
        print(json.dumps([root.tag, root.get('data-connection'),
            sum(1 for g in gs if 'pkt' in g.get('class', '').split()),
            sum(1 for g in gs if g.get('class') == 'fold')]))
        """
        let (status, o, e) = try python(["-c", script, path])
        guard status == 0, let v = try JSONSerialization.jsonObject(with: o) as? [Any], v.count == 4 else {
            Issue.record("python3 could not parse \(path): \(String(decoding: e, as: UTF8.self))")
            return nil
        }
        return (v[0] as? String ?? "", v[1] as? String ?? "", v[2] as? Int ?? -1, v[3] as? Int ?? -1)
    }

    /// Every connection of every experiment (their first, middle and last, for the 20 of
    /// simultaneous-close): a standalone SVG that parses, names its connection, and has one
    /// arrow per packet row and one box per fold of the timeline.
    @Test func svg_parsesAndDrawsOneArrowPerPacket() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var drawn = 0, picked = 0
        for file in Self.experiments {
            let records = try Self.json([file])
            #expect(!records.isEmpty, "\(file)")
            let picks = Set([0, records.count / 2, records.count - 1].filter { $0 >= 0 && $0 < records.count })
            picked += picks.count
            for i in picks.sorted() {
                let index = records[i]["index"] as? Int ?? -1
                let out = dir + "/c.svg"
                let r = try CLI.run(["replay", file, "--format", "svg", "--connection", "\(index)", "-o", out])
                #expect(r.status == 0, "\(file) \(index): \(r.stderr)")
                let head = try String(contentsOfFile: out, encoding: .utf8).prefix(60)
                #expect(head.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns="), "\(head)")
                guard let svg = try Self.parseSVG(out) else { continue }
                #expect(svg.root == "{http://www.w3.org/2000/svg}svg")
                #expect(svg.connection == "\(index)")
                #expect(svg.arrows == Self.packetRows(records[i]), "\(file) connection \(index): arrows")
                #expect(svg.folds == Self.foldRows(records[i]), "\(file) connection \(index): folds")
                #expect(svg.arrows > 0)
                drawn += 1
            }
        }
        #expect(drawn == picked && drawn >= Self.experiments.count, "drew \(drawn) of \(picked) ladders")
    }

    /// The 4-tuple picks the same connection as its index, in either order; standard output and
    /// `-o` hold the same bytes.
    @Test func svg_byEndpoints_sameAsByIndex() throws {
        let file = "captures/experiments/linger-zero-30k.pcap"
        let record = try #require(try Self.json([file]).first)
        let orig = record["orig"] as? [String: Any] ?? [:], resp = record["resp"] as? [String: Any] ?? [:]
        let a = "\(orig["addr"] ?? ""):\(orig["port"] ?? "")", b = "\(resp["addr"] ?? ""):\(resp["port"] ?? "")"
        let byIndex = try CLI.run(["replay", file, "--format", "svg", "--connection", "\(record["index"] ?? 0)"])
        let byTuple = try CLI.run(["replay", file, "--format", "svg", "--connection", "\(a),\(b)"])
        let reversed = try CLI.run(["replay", file, "--format", "svg", "--connection", "\(b),\(a)"])
        #expect(byIndex.status == 0 && !byIndex.stdout.isEmpty)
        #expect(byTuple.stdout == byIndex.stdout)
        #expect(reversed.stdout == byIndex.stdout)
        #expect(byIndex.stdout.contains("[R.] seq 4,097 ack 1 len 0"))
    }

    @Test func svg_refusals() throws {
        let file = "captures/experiments/linger-zero-30k.pcap"
        let none = try CLI.run(["replay", file, "--format", "svg"])
        #expect(none.status == 64 && none.stderr.contains("--format svg draws one connection"), "\(none.stderr)")
        let bogus = try CLI.run(["replay", file, "--format", "svg", "--connection", "first"])
        #expect(bogus.status == 64 && bogus.stderr.contains("'first' is neither"), "\(bogus.stderr)")
        let missing = try CLI.run(["replay", file, "--format", "svg", "--connection", "99"])
        #expect(missing.status == 1 && missing.stderr.contains("no connection 99 in \(file)"), "\(missing.stderr)")
        #expect(missing.stdout.isEmpty)
        let notSVG = try CLI.run(["replay", file, "--connection", "1"])
        #expect(notSVG.status == 64 && notSVG.stderr.contains("--connection applies to --format svg only"))
        let unwritable = try CLI.run(["replay", file, "--format", "html", "-o", "/nonexistent/x.html"])
        #expect(unwritable.status == 1 && unwritable.stderr.contains("cannot write /nonexistent/x.html"), "\(unwritable.stderr)")
    }

    /// The rows' data the page carries (its `<script class="rows">` chunks, read here as JSON).
    static func rows(inPage html: String) throws -> [[Any]] {
        var rows: [[Any]] = []
        let open = "<script type=\"application/json\" class=\"rows\">"
        var rest = html[...]
        while let start = rest.range(of: open) {
            let body = rest[start.upperBound...]
            guard let end = body.range(of: "</script>") else { break }
            let chunk = try JSONSerialization.jsonObject(with: Data(body[..<end.lowerBound].utf8)) as? [[Any]] ?? []
            rows += chunk
            rest = body[end.upperBound...]
        }
        return rows
    }

    /// Without a browser: the page's data holds every connection the JSON output has, with the
    /// same teardown and conn_state, in the same order; it fetches nothing; -o writes what
    /// standard output gets.
    @Test func html_carriesEveryConnection_selfContained() throws {
        let files = Self.experiments
        let records = try Self.json(files)
        let r = try CLI.run(["replay"] + files + ["--format", "html"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try Self.rows(inPage: r.stdout)
        #expect(rows.count == records.count)
        for (row, record) in zip(rows, records) {
            #expect(row[0] as? Int == record["index"] as? Int)
            #expect(row[1] as? String == record["teardown"] as? String)
            #expect(row[2] as? String == record["conn_state"] as? String)
            #expect(row[11] as? String == record["file"] as? String)
        }
        for fetch in ["<link", " src=", " href=", "@import", "url(", "fetch(", "XMLHttpRequest", "<iframe", "<img"] {
            #expect(!r.stdout.contains(fetch), "the page must fetch nothing: \(fetch)")
        }
        #expect(r.stdout.hasPrefix("<!DOCTYPE html>\n") && r.stdout.hasSuffix("</html>\n"))
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let o = try CLI.run(["replay"] + files + ["--format", "html", "-o", dir + "/r.html"])
        #expect(o.status == 0 && o.stdout.isEmpty)
        #expect(try String(contentsOfFile: dir + "/r.html", encoding: .utf8) == r.stdout)
    }

    /// `run --format html -o FILE`: one page of the experiments' connections, each labelled
    /// with its experiment, their calls in the ladders (root: the experiments run in network
    /// namespaces of their own).
    @Test func run_html_onePageOfTheExperiments() throws {
        guard getuid() == 0 else {
            print("HTMLReportTests: run --format html skipped: needs root (run makes network namespaces)")
            return
        }
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try CLI.run(["run", "client-close", "linger-zero-30k", "--format", "html", "-o", dir + "/run.html"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.isEmpty)
        let html = try String(contentsOfFile: dir + "/run.html", encoding: .utf8)
        let rows = try Self.rows(inPage: html)
        #expect(rows.map { $0[11] as? String ?? "" } == ["client-close", "linger-zero-30k"])
        #expect(rows.map { $0[1] as? String ?? "" } == ["graceful", "abort-by-originator"])
        #expect(html.contains("write(30000) = 30000"), "the client's write in linger-zero-30k's ladder")
        #expect(html.hasPrefix("<!DOCTYPE html>\n") && html.hasSuffix("</html>\n"))
        let refused = try CLI.run(["run", "client-close", "--format", "svg"])
        #expect(refused.status == 64 && refused.stderr.contains("run prints --format timeline, json or html"), "\(refused.stderr)")
    }

    // MARK: In Chromium

    static var chromium: String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            for name in ["chromium", "chromium-browser", "google-chrome"] where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
                return "\(dir)/\(name)"
            }
        }
        return nil
    }

    /// Opens `page` with tools/check/browser.py, evaluating `evals` (name, expression) after
    /// its load event; its JSON answer.
    static func browse(_ page: String, _ evals: [(String, String)], screenshot: String? = nil) throws -> [String: Any] {
        let (status, o, e) = try python([CLI.packageRoot.appendingPathComponent("tools/check/browser.py").path, page]
            + evals.flatMap { ["--eval", "\($0.0)=\($0.1)"] } + (screenshot.map { ["--screenshot", $0] } ?? []))
        #expect(status == 0, "browser.py: \(String(decoding: e, as: UTF8.self))")
        return try JSONSerialization.jsonObject(with: o) as? [String: Any] ?? [:]
    }

    /// The checks one page must pass in Chromium, against `records` (the JSON output of the
    /// same input, with events).
    static func checkInChromium(page: String, records: [[String: Any]]) throws {
        // The most common teardown, which the filter keeps; a connection that carries a ladder.
        var counts: [String: Int] = [:]
        for r in records { counts[r["teardown"] as? String ?? "", default: 0] += 1 }
        let (kind, kept) = try #require(counts.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) })
        let target = try #require(records.first { packetRows($0) > 0 && ($0["index"] as? Int ?? .max) <= 5_000 })
        let index = target["index"] as? Int ?? 0, file = target["file"] as? String ?? ""
        let multi = Set(records.map { $0["file"] as? String ?? "" }).count > 1
        let fileArg = multi ? ",\"\(file)\"" : ""
        let answer = try browse(page, [
            ("data", "teardownReport.all.length"),
            // Every page of the table, walked: the DOM's rows, each named by data-connection.
            ("dom", """
             (function(){var seen=[];var next;do{var rows=document.querySelectorAll('#conns tbody tr[data-connection]');\
             for(var i=0;i<rows.length;i++)seen.push((rows[i].dataset.file||'')+'#'+rows[i].dataset.connection);\
             next=document.querySelector('#pages button[data-page="1"]');\
             if(next&&seen.length<teardownReport.shown().length)next.click();else next=null;}while(next);return seen;})()
             """),
            ("filtered", """
             (function(){teardownReport.filter('kind','\(kind)');var rows=document.querySelectorAll('#conns tbody tr[data-connection]');\
             var kinds={};for(var i=0;i<rows.length;i++)kinds[rows[i].cells[2].textContent]=1;\
             var r=[teardownReport.shown().length,rows.length,Object.keys(kinds)];teardownReport.filter('kind','');return r;})()
             """),
            ("arrows", """
             (function(){var tr=teardownReport.open(\(index)\(fileArg));var l=tr.nextElementSibling;\
             return [l.className,l.querySelectorAll('svg.ladder').length,l.querySelectorAll('svg.ladder g.pkt').length,\
             l.querySelector('svg.ladder').getAttribute('data-connection')];})()
             """),
        ])
        let results = answer["results"] as? [String: Any] ?? [:]
        #expect(answer["errors"] as? [String] == [], "console errors: \(answer["errors"] ?? "none")")
        #expect(results["data"] as? Int == records.count)
        let expectedKeys = records.map { (multi ? ($0["file"] as? String ?? "") : "") + "#\($0["index"] ?? "")" }
        #expect(results["dom"] as? [String] == expectedKeys, "the DOM, page by page, holds every connection once, in order")
        let filtered = results["filtered"] as? [Any] ?? []
        #expect(filtered.count == 3 && filtered[0] as? Int == kept, "\(kind): \(filtered)")
        #expect(filtered.count == 3 && filtered[1] as? Int == min(kept, 1000), "rows on the first page: \(filtered)")
        #expect(filtered.count == 3 && filtered[2] as? [String] == [kind], "only \(kind) left: \(filtered)")
        let arrows = results["arrows"] as? [Any] ?? []
        #expect(arrows.count == 4 && arrows[0] as? String == "ladder" && arrows[1] as? Int == 1, "\(arrows)")
        #expect(arrows.count == 4 && arrows[2] as? Int == packetRows(target), "one arrow per packet: \(arrows)")
        #expect(arrows.count == 4 && arrows[3] as? String == "\(index)")
    }

    /// Runs `body` with a temporary directory when Chromium is installed; says why not otherwise.
    static func withChromium(_ body: (String) throws -> Void) throws {
        guard chromium != nil else {
            print("HTMLReportTests: skipped: no chromium on the PATH (Debian: apt-get install chromium); .ci/run installs it")
            return
        }
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try body(dir)
    }

    @Test func chromium_bundledExperiments() throws { try Self.withChromium { dir in
        let page = dir + "/experiments.html"
        let r = try CLI.run(["replay"] + Self.experiments + ["--format", "html", "-o", page])
        #expect(r.status == 0, "\(r.stderr)")
        try Self.checkInChromium(page: page, records: try Self.json(Self.experiments))
        // A standalone SVG opens too (as an image, without errors).
        let svg = dir + "/c.svg"
        _ = try CLI.run(["replay", "captures/experiments/linger-zero-30k.pcap", "--format", "svg", "--connection", "1", "-o", svg])
        let answer = try Self.browse(svg, [("arrows", "document.querySelectorAll('g.pkt').length")])
        #expect(answer["errors"] as? [String] == [])
        #expect((answer["results"] as? [String: Any])?["arrows"] as? Int == 8)
    } }

    /// The benchmark's small capture (tools/captures/gen_capture.py --preset small: 12,000
    /// connections, 191,713 packets), made here.
    @Test func chromium_benchmarkSmallCapture() throws { try Self.withChromium { dir in
        let capture = dir + "/small.pcap"
        let (status, _, e) = try Self.python([CLI.packageRoot.appendingPathComponent("tools/captures/gen_capture.py").path,
                                               "--preset", "small", "--out", capture])
        try #require(status == 0, "gen_capture.py failed: \(String(decoding: e, as: UTF8.self))")
        let page = dir + "/small.html"
        let r = try CLI.run(["replay", capture, "--format", "html", "-o", page])
        #expect(r.status == 0, "\(r.stderr)")
        try Self.checkInChromium(page: page, records: try Self.json([capture]))
    } }
}
