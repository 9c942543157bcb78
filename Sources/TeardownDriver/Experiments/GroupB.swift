extension Experiments {
    /// Experiments 10-15.
    static var groupB: [Experiment] {
        [ForkShared(), ExitWithoutClose(), OrphanFinWait2(), Echo(halfClose: false), Echo(halfClose: true),
         PeekDetect(), SimultaneousClose()]
    }
}
