import Foundation
import Testing
import TeardownDriver
import TeardownModel

/// Every claim cites works the bibliography lists, and docs/sources.md lists each work with
/// the words verdicts cite it by and the experiments whose claims cite it.
@Suite struct BibliographyTests {
    static var page: String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return (try? String(contentsOf: root.appendingPathComponent(Bibliography.page), encoding: .utf8)) ?? ""
    }

    @Test func everyClaimCitesListedWorks() {
        let known = Set(Bibliography.works.map(\.key))
        for e in Experiments.all {
            for c in e.claims {
                let keys = Bibliography.keys(c.source)
                #expect(!keys.isEmpty, "\(e.name)/\(c.id) cites nothing")
                for k in keys { #expect(known.contains(k), "\(e.name)/\(c.id) cites \(k), which \(Bibliography.page) does not list") }
            }
        }
    }

    @Test func citedInWords_severalJoined_unknownAsIs() {
        #expect(Bibliography.cite("seeds/001, seeds/003") == "Netty close() article; SO_LINGER lesson")
        #expect(Bibliography.cite("seeds/000") == "socket-close blog post (2018)")
        #expect(Bibliography.cite("textbook") == "textbook")
        #expect(!Bibliography.cite("seeds/004").contains("seeds/"))
    }

    /// The page's entry for each work: a heading with its key, the words, and "Cited by" with
    /// exactly the experiments whose claims cite it.
    @Test func pageListsEveryWork_withTheExperimentsCitingIt() {
        let page = BibliographyTests.page
        #expect(!page.isEmpty, "\(Bibliography.page) is missing")
        let sections = page.components(separatedBy: "\n## ").dropFirst()
        #expect(sections.count == Bibliography.works.count)
        for w in Bibliography.works {
            let citing = Experiments.all.filter { e in e.claims.contains { Bibliography.keys($0.source).contains(w.key) } }.map(\.name)
            guard let section = sections.first(where: { $0.contains("`\(w.key)`") }) else {
                Issue.record("\(Bibliography.page) has no section for \(w.key)")
                continue
            }
            #expect(section.contains("Cited as: “\(w.words)”"), "\(w.key)")
            let line = section.split(separator: "\n").first { $0.hasPrefix("Cited by: ") }.map(String.init) ?? ""
            let listed = line.dropFirst("Cited by: ".count).split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "`.[]")).components(separatedBy: "](").first ?? ""
            }
            #expect(listed == citing, "\(w.key): the page says \(listed), the claims \(citing)")
        }
    }
}
