import Foundation

/// Where an experiment's threads write down its `Findings` while it runs: `notes.port = p`
/// sets the field `port`. Every access, a nested one such as `notes.runs[key].port = p`
/// included, holds the notebook's lock throughout, so the server's and the client's threads
/// can write at the same time.
@dynamicMemberLookup
public final class Notebook<Findings>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Findings

    init(_ value: Findings) { self.value = value }

    public subscript<T>(dynamicMember field: WritableKeyPath<Findings, T>) -> T {
        get { self[field] }
        set { self[field] = newValue }
        _modify { lock.lock(); defer { lock.unlock() }; yield &value[keyPath: field] }
    }

    /// The field at `field`, for a part chosen at run time: `notes[connection].port = p`.
    public subscript<T>(_ field: WritableKeyPath<Findings, T>) -> T {
        get { lock.lock(); defer { lock.unlock() }; return value[keyPath: field] }
        set { lock.lock(); defer { lock.unlock() }; value[keyPath: field] = newValue }
        _modify { lock.lock(); defer { lock.unlock() }; yield &value[keyPath: field] }
    }

    /// What was written down, for the judge.
    var findings: Findings { lock.lock(); defer { lock.unlock() }; return value }
}
