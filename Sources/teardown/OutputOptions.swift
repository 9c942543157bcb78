import ArgumentParser
import TeardownPipeline

/// How results are printed; shared by every subcommand that prints connections.
struct OutputOptions: ParsableArguments {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case timeline, json, tsv, zeek
        case zeekJSON = "zeek-json"
        case html, svg
    }
    enum ColorChoice: String, ExpressibleByArgument, CaseIterable {
        case auto, always, never
    }

    @Option(name: .long, help: "Output format: timeline (annotated ladder per connection), json (JSON Lines), tsv (a header line, then one tab-separated line per connection), html (one self-contained page: chart, table, ladders), svg (one connection's ladder: --connection), or zeek / zeek-json (Zeek's conn.log, TSV or JSON; replay only).")
    var format: Format = .timeline

    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("Write the output to this file instead of standard output.", valueName: "file"))
    var output: String?

    @Option(name: .long, help: ArgumentHelp(
        "--format svg: the connection to draw, by its index (as the timeline's title gives it) or its two endpoints (ADDR:PORT,ADDR:PORT).",
        valueName: "n|a,b"))
    var connection: String?

    @Flag(name: .long, help: "One line per connection plus a final tally by teardown kind.")
    var summary = false

    @Flag(name: .long, help: "JSON: leave out the per-packet `events` array.")
    var noEvents = false

    @Option(name: .long, help: "Colour: auto (only on a terminal, and not when NO_COLOR is set), always, never.")
    var color: ColorChoice = .auto

    @Flag(name: .long, help: "Same as --color never.")
    var noColor = false

    @Option(name: .long, help: ArgumentHelp(
        "Print only the connections any of these fit: teardown kinds, Zeek conn_states, reset, lost, diagnosis codes (comma-separated).",
        valueName: "kind,..."))
    var only: String?

    @Option(name: .long, help: ArgumentHelp(
        "Lay timelines and the summary out for N columns (default: the terminal's width, or COLUMNS; the wide layout in a pipe or file).",
        valueName: "n"))
    var width: Int?

    /// The narrowest `--width` taken: the compact ladder's own width with one-digit packet
    /// numbers.
    static let minimumWidth = 40

    func validate() throws {
        if let width, width < OutputOptions.minimumWidth {
            throw ValidationError("--width must be at least \(OutputOptions.minimumWidth) columns, not \(width).")
        }
        if summary && format != .timeline {
            throw ValidationError("--summary and --format \(format.rawValue) are alternatives; choose one.")
        }
        if noEvents && format != .json {
            throw ValidationError("--no-events applies to --format json only.")
        }
        if format == .svg {
            guard let connection else {
                throw ValidationError("--format svg draws one connection: name it with --connection N (its index) or --connection ADDR:PORT,ADDR:PORT.")
            }
            if ConnectionPick.parse(connection) == nil {
                throw ValidationError("--connection: '\(connection)' is neither a connection's index (1, 2, ...) nor two endpoints (ADDR:PORT,ADDR:PORT).")
            }
        } else if connection != nil {
            throw ValidationError("--connection applies to --format svg only.")
        }
        if let only {
            if case .failure(let e) = ConnectionSelection.parse(only) {
                throw ValidationError("--only: '\(e.word)' is none of: \(ConnectionSelection.words.joined(separator: ", ")).")
            }
            if zeekJSON != nil { throw ValidationError("--only applies to teardown's own formats, not --format \(format.rawValue).") }
        }
    }

    /// Whether to emit ANSI colour (`PrintOptions.colorWanted`).
    var useColor: Bool { PrintOptions.colorWanted(always: color == .always, never: noColor || color == .never) }

    /// Zeek's conn.log instead of teardown's records: nil, or whether as JSON.
    var zeekJSON: Bool? {
        switch format {
        case .zeek: return false
        case .zeekJSON: return true
        case .timeline, .json, .tsv, .html, .svg: return nil
        }
    }

    /// What the pipeline prints, and how.
    var printOptions: PrintOptions {
        let chosen: PrintOptions.Format
        switch format {
        case _ where summary: chosen = .summary
        case .json: chosen = .json(events: !noEvents)
        case .html: chosen = .html
        case .svg: chosen = .svg(connection.flatMap(ConnectionPick.parse) ?? .index(1))
        case .tsv: chosen = .tsv
        case .timeline, .zeek, .zeekJSON: chosen = .timeline
        }
        // Into a file (-o), the terminal's colour and width are not the output's: colour only
        // with --color always, the wide layout unless --width.
        let colour = output == nil ? useColor : color == .always && !noColor
        var options = PrintOptions(format: chosen, color: format == .html || format == .svg ? false : colour)
        options.output = output
        options.only = only.flatMap { try? ConnectionSelection.parse($0).get() }
        options.width = output == nil ? PrintOptions.terminalWidth(forced: width) : width
        return options
    }
}
