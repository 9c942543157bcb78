import Testing
import TeardownModel
import TeardownRender
import TeardownWire

/// `teardown run`'s report, from a made-up outcome: every verdict, a problem, a call, text
/// with and without colour, and JSON escaped as `run --format json` has always written it.
@Suite struct ExperimentReportTests {
    static let outcome = ExperimentOutcome(
        name: "demo", summary: "A made-up run: close() then shutdown()/read()",
        claims: [
            ClaimResult(Claim("a", "it holds", source: "seeds/000"), .holds, "packet 7 [F.]"),
            ClaimResult(Claim("b", "it does not", source: "RFC 9293 §3.6"), .doesNotHold, "read() = 0, not \"-1\""),
            ClaimResult(Claim("c", "who knows", source: "textbook"), .inconclusive, "not captured"),
        ],
        records: [], calls: [
            RecordedCall(time: Timestamp(nanoseconds: 1_700_000_000_000_000_001), durationNanoseconds: 12, pid: 42, fd: 7,
                         local: Endpoint(address: IPAddress("127.0.0.1")!, port: 5001), remote: nil,
                         actor: "server", call: "read(1024)", result: -1, errno: "ECONNRESET", bytes: 0, kind: .read, socket: 3),
        ],
        packetCount: 10, problems: ["server: timed out\tat\n/accept"], isolated: true, wallNanoseconds: 1_234_567_890)

    @Test func text_plain() {
        #expect(ExperimentReport.text(Self.outcome, color: false, timelines: true) == """
            ━━ experiment demo ━━ A made-up run: close() then shutdown()/read()
               where      a private network namespace (own loopback) · 10 packets · 1 socket calls · 1.23 s
               problem    server: timed out\tat
            /accept

               ✔ holds         it holds  [socket-close blog post (2018)]
                                evidence: packet 7 [F.]
               ✘ does not hold it does not  [RFC 9293 §3.6]
                                evidence: read() = 0, not "-1"
               ? inconclusive  who knows  [textbook]
                                evidence: not captured

            """)
    }

    @Test func text_colour_paintsTheTitleProblemsAndVerdicts() {
        let text = ExperimentReport.text(Self.outcome, color: true, timelines: false)
        #expect(text.hasPrefix("\u{1B}[1m━━ experiment demo ━━\u{1B}[0m A made-up run"))
        #expect(text.contains("   \u{1B}[31mproblem\u{1B}[0m    server"))
        #expect(text.contains("   \u{1B}[32m✔ holds         \u{1B}[0mit holds  [socket-close blog post (2018)]\n"))
        #expect(text.contains("   \u{1B}[31m✘ does not hold \u{1B}[0mit does not"))
        #expect(text.contains("   \u{1B}[33m? inconclusive  \u{1B}[0mwho knows"))
    }

    @Test func text_timelines_followTheVerdicts() {
        var o = Self.outcome
        o.records = [Fixtures.graceful]
        let timeline = TimelineRenderer.render(Fixtures.graceful, options: RenderOptions(color: false, source: "demo"))
        #expect(ExperimentReport.text(o, color: false, timelines: true) == ExperimentReport.text(Self.outcome, color: false, timelines: true) + "\n" + timeline)
        #expect(ExperimentReport.text(o, color: false, timelines: false) == ExperimentReport.text(Self.outcome, color: false, timelines: false))
    }

    @Test func json_escapesSlashesAsBefore_andEmbedsCallsAndConnections() {
        var o = Self.outcome
        o.isolated = false
        #expect(ExperimentReport.json(o) == #"{"schema_version":1,"experiment":"demo","summary":"A made-up run: close() then shutdown()\/read()","isolated":false,"#
            + #""claims":[{"id":"a","text":"it holds","source":"seeds\/000","cites":"socket-close blog post (2018)","verdict":"holds","evidence":"packet 7 [F.]"},"#
            + #"{"id":"b","text":"it does not","source":"RFC 9293 §3.6","cites":"RFC 9293 §3.6","verdict":"does-not-hold","evidence":"read() = 0, not \"-1\""},"#
            + #"{"id":"c","text":"who knows","source":"textbook","cites":"textbook","verdict":"inconclusive","evidence":"not captured"}],"#
            + #""problems":["server: timed out\tat\n\/accept"],"#
            + #""calls":[{"actor":"server","bytes":0,"call":"read(1024)","duration_ns":12,"errno":"ECONNRESET","fd":7,"kind":"read","local":"127.0.0.1:5001","pid":42,"remote":null,"result":-1,"socket":3,"time_ns":1700000000000000001}],"#
            + #""connections":[]}"#)
        o.records = [Fixtures.graceful]
        let line = JSONLinesRenderer.render(Fixtures.graceful, source: "demo", includeEvents: true)
        #expect(ExperimentReport.json(o).hasSuffix(#""connections":["# + line + "]}"))
    }

    /// One experiment's report may end its verdicts with where the cited works are listed.
    @Test func text_sourcesLine_afterTheVerdicts() {
        let with = ExperimentReport.text(Self.outcome, color: false, timelines: false, sources: true)
        let without = ExperimentReport.text(Self.outcome, color: false, timelines: false)
        #expect(with == without + "   sources    the works in brackets are listed in docs/sources.md\n")
    }

    /// Several experiments end with a tally: all claims by verdict, a row per experiment
    /// (problems and experiments that could not run said), and the sources page.
    @Test func tally_countsEveryVerdict_perExperiment() {
        var second = Self.outcome
        second.name = "second-one"
        second.problems = []
        second.claims = [Self.outcome.claims[0], Self.outcome.claims[0]]
        #expect(ExperimentReport.tally([Self.outcome, second], failed: ["broken"], color: false) == """
            ━━ tally ━━ 3 experiments · 5 claims: 3 hold, 1 does not hold, 1 inconclusive
               demo        1 holds, 1 does not hold, 1 inconclusive · 1 problem
               second-one  2 hold, 0 do not hold, 0 inconclusive
               broken      could not run
               sources    the works in brackets are listed in docs/sources.md

            """)
    }
}
