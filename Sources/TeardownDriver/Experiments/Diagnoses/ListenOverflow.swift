import Foundation
import TeardownModel
import TeardownRender
import TeardownWire

/// A listener that does not keep up (issue 16, `listen-overflow`): backlog 1, never accepting,
/// TCP_DEFER_ACCEPT (so a connection joins the accept queue only when its first data arrives, as
/// with nginx's `deferred`), and net.ipv4.tcp_abort_on_overflow=1 in the namespace. Three
/// clients complete their handshakes, then each sends a request: a request that finds the queue
/// full is answered with an RST (on Linux 6.18 the second's, the kernel's reason INVALID_SYN, that
/// of every reset of a connection not yet accepted). A fourth client's SYN, arriving while the
/// queue is full, is dropped and retransmitted (every second at first); it is never answered.
public struct ListenOverflow: Experiment {
    public var name: String { "listen-overflow" }
    public var summary: String { "A listener with backlog 1 that never accepts: with tcp_abort_on_overflow=1 a completed handshake's request draws an RST; a SYN to the full queue is dropped" }
    public var sysctls: [(String, String)] { [("net.ipv4.tcp_abort_on_overflow", "1")] }
    public var claims: [Claim] {
        [Claim("abort-on-overflow", "with tcp_abort_on_overflow=1 a connection that finds the accept queue full is reset", source: "tcp(7)"),
         Claim("syn-dropped", "a SYN that arrives while the accept queue is full is dropped, and the client retransmits it", source: "tcp(7)"),
         Claim("diagnosed", "teardown diagnoses listen-overflow on the reset connection", source: "tcp(7)")]
    }

    static let clients = 3, request = 100, waitMs = 3500

    public init() {}

    public struct Findings: ExperimentFindings {
        var port: UInt16?
        var readResults: [Int] = []
        var readErrnos: [String] = []
        var lateConnect: String?
        public init() {}
    }

    public func perform(_ lab: Lab, _ notes: Notebook<Findings>) throws {
        let listener = try lab.listener(backlog: 1) { $0.setDeferAccept(seconds: 10) }
        let port = listener.local!.port
        notes.port = port
        // All handshakes first (with TCP_DEFER_ACCEPT none joins the queue yet), then the requests.
        let sockets = try (0..<ListenOverflow.clients).map { _ in try lab.connect(to: port) }
        for c in sockets {
            c.write(count: ListenOverflow.request)
            lab.sleep(ms: 20)
        }
        for c in sockets {
            c.setNonBlocking(true)
            let n = c.read(max: 1024)
            notes.readResults.append(n)
            notes.readErrnos.append(n < 0 ? errnoName(c.lastErrno) : "")
        }
        let late = try lab.socket("client")
        late.setNonBlocking(true)
        notes.lateConnect = late.connect(lab.endpoint(port))   // EINPROGRESS: its SYN is dropped
        lab.sleep(ms: ListenOverflow.waitMs)
        late.close()
        for c in sockets { c.close() }
        listener.close()
        lab.join()
    }

    public func judge(_ o: Observation, _ found: Findings) -> [ClaimResult] {
        guard let port = found.port else { return Evidence.inconclusive(claims, "no listener") }
        let rs = o.records(serverPort: port)
        let reset = rs.first { r in r.rst?.from == .resp && r.resp.packets == r.resp.syn + r.resp.rst }
        let rst = reset.flatMap { r in o.packets(r, from: .resp, with: .rst).first }
        let late = rs.first { $0.resp.packets == 0 }
        let syns = late.map { o.packets($0, from: .orig, with: .syn) } ?? []
        let gaps = zip(syns.dropFirst(), syns).map { $0.time.nanoseconds - $1.time.nanoseconds }
        let reads = zip(found.readResults, found.readErrnos).map { "read() = \($0)\($1.isEmpty ? "" : " " + $1)" }.joined(separator: ", ")
        return [
            ClaimResult(claims[0], holdsIf: reset != nil && found.readErrnos.filter { $0 == "ECONNRESET" }.count == 1
                        && Evidence.reasonIs(reset!, rst, ["TCP_ABORT_ON_OVERFLOW", "INVALID_SYN"]),   // 6.18 gives its embryonic reset INVALID_SYN
                        (reset.map { r in Evidence.withReset("connection \(r.index): " + (rst.map { "\(Observation.describe($0)) from the server, which had sent only its SYN-ACK" } ?? "no RST"), r, rst) } ?? "no connection reset by the listener")
                        + "; the \(ListenOverflow.clients) clients' reads: \(reads)"),
            ClaimResult(claims[1], holdsIf: found.lateConnect == "EINPROGRESS" && syns.count >= 2 && late?.resp.packets == 0,
                        "the fourth client's connect() = \(found.lateConnect ?? "0"); " + (late.map { "connection \($0.index): \(syns.count) SYNs, gaps " + gaps.map { Observation.ms($0) }.joined(separator: ", ") + ", none answered" } ?? "no unanswered connection")),
            ClaimResult(claims[2], holdsIf: reset.map { Evidence.diagnosis($0, .listenOverflow) != nil } ?? false,
                        reset.map { Evidence.diagnosisText($0, .listenOverflow) } ?? "no connection reset by the listener"),
        ]
    }
}
