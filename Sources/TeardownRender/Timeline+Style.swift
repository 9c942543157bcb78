import TeardownModel
import TeardownWire

/// The timeline's colours.
extension Timeline {
    /// ANSI SGR openings (ECMA-48 §8.3.117), as `Painter` writes them.
    enum Style {
        static let bold: StaticString = "\u{1B}[1m", dim: StaticString = "\u{1B}[2m"
        static let red: StaticString = "\u{1B}[31m", green: StaticString = "\u{1B}[32m"
        static let yellow: StaticString = "\u{1B}[33m", cyan: StaticString = "\u{1B}[36m"
        static let dimItalic: StaticString = "\u{1B}[2;3m", boldRed: StaticString = "\u{1B}[1;31m"
        static let reset: StaticString = "\u{1B}[0m"

        /// Bold in the colour of a teardown kind (`Timeline.colour(_:)`).
        static func bold(_ kind: TeardownKind) -> StaticString {
            switch kind {
            case .graceful, .simultaneousClose: return "\u{1B}[1;32m"
            case .abortByOriginator, .abortByResponder, .resetAfterClose, .refused: return "\u{1B}[1;31m"
            case .halfClosed, .unanswered, .open: return "\u{1B}[1;33m"
            }
        }
    }

    /// `body`'s text wrapped in `style` and a reset when colour is on. Every text painted
    /// here is non-empty, as `Painter.paint` requires for it to add the codes.
    @inline(__always)
    func paint(_ style: StaticString, _ c: inout ByteCursor, _ body: (inout ByteCursor) -> Void) {
        if color { c.write(style) }
        body(&c)
        if color { c.write(Style.reset) }
    }
}
