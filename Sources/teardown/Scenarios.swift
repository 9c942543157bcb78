import ArgumentParser
import Foundation
import TeardownDriver

struct Scenarios: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the bundled experiments.")

    func run() throws {
        let all = Experiments.all
        let width = all.map(\.name.count).max() ?? 0
        for e in all {
            print(e.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + e.summary)
        }
    }
}
