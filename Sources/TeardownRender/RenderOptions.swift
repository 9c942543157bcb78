/// How to render: colour on or off, the label of the input the connection came from, and the
/// width of the terminal the text is for.
public struct RenderOptions: Sendable {
    /// Emit ANSI SGR colour codes (ECMA-48 §8.3.117). Off means not one escape byte is written.
    public var color: Bool
    /// The input's label (a file name, `-` for stdin), shown in the header; nil hides it.
    public var source: String?
    /// The columns of the terminal the output is for (`--width`, the terminal's size, `COLUMNS`);
    /// nil (a pipe or a file): the wide layout, lines as long as their content. With a width, a
    /// timeline whose wide ladder does not fit takes the compact one, and text lines longer than
    /// the width are broken at spaces.
    public var width: Int?
    public init(color: Bool = false, source: String? = nil, width: Int? = nil) {
        self.color = color
        self.source = source
        self.width = width
    }
}
