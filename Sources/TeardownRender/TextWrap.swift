/// Lines broken at spaces to fit a terminal's width, for the text a terminal would otherwise
/// wrap at its edge (header fields, notes, the summary's endpoints): the continuation lines are
/// indented under the text they continue.
///
/// Columns are counted as the timeline counts them, one per Unicode scalar (every glyph drawn
/// is one column), and ANSI escape sequences (ECMA-48 CSI: ESC `[` … a final byte in
/// 0x40–0x7E) count for none; a line is only broken at a space outside such a sequence. A word
/// longer than the room stands alone on its line.
enum TextWrap {
    /// Columns `bytes` takes on a terminal.
    static func columns<Bytes: Collection>(_ bytes: Bytes) -> Int where Bytes.Element == UInt8 {
        var n = 0
        var inEscape = false, afterESC = false
        for b in bytes {
            if afterESC {
                afterESC = false
                inEscape = b == UInt8(ascii: "[")
                continue
            }
            if inEscape {
                if b >= 0x40 && b <= 0x7E { inEscape = false }
                continue
            }
            if b == 0x1B { afterESC = true; continue }
            if b & 0xC0 != 0x80 { n += 1 }
        }
        return n
    }

    /// What `body` writes, each line longer than `limit` columns broken at spaces, each
    /// continuation after `indent` spaces; nil `limit`: `body`'s bytes as they are.
    static func write(limit: Int?, indent: Int, _ c: inout ByteCursor, _ body: (inout ByteCursor) -> Void) {
        guard let limit else { body(&c); return }
        var bytes: [UInt8] = []
        ByteCursor.append(to: &bytes, initialCapacity: 512, body)
        var start = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: 0x0a) ?? bytes.count
            wrapLine(bytes[start..<end], limit: limit, indent: indent, &c)
            if end < bytes.count { c.write(0x0a) }
            start = end + 1
        }
    }

    /// One line (no newline), broken at spaces where it passes `limit`.
    static func wrapLine(_ line: ArraySlice<UInt8>, limit: Int, indent: Int, _ c: inout ByteCursor) {
        guard columns(line) > limit else {
            line.withUnsafeBytes { c.write($0) }
            return
        }
        var width = 0
        var hasWord = false     // the output line holds a word after its indent
        var pending = 0         // spaces before the next word (none at a break)
        var first = true
        for word in line.split(separator: 0x20, omittingEmptySubsequences: false) {
            if !first { pending += 1 }
            first = false
            if word.isEmpty { continue }
            let w = columns(word)
            if w == 0 {   // escape sequences alone: no column
                word.withUnsafeBytes { c.write($0) }
                continue
            }
            if hasWord && width + pending + w > limit {
                c.write(0x0a)
                c.writeSpaces(indent)
                width = indent
                pending = 0
            }
            c.writeSpaces(pending)
            width += pending
            pending = 0
            word.withUnsafeBytes { c.write($0) }
            width += w
            hasWord = true
        }
    }
}
