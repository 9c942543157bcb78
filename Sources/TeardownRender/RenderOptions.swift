/// How to render: colour on or off, and the label of the input the connection came from.
public struct RenderOptions: Sendable {
    /// Emit ANSI SGR colour codes (ECMA-48 §8.3.117). Off means not one escape byte is written.
    public var color: Bool
    /// The input's label (a file name, `-` for stdin), shown in the header; nil hides it.
    public var source: String?
    public init(color: Bool = false, source: String? = nil) { self.color = color; self.source = source }
}
