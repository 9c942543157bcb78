/// The works the experiments' claims come from, listed in docs/sources.md. A claim names its
/// works by key (`Claim.source`: "seeds/001, seeds/003", "RFC 9293 §3.6"); a verdict cites
/// them in words (`cite`), short enough for the end of a verdict line, and the page gives
/// each one's title, author where known, what it covers and which claims cite it.
public enum Bibliography {
    public struct Work: Sendable {
        /// The key claims use.
        public var key: String
        /// How a verdict cites it.
        public var words: String
    }

    /// Every work a claim may cite, in the order of docs/sources.md.
    public static let works: [Work] = [
        Work(key: "seeds/000", words: "socket-close blog post (2018)"),
        Work(key: "seeds/001", words: "Netty close() article"),
        Work(key: "seeds/002", words: "TCP close article"),
        Work(key: "seeds/003", words: "SO_LINGER lesson"),
        Work(key: "seeds/004", words: "Sheng's lesson 11"),
        Work(key: "RFC 9293 §3.6", words: "RFC 9293 §3.6"),
        Work(key: "RFC 9293 §3.8.6.1", words: "RFC 9293 §3.8.6.1"),
        Work(key: "RFC 9112 §9.6", words: "RFC 9112 §9.6"),
        Work(key: "tcp(7)", words: "tcp(7)"),
        Work(key: "NDSS 2009", words: "forged-RST paper (NDSS 2009)"),
        Work(key: "RFC 9293 §3.10.7.1", words: "RFC 9293 §3.10.7.1"),
        Work(key: "RFC 6191", words: "RFC 6191"),
    ]

    /// Where the works are listed, as a verdict's reader is told.
    public static let page = "docs/sources.md"

    /// The keys of `source` (comma-separated).
    public static func keys(_ source: String) -> [String] {
        source.commaSeparatedWords.filter { !$0.isEmpty }
    }

    /// `source`'s works in words, "; " between them; a key not listed is cited as it is.
    public static func cite(_ source: String) -> String {
        keys(source).map { key in works.first { $0.key == key }?.words ?? key }.joined(separator: "; ")
    }
}

extension StringProtocol {
    /// The comma-separated words of a list ("seeds/001, seeds/003", `--only reset,lost`),
    /// each without the spaces around it (one of only spaces becomes "").
    public var commaSeparatedWords: [String] {
        split(separator: ",").map { String($0.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()) }
    }
}
