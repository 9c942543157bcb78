import TeardownModel
import TeardownRender

/// A connection's diagnoses as evidence (docs/diagnoses.md): the experiments that make a
/// pattern happen also judge whether teardown names it.
extension Evidence {
    /// The diagnosis `code` of `r`, if teardown made it.
    static func diagnosis(_ r: ConnectionRecord, _ code: Diagnosis.Code) -> Diagnosis? {
        r.diagnoses.first { $0.code == code }
    }

    /// "diagnosed keepalive-race (high) · evidence packets 7, 9, 10: <its text>", or what was
    /// diagnosed instead.
    static func diagnosisText(_ r: ConnectionRecord, _ code: Diagnosis.Code) -> String {
        guard let d = diagnosis(r, code) else {
            let made = r.diagnoses.map(\.code.rawValue)
            return "no \(code.rawValue) diagnosis" + (made.isEmpty ? " (none made)" : "; made: " + made.joined(separator: ", "))
        }
        return "diagnosed \(code.rawValue) (\(d.confidence.rawValue)) · evidence packets "
            + d.evidence.map(String.init).joined(separator: ", ") + ": " + d.text
    }
}
