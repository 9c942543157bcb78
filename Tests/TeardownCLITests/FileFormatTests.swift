import Foundation
import Testing

/// Capture files as Wireshark reads them (captures/files/, made by tools/captures/files.py).
@Suite struct FileFormatTests {
    /// A clock stepped back 2 s at packet 6: one warning naming the packet, and no negative
    /// duration in any output.
    @Test func clockGoingBack_isNamed_andNoDurationIsNegative() throws {
        let capture = "captures/files/clock-back.pcap"
        let json = try CLI.run(["replay", capture, "--format", "json", "--no-events"])
        #expect(json.status == 0)
        #expect(json.stderr.contains("clock-back.pcap: the clock goes back at packet 6, by 1.999870161 s"), "\(json.stderr)")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let start = try #require(obj["start"] as? Double), end = try #require(obj["end"] as? Double)
        let duration = try #require(obj["duration"] as? Double)
        #expect(duration >= 0 && end >= start)
        // The end is the latest time (packet 5's), not the last packet's (2 s earlier).
        #expect(abs(duration - 0.000163814) < 1e-9, "duration \(duration)")

        let summary = try CLI.run(["replay", capture, "--summary", "--no-color"])
        let line = try #require(summary.stdout.split(separator: "\n").dropFirst().first)
        #expect(line.contains(" 0.000164 ") && !line.contains(" -"), "\(line)")

        let timeline = try CLI.run(["replay", capture, "--no-color"])
        #expect(timeline.stdout.contains("lasted 0.000164 s"))

        // Zeek's view: the last time is before the first, so duration is unset, as Zeek's
        // set_conn leaves a duration that is not positive; #close is not before #open.
        let zeek = try CLI.run(["replay", capture, "--format", "zeek"])
        let row = try #require(zeek.stdout.split(separator: "\n").first { !$0.hasPrefix("#") })
        let cells = row.split(separator: "\t", omittingEmptySubsequences: false)
        #expect(cells[8] == "-")
        let open = zeek.stdout.split(separator: "\n").first { $0.hasPrefix("#open") }
        let close = zeek.stdout.split(separator: "\n").first { $0.hasPrefix("#close") }
        #expect(open != nil && close != nil && String(close!.dropFirst(6)) >= String(open!.dropFirst(5)))
    }
}
