extension Experiments {
    /// Experiments 10-15.
    static var groupB: [Experiment] { [] }
}
