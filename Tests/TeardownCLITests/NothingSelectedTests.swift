import Foundation
import Testing

/// A closing line when --only or --diagnosis keeps none of the connections (issue 18, item 3):
/// one warning on stderr naming the selection and how many connections were read, status 0 as
/// for a filter that matched no packet; none when something was printed or nothing was read.
@Suite struct NothingSelectedTests {
    @Test func onlyThatFitsNothing_saysSoOnce() throws {
        let r = try CLI.run(["replay", "captures/real/refused.pcap", "--only", "graceful,RSTO"])
        #expect(r.status == 0)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr == "teardown: warning: none of the 1 connection read fit --only graceful,RSTO\n", "\(r.stderr)")
    }

    @Test func diagnosisThatFitsNothing_overSeveralFiles() throws {
        let r = try CLI.run(["replay", "captures/real/many-connections.pcap", "captures/real/refused.pcap",
                             "--diagnosis", "keepalive-race", "--format", "json"])
        #expect(r.status == 0)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr == "teardown: warning: none of the 51 connections read fit --diagnosis keepalive-race\n", "\(r.stderr)")
        let both = try CLI.run(["replay", "captures/real/refused.pcap", "--summary", "--only", "reset", "--diagnosis", "harmless-reset"])
        #expect(both.status == 0)
        #expect(both.stdout.contains("0 connections"))
        #expect(both.stderr == "teardown: warning: none of the 1 connection read fit --only reset and --diagnosis harmless-reset\n", "\(both.stderr)")
    }

    @Test func noLineWhenSomethingFitsOrNothingWasRead() throws {
        let some = try CLI.run(["replay", "captures/real/many-connections.pcap", "--only", "refused", "--summary"])
        #expect(some.status == 0 && some.stderr.isEmpty, "\(some.stderr)")
        let none = try CLI.run(["replay", "captures/real/non-tcp.pcap", "--only", "refused"])
        #expect(!none.stderr.contains("none of the"), "\(none.stderr)")
    }
}
