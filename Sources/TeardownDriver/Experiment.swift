import Foundation
import TeardownCapture
import TeardownModel
import TeardownWire
#if canImport(Glibc)
import Glibc
#endif

/// A claim from the literature that an experiment tests.
public struct Claim: Sendable, Hashable {
    /// Short stable identifier, e.g. `rst-instead-of-fin`.
    public var id: String
    public var text: String
    /// Where the claim comes from (the article in shared/seeds, or "textbook").
    public var source: String
    public init(_ id: String, _ text: String, source: String) { self.id = id; self.text = text; self.source = source }
}

public enum Verdict: String, Sendable {
    case holds
    case doesNotHold = "does-not-hold"
    case inconclusive
}

public struct ClaimResult: Sendable {
    public var claim: Claim
    public var verdict: Verdict
    /// What was observed: packet numbers, call results, durations.
    public var evidence: String
    public init(_ claim: Claim, _ verdict: Verdict, _ evidence: String) {
        self.claim = claim; self.verdict = verdict; self.evidence = evidence
    }
    /// `holds` when `condition`, else `does-not-hold`, with the same evidence either way.
    public init(_ claim: Claim, holdsIf condition: Bool, _ evidence: String) {
        self.init(claim, condition ? .holds : .doesNotHold, evidence)
    }
}

/// One bundled experiment: real socket calls on this kernel, and the claims they test.
public protocol Experiment {
    /// Command-line name, e.g. `linger-zero`.
    var name: String { get }
    /// One line for `teardown scenarios`.
    var summary: String { get }
    var claims: [Claim] { get }
    /// Sysctls to set inside the experiment's namespace first (e.g. a short tcp_fin_timeout).
    var sysctls: [(String, String)] { get }
    /// Makes the calls. Runs with capture already going; peers run on `lab.spawn` threads.
    func perform(_ lab: Lab) throws
    /// Judges every claim from what was captured and called.
    func judge(_ o: Observation) -> [ClaimResult]
}

extension Experiment {
    public var sysctls: [(String, String)] { [] }
}

/// What an experiment's code can use: sockets that record, threads, clocks, notes.
public final class Lab: @unchecked Sendable {
    public let log = CallLog()
    /// The address experiments use (loopback of the private namespace).
    public let host = IPAddress("127.0.0.1")!
    private var threads: [(String, DispatchSemaphore)] = []
    private let lock = NSLock()
    private var values: [String: Any] = [:]
    private var failures: [String] = []
    private var nextPort: UInt16

    init(basePort: UInt16) { nextPort = basePort }

    /// A fresh port for a listener.
    public func port() -> UInt16 {
        lock.lock(); defer { lock.unlock() }
        nextPort += 1
        return nextPort
    }

    public func endpoint(_ port: UInt16) -> Endpoint { Endpoint(address: host, port: port) }

    public func socket(_ actor: String, ipv6: Bool = false) throws -> DriverSocket {
        try DriverSocket.tcp(actor: actor, log: log, ipv6: ipv6)
    }

    /// A listening socket for `actor` on a fresh port, with options applied before listen().
    public func listener(_ actor: String = "server", receiveBuffer: Int32? = nil, port: UInt16? = nil) throws -> DriverSocket {
        let s = try socket(actor)
        s.setReuseAddress()
        if let rb = receiveBuffer { s.setReceiveBuffer(rb) }
        try s.bind(endpoint(port ?? self.port()))
        try s.listen()
        return s
    }

    /// Runs `body` on a new thread (it inherits this thread's network namespace).
    public func spawn(_ name: String, _ body: @escaping () throws -> Void) {
        let done = DispatchSemaphore(value: 0)
        let t = Thread { [weak self] in
            do { try body() } catch { self?.fail("\(name): \(error)") }
            done.signal()
        }
        t.stackSize = 1 << 20
        lock.lock(); threads.append((name, done)); lock.unlock()
        t.start()
    }

    /// Waits for every spawned thread (at most `timeout` seconds each).
    public func join(timeout: Double = 30) {
        lock.lock(); let ts = threads; threads.removeAll(); lock.unlock()
        for (name, sem) in ts where sem.wait(timeout: .now() + timeout) == .timedOut {
            fail("\(name) did not finish within \(Int(timeout)) s")
        }
    }

    public func sleep(ms: Int) { usleep(useconds_t(ms * 1000)) }

    /// Keeps a value for `judge` (e.g. a measured duration), keyed by name.
    public func set(_ key: String, _ value: Any) { lock.lock(); values[key] = value; lock.unlock() }
    func snapshot() -> [String: Any] { lock.lock(); defer { lock.unlock() }; return values }

    public func fail(_ message: String) { lock.lock(); failures.append(message); lock.unlock() }
    var problems: [String] { lock.lock(); defer { lock.unlock() }; return failures }
}

/// What an experiment produced, for judging claims.
public struct Observation {
    public var records: [ConnectionRecord]
    public var calls: [RecordedCall]
    public var values: [String: Any]
    /// SIGPIPE deliveries during the experiment.
    public var sigpipes: Int

    /// Calls by one actor whose text starts with `prefix`.
    public func calls(_ actor: String, _ prefix: String) -> [RecordedCall] {
        calls.filter { $0.actor == actor && $0.call.hasPrefix(prefix) }
    }

    public func value<T>(_ key: String, as: T.Type = T.self) -> T? { values[key] as? T }

    /// Packet rows of a record, in order.
    public func packets(_ r: ConnectionRecord) -> [PacketEvent] {
        r.events.compactMap { if case .packet(let p) = $0 { return p }; return nil }
    }

    /// Packet rows from `side` carrying all of `flags`.
    public func packets(_ r: ConnectionRecord, from side: Side, with flags: TCPFlags) -> [PacketEvent] {
        packets(r).filter { $0.from == side && $0.flags.isSuperset(of: flags) }
    }

    /// Every record whose server port is `port`, in order.
    public func records(serverPort port: UInt16) -> [ConnectionRecord] {
        records.filter { $0.resp.endpoint.port == port }
    }

    /// "packet 7 [R.]" for evidence text.
    public static func describe(_ p: PacketEvent) -> String {
        "packet \(p.number) [\(p.flags.tcpdumpString)]"
    }

    public static func describe(_ c: RecordedCall) -> String {
        var s = "\(c.actor) \(c.call) = \(c.result)"
        if let e = c.errno { s += " \(e)" }
        return s
    }

    public static func ms(_ ns: Int64) -> String {
        let v = Double(ns) / 1e6
        return v < 10 ? String(format: "%.3f ms", v) : String(format: "%.0f ms", v)
    }
}
