import Foundation
import Testing

/// Diagnoses through the command line (docs/diagnoses.md): the timeline's header line, JSON's
/// `diagnoses` (present only when there is one), the summary's tally and `--diagnosis CODE`.
@Suite struct DiagnosisCLITests {
    /// Made to show an RST into TIME-WAIT: one connection, one diagnosis.
    static let diagnosed = "captures/crafted/rst-in-time-wait.pcap"
    /// A graceful close: no diagnosis.
    static let plain = "captures/real/graceful-client-close.pcap"

    @Test func timelineHeader_namesTheDiagnosis() throws {
        let r = try CLI.run(["replay", Self.diagnosed, "--no-color"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("   diagnosis  time-wait-assassination (confidence high) · evidence packets 10, 11\n"))
        #expect(r.stdout.contains("the server's RST (packet 11) ended the client's TIME-WAIT early"))
    }

    @Test func json_carriesDiagnoses_onlyWhenThereIsOne() throws {
        let r = try CLI.run(["replay", Self.diagnosed, Self.plain, "--format", "json", "--no-events"])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(lines.count == 2)
        let first = try #require(lines.first ?? nil)
        let list = try #require(first["diagnoses"] as? [[String: Any]])
        #expect(list.count == 1)
        #expect(list.first?["code"] as? String == "time-wait-assassination")
        #expect(list.first?["evidence"] as? [Int] == [10, 11])
        #expect(list.first?["confidence"] as? String == "high")
        #expect((list.first?["text"] as? String)?.hasPrefix("the server's RST (packet 11)") == true)
        let second = try #require(lines.last ?? nil)
        #expect(second["diagnoses"] == nil)
    }

    @Test func summaryTally_countsDiagnoses() throws {
        let r = try CLI.run(["replay", Self.diagnosed, Self.plain, "--summary", "--no-color"])
        #expect(r.stdout.hasSuffix("1 diagnosis (docs/diagnoses.md):\n  time-wait-assassination           1\n"))
        let plain = try CLI.run(["replay", Self.plain, "--summary", "--no-color"])
        #expect(!plain.stdout.contains("diagnos"))
    }

    @Test func diagnosisFilter_printsOnlyThoseConnections() throws {
        let r = try CLI.run(["replay", Self.diagnosed, Self.plain, "--diagnosis", "time-wait-assassination", "--summary", "--no-color"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("1 connection by teardown:"))
        #expect(r.stdout.contains("rst-in-time-wait.pcap"))
        #expect(!r.stdout.contains("graceful-client-close.pcap"))
        let none = try CLI.run(["replay", Self.plain, "--diagnosis", "keepalive-race", "--format", "json"])
        #expect(none.status == 0)
        #expect(none.stdout.isEmpty)
    }

    /// The recordings of tools/captures/paths.sh: a router namespace's RST in the server's
    /// name (nftables reject with tcp reset; conntrack forgetting an idle flow, answering the
    /// next request or keep-alive probe) is the path's; data sent into a router that forgot the
    /// flow and drops it is an idle timeout too; the server's own RST through the same router
    /// is not.
    @Test func pathRecordings_tellTheRoutersRSTFromTheServers() throws {
        func codes(_ file: String) throws -> [String] {
            let r = try CLI.run(["replay", "captures/paths/\(file).pcap", "--format", "json", "--no-events"])
            let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
            return (obj?["diagnoses"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
        }
        #expect(try codes("middlebox-reset") == ["middlebox-reset"])
        #expect(try codes("conntrack-idle") == ["middlebox-reset", "idle-timeout-reset"])
        // The client's first keep-alive probe after 11 s, rejected by the router that forgot the flow.
        #expect(try codes("conntrack-keepalive") == ["middlebox-reset", "idle-timeout-reset"])
        // The client's request after 12 s, dropped by the router that forgot the flow, retransmitted until it gave up.
        #expect(try codes("conntrack-drop") == ["retransmission-give-up", "idle-timeout-reset"])
        #expect(try codes("own-reset") == [])
    }

    /// The codes of every connection of a capture, in order.
    static func codesPerConnection(_ file: String) throws -> [[String]] {
        let r = try CLI.run(["replay", file, "--format", "json", "--no-events"])
        return r.stdout.split(separator: "\n").map { line in
            let obj = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
            return (obj?["diagnoses"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
        }
    }

    /// The recordings of the endpoint patterns' experiments (`teardown run NAME`, with their
    /// sidecars): each diagnosis on the connection made to show it, none on the others, and
    /// none on the experiment nearest to each that must not be diagnosed.
    @Test func endpointRecordings_diagnoseThePatternTheyWereMadeFor() throws {
        func codes(_ name: String) throws -> [[String]] { try Self.codesPerConnection("captures/experiments/\(name).pcap") }
        #expect(try codes("keepalive-race") == [["keepalive-race"]])
        #expect(try codes("close-unread-request") == [["close-unread-request"]])
        #expect(try codes("zero-window-abort") == [["zero-window-abort"]])
        #expect(try codes("retransmission-give-up") == [["retransmission-give-up"]])
        // Queued and reset when the listener closed; reset on overflow; SYNs dropped, unanswered.
        #expect(try codes("listen-overflow") == [[], ["listen-overflow"], [], []])
        // A firewall's RST in the server's name: the kernel lane says no reset of this host sent it.
        #expect(try codes("firewall-reset") == [["middlebox-reset"]])
        // The server's TCP lost the connection silently: its kernel's bare RST to the next request.
        #expect(try codes("peer-restarted") == [["peer-restarted"]])
        // A SYN from the same client port into the server's TIME-WAIT: the second connection.
        #expect(try codes("time-wait-reuse") == [[], ["time-wait-assassination"]])
        // The client's FIN after the server's orphan was forgotten: its kernel's bare RST, nothing lost.
        #expect(try codes("harmless-reset") == [["harmless-reset"]])
        // The leaked socket, then a connection served and closed 62 s later.
        #expect(try codes("close-wait-leak") == [["close-wait-leak"], []])
        // The negative cases: an RST to data after a FIN that came at once, on a connection the
        // client had not used before (write-after-close); close() with unread data by a side
        // that had sent nothing (close-unread); SO_LINGER {1, 0} with 30 kB queued behind a
        // window closed for less than 1 s (linger-zero-30k); a peer in CLOSE-WAIT for 1 s
        // (orphan-fin-wait-2).
        // With the kernel lane, every RST this host's TCP sent is no middlebox's (linger-zero,
        // exit-without-close, peek-detect ...: the kernel recordings carry none).
        for name in ["write-after-close", "close-unread", "linger-zero-30k", "orphan-fin-wait-2"] {
            #expect(try codes(name).allSatisfy(\.isEmpty), "\(name)")
        }
    }

    /// Without its socket calls the close with the request unread is not told from SO_LINGER
    /// {1, 0}, so nothing is said: the same packets, copied away from their sidecars.
    @Test func closeUnreadRequest_needsTheCalls() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("td-cur-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let copy = dir.appendingPathComponent("bare.pcap")
        try FileManager.default.copyItem(at: CLI.packageRoot.appendingPathComponent("captures/experiments/close-unread-request.pcap"), to: copy)
        #expect(try Self.codesPerConnection(copy.path) == [[]])
    }

    @Test func unknownDiagnosis_isAnError_listingTheCodes() throws {
        let r = try CLI.run(["replay", Self.plain, "--diagnosis", "gremlins"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("no diagnosis 'gremlins'; the codes are: keepalive-race, idle-timeout-reset, close-unread-request, close-wait-leak, middlebox-reset, zero-window-abort, peer-restarted, retransmission-give-up, time-wait-assassination, harmless-reset, listen-overflow."))
        #expect(r.stdout.isEmpty)
    }
}
