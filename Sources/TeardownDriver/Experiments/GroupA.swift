extension Experiments {
    /// Experiments 4-9.
    static var groupA: [Experiment] { [] }
}
