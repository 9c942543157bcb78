import TeardownModel

/// `--only KIND[,KIND]`: which connections are printed. A connection is printed when any of
/// the words fits it: a teardown kind (`graceful`, `abort-by-originator`, … the midstream
/// ones included), a Zeek conn_state (`RSTO`, `SF`, …), `reset` (an RST was seen), `lost`
/// (bytes were lost: written and never read, or in flight when the RST came), or a diagnosis
/// code (docs/diagnoses.md).
public struct ConnectionSelection: Sendable, Equatable {
    public enum Term: Sendable, Hashable {
        case kind(TeardownKind)
        case state(ZeekConnState)
        case reset
        case lost
        case diagnosis(Diagnosis.Code)
    }

    public var terms: [Term]
    /// The words as given (for the line saying that none fit).
    public var given: String = ""

    /// Every word `--only` takes, in the order the error lists them.
    public static var words: [String] {
        TeardownKind.allCases.map(\.rawValue) + ZeekConnState.allCases.map(\.rawValue) + ["reset", "lost"]
            + Diagnosis.Code.allCases.map(\.rawValue)
    }

    /// The words of `text` (comma-separated), or the first word that is none of `words`.
    public static func parse(_ text: String) -> Result<ConnectionSelection, UnknownWord> {
        var terms: [Term] = []
        for word in text.commaSeparatedWords {
            if let k = TeardownKind(rawValue: word) { terms.append(.kind(k)) }
            else if let s = ZeekConnState(rawValue: word) { terms.append(.state(s)) }
            else if word == "reset" { terms.append(.reset) }
            else if word == "lost" { terms.append(.lost) }
            else if let d = Diagnosis.Code(rawValue: word) { terms.append(.diagnosis(d)) }
            else { return .failure(UnknownWord(word: word)) }
        }
        if terms.isEmpty { return .failure(UnknownWord(word: text)) }
        var selection = ConnectionSelection(terms: terms)
        selection.given = text
        return .success(selection)
    }

    public struct UnknownWord: Error, Equatable {
        public var word: String
    }

    public init(terms: [Term]) { self.terms = terms }

    public func selects(_ r: ConnectionRecord) -> Bool {
        terms.contains { term in
            switch term {
            case .kind(let k): return r.teardown.kind == k
            case .state(let s): return r.connState == s
            case .reset: return r.rst != nil
            case .lost: return Self.lostBytes(r.orig.bytes) || Self.lostBytes(r.resp.bytes)
            case .diagnosis(let d): return r.diagnoses.contains { $0.code == d }
            }
        }
    }

    /// Bytes known lost in a direction: written by the application and not read by the peer's
    /// (with socket calls), or sent and unacknowledged when the RST came.
    static func lostBytes(_ l: DirectionLedger) -> Bool {
        (l.lost ?? 0) > 0 || (l.inFlightAtRST ?? 0) > 0
    }
}
