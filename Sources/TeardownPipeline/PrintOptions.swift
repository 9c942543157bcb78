import TeardownModel
import TeardownRender
#if canImport(Glibc)
import Glibc
#endif

/// How connections are printed: the output format, and whether in colour.
public struct PrintOptions: Sendable, Equatable {
    public enum Format: Sendable, Equatable {
        /// An annotated ladder per connection.
        case timeline
        /// JSON Lines, one object per connection; `events` says whether each carries its rows.
        case json(events: Bool)
        /// One line per connection, then a tally by teardown kind.
        case summary
        /// One self-contained HTML page: a tally chart, a table of connections to filter and
        /// sort, each connection's ladder drawn when opened (`HTMLReport`).
        case html
        /// One connection's ladder alone, as a standalone SVG (`LadderSVG`).
        case svg(ConnectionPick)
        /// A header line, then one tab-separated line per connection (`TSVRenderer`).
        case tsv
    }

    public var format: Format
    /// ANSI colour in timelines and the summary's tally.
    public var color: Bool
    /// Print only the connections with this diagnosis (`replay --diagnosis`); nil: all.
    public var diagnosis: Diagnosis.Code?
    /// Print only the connections `--only` selects; nil: all.
    public var only: ConnectionSelection?
    /// The columns the timeline and the summary are laid out for (`terminalWidth`); nil: the
    /// wide layout, whatever the lines' length.
    public var width: Int?
    /// The file to write to (`-o`); nil: standard output.
    public var output: String?

    public init(format: Format, color: Bool) {
        self.format = format
        self.color = color
    }

    /// Whether the tracker must keep timeline rows.
    public var needsEvents: Bool {
        switch format {
        case .timeline, .html, .svg: return true
        case .json(let events): return events
        case .summary, .tsv: return false
        }
    }

    /// Only connections up to this index need their rows: the HTML report draws the ladders of
    /// the first `HTMLReport.ladderBudget` connections of each input, `--format svg
    /// --connection N` the one connection N.
    public var eventsUpToIndex: Int {
        switch format {
        case .html: return HTMLReport.ladderBudget
        case .svg(.index(let n)): return n
        case .timeline, .json, .summary, .tsv, .svg(.endpoints): return .max
        }
    }

    /// Whether the tracker must keep notes (the summary and TSV show none).
    public var needsNotes: Bool { format != .summary && format != .tsv }

    /// `--only WORDS` and/or `--diagnosis CODE` as given, or nil when every connection is printed.
    public var selectionWords: String? {
        let parts = [only.map { "--only \($0.given)" }, diagnosis.map { "--diagnosis \($0.rawValue)" }].compactMap { $0 }
        return parts.isEmpty ? nil : parts.joined(separator: " and ")
    }

    /// Whether colour is wanted on standard output: never with `never` or NO_COLOR
    /// (no-color.org), always with `always`, else (`auto`) only when standard output is a
    /// terminal that is not `dumb`.
    public static func colorWanted(always: Bool, never: Bool) -> Bool {
        if never { return false }
        if always { return true }
        if let v = getenv("NO_COLOR"), v.pointee != 0 { return false }
        if let t = getenv("TERM"), String(cString: t) == "dumb" { return false }
        return isatty(STDOUT_FILENO) == 1
    }

    /// The columns to lay the output out for: `forced` (`--width`) when given; else the
    /// terminal's width when standard output is a terminal (TIOCGWINSZ, tty_ioctl(4)); else
    /// `COLUMNS` when set to a positive number; else nil, the wide layout, so that what goes
    /// into a pipe or a file does not depend on the terminal it was typed in.
    public static func terminalWidth(forced: Int?) -> Int? {
        if let forced { return forced }
        if isatty(STDOUT_FILENO) == 1 {
            var size = winsize()
            if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 { return Int(size.ws_col) }
        }
        if let v = getenv("COLUMNS"), let n = Int(String(cString: v)), n > 0 { return n }
        return nil
    }
}
