import TeardownModel

/// `--connection N` or `--connection ADDR:PORT,ADDR:PORT`: the one connection `--format svg`
/// draws. N is its index, as the timeline's title and JSON's `index` give it; two endpoints
/// (either order, IPv6 in brackets: `[::1]:5001`) name its 4-tuple, and the first connection
/// on it is drawn.
public enum ConnectionPick: Sendable, Equatable, CustomStringConvertible {
    case index(Int)
    case endpoints(String, String)

    /// The pick `text` names, or nil when it is neither a positive number nor two endpoints.
    public static func parse(_ text: String) -> ConnectionPick? {
        let trimmed = text.commaSeparatedWords
        if trimmed.count == 1, let n = Int(trimmed[0]), n > 0 { return .index(n) }
        var words = trimmed
        if words.count == 1 { words = text.split(whereSeparator: { $0 == " " }).map(String.init) }
        guard words.count == 2, words.allSatisfy({ Self.looksLikeEndpoint($0) }) else { return nil }
        return .endpoints(words[0], words[1])
    }

    /// `host:port` or `[v6]:port`, the port a number.
    static func looksLikeEndpoint(_ w: String) -> Bool {
        guard let colon = w.lastIndex(of: ":"), colon != w.startIndex,
              let port = Int(w[w.index(after: colon)...]), (0...65535).contains(port) else { return false }
        return true
    }

    public func picks(_ r: ConnectionRecord) -> Bool {
        switch self {
        case .index(let n): return r.index == n
        case .endpoints(let a, let b):
            let o = r.orig.endpoint.description, s = r.resp.endpoint.description
            return (o == a && s == b) || (o == b && s == a)
        }
    }

    public var description: String {
        switch self {
        case .index(let n): return "\(n)"
        case .endpoints(let a, let b): return "\(a),\(b)"
        }
    }
}
