import TeardownModel

/// The one colour system of teardown's text output: ANSI SGR sequences (ECMA-48 §8.3.117),
/// each named for what it marks. The timeline, the summary's tally and `run`'s report all
/// paint through it; with colour off nothing is painted, so that output holds no escape byte.
public struct Style: Sendable {
    /// The sequence that turns this style on (`ESC [ … m`); `reset` turns it off.
    public let sgr: StaticString

    public static let bold = Style(sgr: "\u{1B}[1m")
    public static let dim = Style(sgr: "\u{1B}[2m")
    public static let dimItalic = Style(sgr: "\u{1B}[2;3m")
    public static let red = Style(sgr: "\u{1B}[31m")
    public static let green = Style(sgr: "\u{1B}[32m")
    public static let yellow = Style(sgr: "\u{1B}[33m")
    public static let cyan = Style(sgr: "\u{1B}[36m")
    public static let boldRed = Style(sgr: "\u{1B}[1;31m")
    public static let boldGreen = Style(sgr: "\u{1B}[1;32m")
    public static let boldYellow = Style(sgr: "\u{1B}[1;33m")

    /// `ESC [ 0 m`: every style off.
    public static let reset: StaticString = "\u{1B}[0m"

    /// `text` wrapped in this style and a reset when `enabled`; untouched otherwise, and when
    /// empty (an empty text needs no colour).
    public func paint(_ text: String, when enabled: Bool) -> String {
        guard enabled, !text.isEmpty else { return text }
        return sgr.description + text + Style.reset.description
    }

    /// The colour a teardown kind is painted in, wherever it is named: green for the clean
    /// endings, red for the abrupt ones, yellow for the unfinished ones.
    static func colour(of kind: TeardownKind) -> (plain: Style, bold: Style) {
        switch kind {
        case .graceful, .simultaneousClose: return (.green, .boldGreen)
        case .abortByOriginator, .abortByResponder, .resetAfterClose, .refused: return (.red, .boldRed)
        case .halfClosed, .unanswered, .open: return (.yellow, .boldYellow)
        }
    }
}

extension ByteCursor {
    /// What `body` writes, wrapped in `style` and a reset when `enabled`. Every text painted
    /// this way is non-empty, as `Style.paint` requires for it to add the codes.
    @inline(__always)
    mutating func paint(_ style: Style, when enabled: Bool, _ body: (inout ByteCursor) -> Void) {
        if enabled { write(style.sgr) }
        body(&self)
        if enabled { write(Style.reset) }
    }
}
