import Testing
@testable import TeardownPipeline

/// The -w file names under -C, -G and -W, as tcpdump's MakeFilename makes them.
struct CaptureFileRingTests {
    @Test func namesAsTcpdumpMakesThem() {
        typealias L = CaptureFileRing.Limits
        let c = L(bytes: 1_000_000)
        #expect(CaptureFileRing.name(pattern: "x.pcap", count: 0, limits: c, at: 0) == "x.pcap")
        #expect(CaptureFileRing.name(pattern: "x.pcap", count: 1, limits: c, at: 0) == "x.pcap1")
        #expect(CaptureFileRing.name(pattern: "x.pcap", count: 12, limits: c, at: 0) == "x.pcap12")
        // -W: as many digits as ceil(log10(W)), from the first file on.
        for (w, first, last) in [(1, "x", "x"), (2, "x0", "x1"), (10, "x0", "x9"), (11, "x00", "x10"), (100, "x00", "x99"), (101, "x000", "x100")] {
            let l = L(bytes: 1_000_000, files: w)
            #expect(CaptureFileRing.name(pattern: "x", count: 0, limits: l, at: 0) == first, "\(w)")
            #expect(CaptureFileRing.name(pattern: "x", count: w - 1, limits: l, at: 0) == last, "\(w)")
        }
        // -G: strftime(3), local time (%s does not depend on the zone).
        let g = L(seconds: 60)
        #expect(CaptureFileRing.name(pattern: "t-%s.pcap", count: 0, limits: g, at: 1_700_000_000) == "t-1700000000.pcap")
        #expect(CaptureFileRing.name(pattern: "t-%s.pcap", count: 2, limits: L(bytes: 1, seconds: 60), at: 1_700_000_000) == "t-1700000000.pcap2")
        // -W with -G alone numbers nothing (it only stops the capture).
        #expect(CaptureFileRing.name(pattern: "t-%s.pcap", count: 0, limits: L(seconds: 1, files: 2), at: 1_700_000_000) == "t-1700000000.pcap")
        // Without -G a % is a character of the name.
        #expect(CaptureFileRing.name(pattern: "100%.pcap", count: 0, limits: c, at: 0) == "100%.pcap")
    }
}
