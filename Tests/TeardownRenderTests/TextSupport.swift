import TeardownModel
import TeardownWire
@testable import TeardownRender

// The renderers write bytes; the tests read what they wrote as text.

/// What `body` writes, as a String.
func text(_ body: (inout ByteCursor) -> Void) -> String { ByteCursor.string(body) }

extension String {
    /// Columns this text takes as the renderers count them: one per Unicode scalar (every
    /// glyph they draw is single-width).
    var displayWidth: Int { unicodeScalars.count }
}

extension Timeline {
    /// A packet's label as the timeline writes it.
    static func label(_ p: PacketEvent) -> String { text { writeLabel(p, &$0) } }
}

extension SummaryRenderer {
    /// One `--summary` line, without its newline.
    static func line(_ record: ConnectionRecord, source: String?) -> String {
        let file = FileRenderer(source: source)
        return text { file.write(record, to: &$0) }
    }
}

extension JSONWriter {
    /// What `body` writes through a JSON writer, as a String.
    static func text(_ body: (inout JSONWriter) -> Void) -> String {
        ByteCursor.string { cursor in
            var w = JSONWriter(cursor)
            body(&w)
            cursor = w.out
        }
    }
}
