import TeardownModel
import TeardownRender

/// Prints records in the chosen format as they arrive, to the output writer or (for a file
/// replayed in parallel with an earlier one) into memory, printed when its turn comes.
public final class RecordPrinter {
    public let options: PrintOptions
    /// Standard output, or a writer that keeps the output in memory.
    let writer: OutputWriter
    /// Whether each record names its file (several files are printed together).
    let labelFiles: Bool
    var tally = TeardownTally()
    /// How many records were printed.
    public private(set) var printed = 0
    /// How many records were offered, printed or not (`--only`, `--diagnosis`).
    public private(set) var offered = 0
    /// Where every record's packet comments go (`--annotate`), whether it is printed or not.
    public var comments: PacketCommentStore?
    /// Records are only given to `comments`, never printed (the reading of a file `live` or
    /// `trace` wrote, to annotate it).
    var silent = false
    // The format read once into Bools: `print` runs once per connection.
    private let summary: Bool
    private let json: Bool
    private let tsv: Bool
    private let includeEvents: Bool
    private let html: Bool
    /// `--format svg`: the connection to draw, until it is drawn.
    private var svgPick: ConnectionPick?
    /// The counts the HTML report's chart and filters show.
    var htmlTally = HTMLReport.Tally()
    private let color: Bool
    /// The line renderers for the file being printed (its label rendered once, not per line).
    private var summaryFile: (source: String, renderer: SummaryRenderer.FileRenderer)?
    private var jsonFile: (source: String, renderer: JSONLinesRenderer.FileRenderer)?
    private var tsvFile: (source: String, renderer: TSVRenderer.FileRenderer)?
    private var timelineFile: (source: String, renderer: TimelineRenderer.FileRenderer)?
    private var htmlFile: (source: String, renderer: HTMLReport.FileRenderer)?

    /// A printer of records to `writer`; with `labelFiles`, each record names its file.
    public init(options: PrintOptions, writer: OutputWriter, labelFiles: Bool) {
        self.options = options
        self.writer = writer
        self.labelFiles = labelFiles
        color = options.color
        html = options.format == .html
        tsv = options.format == .tsv
        switch options.format {
        case .timeline, .html, .tsv:
            (summary, json, includeEvents) = (false, false, false)
        case .svg(let pick):
            (summary, json, includeEvents) = (false, false, false)
            svgPick = pick
        case .json(let events):
            (summary, json, includeEvents) = (false, true, events)
        case .summary:
            (summary, json, includeEvents) = (true, false, false)
        }
    }

    /// A printer that keeps its output in memory, for `append(_:)`.
    convenience init(bufferingFor options: PrintOptions, labelFiles: Bool) {
        self.init(options: options, writer: OutputWriter(keepingInMemory: ()), labelFiles: labelFiles)
    }

    /// What comes before the first record: the summary's column titles, TSV's header, the HTML
    /// page's head.
    public func begin() {
        if summary { line(SummaryRenderer.header(width: options.width)) }
        if tsv { line(TSVRenderer.header()) }
        if html { writer.render { HTMLReport.begin(to: &$0) } }
    }

    /// `--format svg` found no connection that `--connection` names.
    public var pickMissing: Bool {
        if case .svg = options.format { return svgPick != nil }
        return false
    }

    private func write(_ s: String) { writer.write(s) }

    private func line(_ s: String) { writer.line(s) }

    /// A line whose bytes `body` writes straight into the output (no String in between).
    private func line(_ body: (inout ByteCursor) -> Void) {
        writer.render {
            body(&$0)
            $0.write(0x0a)
        }
    }

    public func print(_ record: ConnectionRecord, source: String) {
        print(CollectionOfOne(record), source: source)
    }

