import Foundation
import Testing
import TeardownTestSupport

/// Hostile files through the real binary: every capture under captures/ is cut at many offsets
/// and has bits flipped in its file header, record headers and packet headers (a seeded RNG,
/// so a failure names a file that can be made again). Each result is replayed; the process must
/// exit normally (status 0 or 1, never a signal or a trap), within a time limit, and say
/// something about every file: results labelled with it, or a message naming it.
@Suite struct MutationTests {

    /// Where the parts of a capture file are: the file header's end, each record (pcap) or
    /// block (pcapng) start, and where each packet's bytes start.
    struct Layout {
        var headerEnd = 0
        var records: [Int] = []
        var packets: [Range<Int>] = []
    }

    static func u32(_ d: [UInt8], _ at: Int, bigEndian: Bool) -> Int? {
        guard at >= 0, at + 4 <= d.count else { return nil }
        let b = (0..<4).map { UInt32(d[at + $0]) }
        return Int(bigEndian ? b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3] : b[3] << 24 | b[2] << 16 | b[1] << 8 | b[0])
    }

    /// pcap-savefile(5) records or pcapng blocks (draft-ietf-opsawg-pcapng §3), for
    /// aiming the mutations; the files here are well formed.
    static func layout(_ d: [UInt8]) -> Layout {
        var l = Layout()
        guard d.count >= 24 else { return l }
        if d[0] == 0x0A && d[1] == 0x0D && d[2] == 0x0D && d[3] == 0x0A {
            let big = d[8] == 0x1A   // byte-order magic 0x1A2B3C4D
            var off = 0
            while let type = u32(d, off, bigEndian: big), let len = u32(d, off + 4, bigEndian: big), len >= 12 {
                if off == 0 { l.headerEnd = len } else { l.records.append(off) }
                if type == 6, len > 32 { l.packets.append((off + 28)..<(off + len - 4)) }   // EPB
                off += len
            }
        } else {
            let big = d[0] == 0xA1
            l.headerEnd = 24
            var off = 24
            while let caplen = u32(d, off + 8, bigEndian: big), off + 16 + caplen <= d.count {
                l.records.append(off)
                if caplen > 0 { l.packets.append((off + 16)..<(off + 16 + caplen)) }
                off += 16 + caplen
            }
        }
        return l
    }

    struct Mutant {
        var name: String
        var bytes: [UInt8]
        /// A valid file header and nothing after it: no packets, nothing to say.
        var mayBeSilent = false
    }

    /// Ten mutants per capture.
    static func mutants(of original: [UInt8], name: String, rng: inout SplitMix64) -> [Mutant] {
        let l = layout(original)
        guard l.headerEnd > 0, !l.records.isEmpty, !l.packets.isEmpty else { return [] }
        var out: [Mutant] = []
        func cut(_ at: Int, _ tag: String) {
            out.append(Mutant(name: "\(name).cut-\(tag)-\(at)", bytes: Array(original.prefix(at)), mayBeSilent: at == l.headerEnd))
        }
        func flip(_ range: Range<Int>, bits: Int, _ tag: String) {
            var b = original
            var at: [Int] = []
            for _ in 0..<bits {
                let i = Int.random(in: range, using: &rng)
                b[i] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
                at.append(i)
            }
            out.append(Mutant(name: "\(name).flip-\(tag)-\(at.map(String.init).joined(separator: "_"))", bytes: b))
        }
        // Cut inside the file header, inside a record header, inside a packet's bytes.
        cut(Int.random(in: 1..<l.headerEnd, using: &rng), "header")
        let r = l.records.randomElement(using: &rng) ?? l.headerEnd
        cut(r + Int.random(in: 1..<12, using: &rng), "record")
        let p = l.packets.randomElement(using: &rng) ?? (l.headerEnd..<original.count)
        cut(Int.random(in: p.lowerBound..<p.upperBound, using: &rng), "packet")
        // Flip bits in the file header, in one record header (lengths, timestamps, block
        // types), and in the link/IP/TCP headers of five packets.
        flip(0..<l.headerEnd, bits: 1, "header")
        let r2 = l.records.randomElement(using: &rng) ?? l.headerEnd
        flip(r2..<min(r2 + 16, original.count), bits: 2, "record")
        for _ in 0..<5 {
            let q = l.packets.randomElement(using: &rng) ?? (l.headerEnd..<original.count)
            flip(q.lowerBound..<min(q.lowerBound + 64, q.upperBound), bits: 4, "packet")
        }
        return out
    }

    struct Outcome {
        var exited: Bool
        var status: Int32
        var timedOut: Bool
        var stdout: String
        var stderr: String
    }

    /// Runs the binary with a deadline; a process still running then is killed and reported.
    static func run(_ args: [String], deadline: TimeInterval) throws -> Outcome {
        let p = Process()
        p.executableURL = CLI.binary
        p.arguments = args
        p.currentDirectoryURL = CLI.packageRoot
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let timedOut = LockedFlag()
        let watchdog = DispatchWorkItem {
            if p.isRunning { timedOut.set(); kill(p.processIdentifier, SIGKILL) }
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + deadline, execute: watchdog)
        let (outData, errData) = CLI.readToEnd(out, err)
        p.waitUntilExit()
        watchdog.cancel()
        return Outcome(exited: p.terminationReason == .exit, status: p.terminationStatus, timedOut: timedOut.value,
                       stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }

    final class LockedFlag: @unchecked Sendable {
        private let lock = NSLock()
        private var flag = false
        func set() { lock.lock(); flag = true; lock.unlock() }
        var value: Bool { lock.lock(); defer { lock.unlock() }; return flag }
    }

    @Test func cutAndFlippedCaptures_neverTrap_alwaysSaySomething() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("teardown-mutants-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }

        var rng = SplitMix64(state: 0x7EA2_D0E5)
        var written: [(path: String, mutant: Mutant)] = []
        for capture in CLI.captures() {
            let bytes = try [UInt8](Data(contentsOf: CLI.packageRoot.appendingPathComponent(capture)))
            let stem = capture.replacingOccurrences(of: "/", with: "_")
            for m in MutationTests.mutants(of: bytes, name: stem, rng: &rng) {
                let url = dir.appendingPathComponent(m.name + (capture.hasSuffix(".pcapng") ? ".pcapng" : ".pcap"))
                try Data(m.bytes).write(to: url)
                written.append((url.path, m))
            }
        }
        #expect(written.count >= 300, "expected a few hundred mutants, made \(written.count)")

        // Several files per process; the output format rotates so every renderer sees them.
        let formats: [[String]] = [["--summary", "--no-color"], ["--format", "json"], ["--no-color"]]
        var stderrSeen = ""
        let batch = 24
        for (n, start) in stride(from: 0, to: written.count, by: batch).enumerated() {
            let files = Array(written[start..<min(start + batch, written.count)])
            // A lone file is not labelled in --summary output; JSON always names it.
            let args = ["replay"] + files.map(\.path) + formats[files.count == 1 ? 1 : n % formats.count]
            let r = try MutationTests.run(args, deadline: 60)
            let names = files.map { URL(fileURLWithPath: $0.path).lastPathComponent }.joined(separator: " ")
            #expect(!r.timedOut, "replay did not finish within 60 s: \(names)")
            #expect(r.exited, "replay was killed by signal \(r.status) (a trap?) on: \(names)\n\(r.stderr.suffix(2000))")
            #expect(r.status == 0 || r.status == 1, "exit status \(r.status) on: \(names)")
            #expect(!r.stderr.contains("Fatal error"), "\(r.stderr.suffix(2000))")
            for line in r.stderr.split(separator: "\n") {
                #expect(line.hasPrefix("teardown: "), "stray stderr line: \(line)")
            }
            for f in files where !f.mutant.mayBeSilent {
                #expect(r.stdout.contains(f.path) || r.stderr.contains(f.path), "nothing said about \(f.path)")
            }
            stderrSeen += r.stderr
        }
        // The mutations did reach each kind of problem (else this test tests little).
        for phrase in ["not a pcap or pcapng capture", "file ends inside its header",
                       "file ends in the middle of a packet record", "packets before it are reported"] {
            #expect(stderrSeen.contains(phrase), "no mutant produced '\(phrase)'")
        }
    }
}
