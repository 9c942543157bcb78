/// Every bundled experiment, in the order `run all` runs them.
public enum Experiments {
    public static var all: [Experiment] { core + groupA + groupB }

    static var core: [Experiment] { [CloseFirst(closer: .orig), CloseFirst(closer: .resp), LingerZero()] }

    public static func named(_ name: String) -> Experiment? { all.first { $0.name == name } }
}