    /// Prints `records`, in order. A batch at a time: the file's renderer is looked up once,
    /// and each record is read where it lies rather than copied out.
    public func print<Records: RandomAccessCollection>(_ records: Records, source: String) where Records.Element == ConnectionRecord {
        if let comments {
            for i in records.indices { comments.add(records[i]) }
            if silent { return }
        }
        if options.diagnosis != nil || options.only != nil {
            offered += records.count
            let code = options.diagnosis, only = options.only
            let kept = records.filter { r in
                (code.map { c in r.diagnoses.contains { $0.code == c } } ?? true) && (only?.selects(r) ?? true)
            }
            if kept.count < records.count {
                let held = comments
                comments = nil   // given them already
                defer { comments = held }
                print(kept, source: source)   // which keeps them all
                return
            }
        }
        if summary {
            let renderer = summaryRenderer(for: source)
            var tally = TeardownTally()
            swap(&tally, &self.tally)   // counted in a local: no access check per record
            for i in records.indices {
                tally.add(records[i])
                line { renderer.write(records[i], to: &$0) }
            }
            swap(&tally, &self.tally)
            printed += records.count
        } else if html {
            let renderer = htmlRenderer(for: source)
            for i in records.indices { htmlTally.add(records[i]) }
            writer.render { renderer.writeBatch(records, to: &$0) }
            printed += records.count
        } else if case .svg = options.format {
            guard let pick = svgPick, let i = records.firstIndex(where: pick.picks) else { return }
            svgPick = nil
            writer.render { LadderSVG.write(records[i], source: source, standalone: true, to: &$0) }
            printed += 1
        } else if json {
            let renderer = jsonRenderer(for: source)
            for i in records.indices { line { renderer.write(records[i], to: &$0) } }
            printed += records.count
        } else if tsv {
            let renderer = tsvRenderer(for: source)
            for i in records.indices { line { renderer.write(records[i], to: &$0) } }
            printed += records.count
        } else {
            let renderer = timelineRenderer(for: source)
            for i in records.indices {
                printed += 1
                let separated = printed > 1   // a blank line between timelines
                writer.render { c in
                    if separated { c.write(0x0a) }
                    renderer.write(records[i], to: &c)
                }
            }
        }
    }

    private func summaryRenderer(for source: String) -> SummaryRenderer.FileRenderer {
        if let file = summaryFile, file.source == source { return file.renderer }
        let renderer = SummaryRenderer.FileRenderer(source: labelFiles ? source : nil, width: options.width)
        summaryFile = (source, renderer)
        return renderer
    }

    private func timelineRenderer(for source: String) -> TimelineRenderer.FileRenderer {
        if let file = timelineFile, file.source == source { return file.renderer }
        let renderer = TimelineRenderer.FileRenderer(options: RenderOptions(color: color, source: source, width: options.width))
        timelineFile = (source, renderer)
        return renderer
    }

    private func htmlRenderer(for source: String) -> HTMLReport.FileRenderer {
        if let file = htmlFile, file.source == source { return file.renderer }
        let renderer = HTMLReport.FileRenderer(source: labelFiles ? source : nil, label: source)
        htmlFile = (source, renderer)
        return renderer
    }

    private func tsvRenderer(for source: String) -> TSVRenderer.FileRenderer {
        if let file = tsvFile, file.source == source { return file.renderer }
        let renderer = TSVRenderer.FileRenderer(source: source)
        tsvFile = (source, renderer)
        return renderer
    }

    private func jsonRenderer(for source: String) -> JSONLinesRenderer.FileRenderer {
        if let file = jsonFile, file.source == source { return file.renderer }
        let renderer = JSONLinesRenderer.FileRenderer(source: source, includeEvents: includeEvents)
        jsonFile = (source, renderer)
        return renderer
    }

    /// Prints what a buffering printer held back, as if its records had been printed here.
    func append(_ other: RecordPrinter) {
        offered += other.offered
        guard other.printed > 0 else { return }
        if case .svg = options.format {   // the first file's connection that fits, only
            guard svgPick != nil else { return }
            svgPick = nil
        }
        if printed > 0 && !summary && !json && !tsv && !html && !isSVG { line("") }
        // In slices, so a writer to a file flushes as it goes.
        let kept = other.writer.kept
        var offset = 0
        while offset < kept.count {
            let end = min(kept.count, offset + (1 << 16))
            writer.append(UnsafeRawBufferPointer(rebasing: kept[offset..<end]))
            offset = end
        }
        printed += other.printed
        tally.merge(other.tally)
        htmlTally.merge(other.htmlTally)
    }

    private var isSVG: Bool {
        if case .svg = options.format { return true }
        return false
    }

    /// One line when `--only` or `--diagnosis` kept none of the connections read (some were):
    /// without it a timeline or JSON output would be empty without a word. A warning, as the
    /// line for a filter that matched no packet is: the input was read, and the status is 0.
    public func reportNothingSelected() {
        guard let words = options.selectionWords, printed == 0, offered > 0 else { return }
        Diagnostics.warning("none of the \(offered) connection\(offered == 1 ? "" : "s") read fit \(words)")
    }

    /// What comes after the last record: the summary's tally.
    public func finish() {
        if summary {
            line("")
            write(tally.render(color: color))
        }
        if html { writer.render { HTMLReport.end(htmlTally, to: &$0) } }
    }
}

extension RecordPrinter {
    /// Writes out what is buffered (live output goes out a connection at a time).
    public func flush() { writer.flush() }
}
