import ArgumentParser

@main
struct Teardown: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "teardown",
        abstract: "Show how TCP connections ended: who closed or reset them, why, and what it cost in bytes.",
        discussion: """
        Reads pcap/pcapng captures (or a live interface), follows every TCP connection's \
        FIN/ACK/RST exchange with an RFC 9293 state machine, and prints an annotated timeline, \
        JSON Lines, or a one-line summary per connection.
        """,
        version: "0.1.0",
        subcommands: [Replay.self, Live.self, Run.self, Trace.self, Scenarios.self]
    )
}
