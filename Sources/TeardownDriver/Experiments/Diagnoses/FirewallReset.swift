import Foundation
import TeardownModel
import TeardownRender
import TeardownWire

/// An RST that no endpoint sent (issue 16, `middlebox-reset`): after two request/response
/// exchanges an nftables rule in the experiment's namespace starts rejecting the flow (`tcp
/// dport PORT reject with tcp reset`, in the input hook), as a firewall would. The client's next
/// request draws an RST in the server's name, made by netfilter, not by the server's TCP: the
/// server's socket is still open and established. On loopback its TTL is the server's own, so
/// the packets cannot tell; the kernel lane can: no tcp_send_reset of this host accounts for it.
public struct FirewallReset: Experiment {
    public var name: String { "firewall-reset" }
    public var summary: String { "A firewall rule (nftables reject with tcp reset) answers the client's request with an RST in the server's name; the server's socket never reset" }
    public var requiredPrograms: [(program: String, package: String)] { [("nft", "nftables")] }
    public var claims: [Claim] {
        [Claim("client-reset", "the client's next request draws an RST in the server's name, and the client sees ECONNRESET", source: "NDSS 2009"),
         Claim("server-unaware", "the server's TCP did not send it: its socket is still established, and no reset of this host's TCP accounts for the RST", source: "NDSS 2009"),
         Claim("diagnosed", "teardown diagnoses middlebox-reset, from the kernel lane", source: "NDSS 2009")]
    }

    static let message = 100

    public init() {}

    public struct Findings: ExperimentFindings {
        var port: UInt16?
        var clientErrno = ""
        var serverSocket: [KernelSocket] = []
        public init() {}
    }

    public func perform(_ lab: Lab, _ notes: Notebook<Findings>) throws {
        let port = try lab.serve(closingListener: .afterServing) { s in
            for _ in 0..<2 {
                s.read(max: 1024)
                s.write(count: FirewallReset.message)
            }
            lab.closeAfterCapture(s)                            // never learns of the RST
        }
        notes.port = port
        let c = try lab.connect(to: port)
        for _ in 0..<2 {
            c.write(count: FirewallReset.message)
            c.read(max: 1024)
        }
        lab.sleep(ms: 50)
        try lab.nftRule(hook: "input", "tcp dport \(port) reject with tcp reset")
        c.write(count: FirewallReset.message)
        lab.sleep(ms: 50)
        c.read(max: 1024)
        notes.clientErrno = errnoName(c.lastErrno)
        notes.serverSocket = KernelSockets.snapshot().filter { $0.local.port == port && $0.state == "ESTABLISHED" }
        c.close()
        lab.join()
    }

    public func judge(_ o: Observation, _ found: Findings) -> [ClaimResult] {
        guard let port = found.port, let r = o.records(serverPort: port).first,
              let write = Evidence.calls(o, r, .orig, "write(").last else {
            return Evidence.inconclusive(claims, "the connection or the client's third write was not captured")
        }
        let rst = Evidence.packets(o, r, from: .resp, with: .rst, after: write.time).first
        let notSent = rst?.kernelReset == .notSentHere
        return [
            ClaimResult(claims[0], holdsIf: rst != nil && found.clientErrno == "ECONNRESET",
                        (rst.map { Evidence.describe($0, after: write) } ?? "no RST in the server's name") + "; the client's read() then failed with \(found.clientErrno)"),
            ClaimResult(claims[1], holdsIf: !found.serverSocket.isEmpty && (notSent || !Evidence.hasLane(r)),
                        Evidence.withReset(Evidence.kernel(found.serverSocket, none: "the kernel lists no established server socket"), r, rst)),
            Evidence.hasLane(r)
                ? ClaimResult(claims[2], holdsIf: Evidence.diagnosis(r, .middleboxReset) != nil, Evidence.diagnosisText(r, .middleboxReset))
                : ClaimResult(claims[2], .inconclusive, "no kernel lane (root and tracefs): the packets alone cannot tell this RST from the server's"),
        ]
    }
}
