/// Text inside XML, SVG and HTML: the five characters markup gives a meaning escaped, and
/// the characters XML 1.0 forbids (C0 controls but tab, DEL's neighbours the C1 controls,
/// U+FFFE, U+FFFF; XML 1.0 §2.2) replaced by U+FFFD, so that no text from a capture or a
/// sidecar can end an element, open one, or make the document unreadable to a parser.
extension ByteCursor {
    mutating func writeMarkupSafe(_ text: String) {
        text.withUTF8Bytes { writeMarkupSafe(bytes: $0) }
    }

    mutating func writeMarkupSafe(bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        let n = bytes.count
        var run = 0
        var i = 0
        while i < n {
            let b = base.load(fromByteOffset: i, as: UInt8.self)
            var replacement: StaticString?
            var skip = 1
            switch b {
            case UInt8(ascii: "&"): replacement = "&amp;"
            case UInt8(ascii: "<"): replacement = "&lt;"
            case UInt8(ascii: ">"): replacement = "&gt;"
            case UInt8(ascii: "\""): replacement = "&quot;"
            case UInt8(ascii: "'"): replacement = "&#39;"
            case 0x09: break
            case 0x00..<0x20, 0x7F: replacement = "\u{FFFD}"
            case 0xC2 where i + 1 < n && (0x80...0x9F).contains(base.load(fromByteOffset: i + 1, as: UInt8.self)):
                replacement = "\u{FFFD}"; skip = 2
            case 0xEF where i + 2 < n && base.load(fromByteOffset: i + 1, as: UInt8.self) == 0xBF
                && (0xBE...0xBF).contains(base.load(fromByteOffset: i + 2, as: UInt8.self)):
                replacement = "\u{FFFD}"; skip = 3
            default: break
            }
            if let replacement {
                write(UnsafeRawBufferPointer(start: base + run, count: i - run))
                write(replacement)
                i += skip
                run = i
            } else {
                i += 1
            }
        }
        write(UnsafeRawBufferPointer(start: base + run, count: n - run))
    }
}
