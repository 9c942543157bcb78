import Foundation
import TeardownModel
import TeardownRender
import TeardownWire

/// A peer whose TCP forgot the connection without a word (issue 16, `peer-restarted`), as when
/// its host reboots or its network namespace is torn down: after one exchange the server's
/// socket is aborted (SO_LINGER {1, 0}) while an nftables output rule in the namespace drops
/// everything from the server's port, so its RST never reaches the wire; the rule is then
/// removed. 1.5 s later the client sends its next request, and the server's kernel, which has
/// no socket for it, answers with a bare RST (reason NO_SOCKET); the client reads ECONNRESET.
public struct PeerRestarted: Experiment {
    public var name: String { "peer-restarted" }
    public var summary: String { "The server's TCP loses the connection silently (its RST dropped, as if its host restarted): the client's next request draws a bare RST" }
    public var requiredPrograms: [(program: String, package: String)] { [("nft", "nftables")] }
    public var claims: [Claim] {
        [Claim("silent-loss", "a peer whose TCP lost the connection without sending anything leaves the other side ESTABLISHED, unaware", source: "RFC 9293 §3.10.7.1"),
         Claim("bare-rst", "the next segment with data draws a bare RST (no ACK) from the peer's TCP, which has no connection for it, and ECONNRESET", source: "RFC 9293 §3.10.7.1"),
         Claim("diagnosed", "teardown diagnoses peer-restarted", source: "RFC 9293 §3.10.7.1")]
    }

    static let message = 100, quietMs = 1500

    public init() {}

    public struct Findings: ExperimentFindings {
        var port: UInt16?
        var clientSocket: [KernelSocket] = []
        var serverSocket: [KernelSocket] = []
        var clientErrno = ""
        public init() {}
    }

    public func perform(_ lab: Lab, _ notes: Notebook<Findings>) throws {
        let listener = try lab.listener()
        let port = listener.local!.port
        notes.port = port
        let c = try lab.connect(to: port)
        let s = try listener.accept()
        listener.close()
        c.write(count: PeerRestarted.message)
        s.read(max: 1024)
        s.write(count: PeerRestarted.message)
        c.read(max: 1024)
        lab.sleep(ms: 50)
        // The server's TCP forgets the connection; nothing it sends reaches the wire meanwhile.
        try lab.nftRule(hook: "output", "tcp sport \(port) drop")
        s.setLinger(on: true, seconds: 0)
        s.close()
        try lab.nft(["delete", "table", "inet", "teardown"])
        let sockets = KernelSockets.snapshot()
        notes.clientSocket = sockets.filter { $0.remote.port == port }
        notes.serverSocket = sockets.filter { $0.local.port == port }
        lab.sleep(ms: PeerRestarted.quietMs)
        c.write(count: PeerRestarted.message)
        lab.sleep(ms: 50)
        c.read(max: 1024)
        notes.clientErrno = errnoName(c.lastErrno)
        c.close()
        lab.join()
    }

    public func judge(_ o: Observation, _ found: Findings) -> [ClaimResult] {
        guard let port = found.port, let r = o.records(serverPort: port).first,
              let write = Evidence.calls(o, r, .orig, "write(").last,
              let abort = Evidence.calls(o, r, .resp, "close()").first else {
            return Evidence.inconclusive(claims, "the connection, the server's close() or the client's last write was not captured")
        }
        let between = Evidence.packets(o, r, from: .resp, after: abort.time, before: write.time)
        let rst = Evidence.packets(o, r, from: .resp, with: .rst, after: write.time).first
        return [
            ClaimResult(claims[0], holdsIf: between.isEmpty && found.serverSocket.isEmpty && found.clientSocket.first?.state == "ESTABLISHED",
                        "\(between.count) segments from the server between its close() and the client's next write; "
                        + Evidence.kernel(found.clientSocket + found.serverSocket)),
            ClaimResult(claims[1], holdsIf: rst.map { !$0.flags.contains(.ack) } == true && found.clientErrno == "ECONNRESET"
                        && Evidence.reasonIs(r, rst, ["NO_SOCKET"]),
                        Evidence.withReset((rst.map { Evidence.describe($0, after: write) + ($0.flags.contains(.ack) ? ", with ACK" : ", bare") } ?? "no RST from the server")
                                           + "; the client's read() then failed with \(found.clientErrno)", r, rst)),
            ClaimResult(claims[2], holdsIf: Evidence.diagnosis(r, .peerRestarted) != nil, Evidence.diagnosisText(r, .peerRestarted)),
        ]
    }
}
