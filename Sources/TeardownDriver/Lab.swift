import Foundation
import TeardownCapture
import TeardownModel
import TeardownWire
#if canImport(Glibc)
import Glibc
#endif

/// What an experiment's code can use: sockets that record, threads, clocks, notes.
public final class Lab: @unchecked Sendable {
    public let log = CallLog()
    /// The address experiments use (loopback of the private namespace).
    public let host = IPAddress("127.0.0.1")!
    private var threads: [(String, DispatchSemaphore)] = []
    private let lock = NSLock()
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
    public func listener(_ actor: String = "server", receiveBuffer: Int32? = nil, port: UInt16? = nil, backlog: Int32 = 16,
                         configure: (DriverSocket) -> Void = { _ in }) throws -> DriverSocket {
        let s = try socket(actor)
        s.setReuseAddress()
        if let rb = receiveBuffer { s.setReceiveBuffer(rb) }
        configure(s)
        try s.bind(endpoint(port ?? self.port()))
        try s.listen(backlog: backlog)
        return s
    }

    /// Keeps `s` open until the capture has stopped, then closes it: a socket its application
    /// leaks (never closes) while the experiment is recorded.
    public func closeAfterCapture(_ s: DriverSocket) {
        lock.lock(); leaked.append(s); lock.unlock()
    }
    private var leaked: [DriverSocket] = []

    /// Closes what `closeAfterCapture` kept (the Runner calls it once the capture has stopped).
    func closeLeaked() {
        lock.lock(); let ss = leaked; leaked.removeAll(); lock.unlock()
        for s in ss where !s.isClosed { s.close() }
    }

    /// Runs `nft ARGS...` (nftables) in this thread's network namespace, e.g. a drop rule for
    /// the experiment's port; fails the experiment when nft is missing or refuses.
    public func nft(_ args: [String]) throws {
        try Subprocess.run(["nft"] + args)
    }

    /// Adds `rule` (nft's words, e.g. `tcp dport 5001 drop`) to the chain of netfilter hook
    /// `hook` ("input", "output") in the table `inet teardown`, making both on first use.
    public func nftRule(hook: String, _ rule: String) throws {
        try nft(["add", "table", "inet", "teardown"])
        try nft(["add", "chain", "inet", "teardown", hook, "{ type filter hook \(hook) priority 0; }"])
        try nft(["add", "rule", "inet", "teardown", hook] + rule.split(separator: " ").map(String.init))
    }

    /// When the listener of `serve` is closed.
    public enum ListenerClose { case afterAccept, afterServing }

    /// The server end of a connection: a listener on a fresh port (options applied before
    /// listen()), and a thread `thread` that accepts one connection and runs `server` with it.
    /// The listener is closed right after the accept, or once `server` has returned. Returns
    /// the port to connect to.
    public func serve(thread: String = "server", receiveBuffer: Int32? = nil, closingListener: ListenerClose = .afterAccept,
                      _ server: @escaping (DriverSocket) throws -> Void) throws -> UInt16 {
        let listener = try self.listener(receiveBuffer: receiveBuffer)
        spawn(thread) {
            let s = try listener.accept()
            if closingListener == .afterAccept { listener.close() }
            try server(s)
            if closingListener == .afterServing { listener.close() }
        }
        return listener.local!.port
    }

    /// The client end: a socket of `actor`, set up by `configure` (socket options that must
    /// precede connect()), connected to `port` on this namespace's loopback.
    public func connect(_ actor: String = "client", to port: UInt16,
                        configure: (DriverSocket) -> Void = { _ in }) throws -> DriverSocket {
        let c = try socket(actor)
        configure(c)
        try c.connectOrFail(endpoint(port))
        return c
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

    public func fail(_ message: String) { lock.lock(); failures.append(message); lock.unlock() }
    var problems: [String] { lock.lock(); defer { lock.unlock() }; return failures }
}
