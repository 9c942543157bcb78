import TeardownWire

/// One line of Zeek's conn.log for a TCP connection (`Conn::Info`,
/// scripts/base/protocols/conn/main.zeek), as Zeek fills it when it removes the connection.
///
/// Optional fields are nil where Zeek leaves them unset: `duration`, `origBytes` and `respBytes`
/// only when the duration is positive (`set_conn`), `history` when empty. Fields teardown
/// cannot know as Zeek does are not here: `service` (protocol analyzers), `local_orig` and
/// `local_resp` (`Site::local_nets`, empty by default) and `tunnel_parents` (the uids of tunnel
/// connections) are always unset; see docs/zeek.md.
public struct ZeekConnRecord: Sendable, Equatable {
    /// A stand-in for Zeek's random uid: `C` and base62 digits, fixed by the connection's order
    /// and first packet, so that the same capture always gives the same uids.
    public var uid: String
    /// `ts`: the first packet's time, as Zeek computes it (seconds + microseconds / 1e6).
    public var ts: Double
    public var orig: Endpoint
    public var resp: Endpoint
    public var duration: Double?
    public var origBytes: UInt64?
    public var respBytes: UInt64?
    public var connState: ZeekConnState
    public var missedBytes: UInt64
    public var history: String?
    public var origPackets: UInt64
    public var origIPBytes: UInt64
    public var respPackets: UInt64
    public var respIPBytes: UInt64
    /// `ip_proto`: always 6.
    public var ipProto: UInt8 = 6

    public init(uid: String, ts: Double, orig: Endpoint, resp: Endpoint, duration: Double?,
                origBytes: UInt64?, respBytes: UInt64?, connState: ZeekConnState, missedBytes: UInt64,
                history: String?, origPackets: UInt64, origIPBytes: UInt64, respPackets: UInt64, respIPBytes: UInt64) {
        self.uid = uid; self.ts = ts; self.orig = orig; self.resp = resp; self.duration = duration
        self.origBytes = origBytes; self.respBytes = respBytes; self.connState = connState
        self.missedBytes = missedBytes; self.history = history
        self.origPackets = origPackets; self.origIPBytes = origIPBytes
        self.respPackets = respPackets; self.respIPBytes = respIPBytes
    }
}

/// Zeek's timer settings for TCP (scripts/base/init-bare.zeek defaults).
public struct ZeekTimerSettings: Sendable, Equatable {
    /// `tcp_SYN_timeout`: the first look at a new connection's expiry.
    public var synTimeout = 5.0
    /// `tcp_session_timer`: how often the expiry is looked at again.
    public var sessionTimer = 6.0
    /// `tcp_connection_linger`: how long a half-closed or reset connection stays quiet before it expires.
    public var connectionLinger = 5.0
    /// `tcp_attempt_delay`: how long a SYN waits for an answer before the attempt is logged.
    public var attemptDelay = 5.0
    /// `tcp_close_delay`: how long a closed connection is kept after its last packet.
    public var closeDelay = 5.0
    /// `tcp_reset_delay`: how long a connection reset after a FIN is kept.
    public var resetDelay = 5.0
    /// `tcp_inactivity_timeout`: once the handshake is over.
    public var inactivityTimeout = 300.0
    /// The inactivity timeout a TCP connection starts with: `TCPAnalyzer::MakeSessionAdapter`
    /// sets `udp_inactivity_timeout` (src/packet_analysis/protocol/tcp/TCP.cc).
    public var initialInactivityTimeout = 60.0

    public init() {}
}

/// Zeek's view of a capture's TCP connections: where Zeek starts and ends each one, which side
/// it calls the originator, and the conn.log line it writes when it lets the connection go.
///
/// Teardown's own tracker keeps a TCP connection whole; Zeek cuts it where its timers say
/// (src/packet_analysis/protocol/tcp/TCPSessionAdapter.cc, src/session/Session.cc):
/// - a SYN unanswered for `tcp_attempt_delay` is logged (S0) and forgotten (`AttemptTimer`);
/// - a connection whose both sides closed, or that was reset, or whose peer never spoke, is
///   logged `tcp_close_delay` after its last packet (`ConnDeleteTimer`);
/// - a half-closed connection is looked at every `tcp_session_timer` and logged once it has
///   been quiet `tcp_connection_linger` (`ExpireTimer`); so is one reset after a FIN
///   (`ResetTimer`, `tcp_reset_delay`);
/// - any connection quiet for its inactivity timeout (1 minute during the handshake,
///   `tcp_inactivity_timeout` after) is logged (`Session::InactivityTimer`);
/// - a SYN that `TCPSessionAdapter::IsReuse` calls a new connection logs the old one first.
/// A packet arriving after its connection was logged starts a new one, oriented afresh
/// (`ZeekRoles`). Timers fire on the capture's clock, before the packet that moves the clock
/// past them (`run_state::dispatch_packet` → `expire_timers`), and every packet moves it,
/// TCP or not. Whatever is still open when the capture ends is logged then, in order of first
/// packet (Zeek writes those in the order of its session table).
///
/// Connections are keyed by their two endpoints alone, as Zeek's default `fivetuple` key does
/// (the same inner 4-tuple in two tunnels is one connection to Zeek).
public struct ZeekConnTracker {
    public let timers: ZeekTimerSettings
    /// Zeek's `likely_server_ports` (TCP).
    public let likelyServerPorts: Set<UInt16>
    /// Most connections held at once (Zeek has no such bound; teardown's `--max-connections`):
    /// beyond it the oldest connection is logged early and forgotten, counted in `evicted`.
    public let maxConnections: Int
    /// Connections logged early because of `maxConnections`.
    public private(set) var evicted = 0

    private var connections: [Int: ZeekConnection] = [:]
    private var byKey: [ZeekFlowKey: Int] = [:]
    private var queue = ZeekTimerQueue()
    private var nextSerial = 0
    /// Serials in order of creation, for eviction (removed ones are skipped when reached).
    private var creationOrder: [Int] = []
    private var creationHead = 0
    /// `network_time`: the largest packet time seen (it never goes back).
    private var networkTime = -Double.infinity

    public init(timers: ZeekTimerSettings = ZeekTimerSettings(),
                likelyServerPorts: Set<UInt16> = ZeekRoles.defaultLikelyServerPorts,
                maxConnections: Int = 500_000) {
        self.timers = timers
        self.likelyServerPorts = likelyServerPorts
        self.maxConnections = max(1, maxConnections)
    }

    /// Connections Zeek holds now.
    public var openConnections: Int { connections.count }
    /// Timers queued, live or waiting to be skipped.
    var queuedTimers: Int { queue.count }

    /// Zeek's time for a packet: libpcap's microsecond timestamp (nanosecond captures are cut
    /// to microseconds, as libpcap does for a reader that asks for microseconds) as
    /// `tv_sec + tv_usec / 1e6`.
    public static func zeekTime(_ t: Timestamp) -> Double {
        var seconds = t.nanoseconds / 1_000_000_000
        var rest = t.nanoseconds % 1_000_000_000
        if rest < 0 { seconds -= 1; rest += 1_000_000_000 }
        return Double(seconds) + Double(rest / 1000) / 1e6
    }

    /// A packet that is not a TCP segment (or could not be decoded): it only moves the clock.
    public mutating func advance(to time: Timestamp, emit: (ZeekConnRecord) -> Void) {
        advanceClock(Self.zeekTime(time), emit: emit)
    }

    /// A TCP segment, in capture order.
    public mutating func process(_ seg: TCPSegment, time: Timestamp, emit: (ZeekConnRecord) -> Void) {
        let t = Self.zeekTime(time)
        advanceClock(t, emit: emit)
        let key = ZeekFlowKey(seg.source, seg.destination)
        var conn: ZeekConnection
        var isNew = true
        if let serial = byKey[key], let existing = connections[serial] {
            if existing.state.isReuse(flags: seg.flags, sequence: seg.sequenceNumber) {
                remove(existing, emit: emit)
                conn = newConnection(seg, key: key, time: t)
            } else {
                conn = existing
                isNew = false
            }
        } else {
            conn = newConnection(seg, key: key, time: t)
        }
        deliver(seg, to: conn, time: t)
        let f = seg.flags
        if isNew && !conn.rolesSwapped && f.contains(.syn) && f.contains(.ack) && !f.contains(.rst) && !f.contains(.fin) {
            conn.pendingSYNACK = seg
        }
        while connections.count > maxConnections, creationHead < creationOrder.count {
            let serial = creationOrder[creationHead]
            creationHead += 1
            if let oldest = connections[serial] {
                evicted += 1
                remove(oldest, emit: emit)
            }
        }
        if creationHead > 4096 && creationHead * 2 > creationOrder.count {
            creationOrder.removeFirst(creationHead)
            creationHead = 0
        }
    }

    /// End of the capture: every connection still held is logged, in order of first packet.
    public mutating func finish(emit: (ZeekConnRecord) -> Void) {
        for serial in connections.keys.sorted() {
            if let c = connections[serial] { remove(c, emit: emit) }
        }
        queue = ZeekTimerQueue()
        creationOrder = []
        creationHead = 0
    }

    // MARK: - Connections

    /// `IPBasedAnalyzer::NewConn`: the sender of the first packet is the originator unless
    /// `TCPAnalyzer::WantConnection` flips the roles (never towards the IPv4 broadcast address).
    private mutating func newConnection(_ seg: TCPSegment, key: ZeekFlowKey, time t: Double) -> ZeekConnection {
        var flip = ZeekRoles.shouldFlip(firstSegmentFlags: seg.flags, sourcePort: seg.source.port,
                                        destinationPort: seg.destination.port, likelyServerPorts: likelyServerPorts)
        if flip && !seg.destination.address.isIPv6 && seg.destination.address.low == 0xFFFF_FFFF { flip = false }
        let serial = nextSerial
        nextSerial += 1
        let conn = ZeekConnection(serial: serial, first: seg.source, second: seg.destination, flipped: flip, time: t)
        connections[serial] = conn
        byKey[key] = serial
        creationOrder.append(serial)
        // The expire timer the adapter sets at creation, and the session's inactivity timer.
        addAnalyzerTimer(.expire, at: networkTime + timers.synTimeout, to: conn)
        setInactivityTimeout(timers.initialInactivityTimeout, of: conn)
        return conn
    }

    /// `TCPAnalyzer::DeliverPacket` → `TCPSessionAdapter::Process`, then the timers the segment
    /// asked for and the packet counts of the `ConnSize` analyzer.
    private mutating func deliver(_ seg: TCPSegment, to conn: ZeekConnection, time t: Double) {
        if let synAck = conn.pendingSYNACK {
            conn.pendingSYNACK = nil
            if Self.confirmsSYNACK(seg.flags, payloadLength: seg.payloadLength) { conn.flipAfterSYNACK(synAck) }
        }
        let fromFirst = seg.source == conn.first
        let wasHandshake = conn.state.isInHandshake
        if conn.state.observe(fromOriginator: fromFirst != conn.rolesSwapped, flags: seg.flags,
                              sequence: seg.sequenceNumber, acknowledgment: seg.acknowledgmentNumber,
                              payloadLength: seg.payloadLength, window: seg.window,
                              payloadCaptured: !seg.isTruncated) {
            conn.rolesSwapped.toggle()
        }
        let fx = conn.state.effects
        if fx.setsLastTime { conn.lastTime = t }
        if wasHandshake && !conn.state.isInHandshake {
            setInactivityTimeout(timers.inactivityTimeout, of: conn)
        }
        if fx.attemptTimer { addAnalyzerTimer(.attempt, at: t + timers.attemptDelay, to: conn) }
        if fx.resetTimer { addAnalyzerTimer(.reset, at: t + timers.resetDelay, to: conn) }
        switch fx.close {
        case .none, .partialClose:
            break // PartialCloseTimer: only with a connection_partial_close handler
        case .delete:
            conn.analyzerTimers.removeAll() // CancelTimers
            addAnalyzerTimer(.delete, at: conn.lastTime + timers.closeDelay, to: conn)
        case .expire:
            addAnalyzerTimer(.expire, at: conn.lastTime + timers.sessionTimer, to: conn)
        }
        // ConnSize counts the packet for the side that sent it, under the roles after it.
        if fromFirst {
            conn.firstPackets += 1
            conn.firstIPBytes &+= UInt64(seg.ipLength)
        } else {
            conn.secondPackets += 1
            conn.secondIPBytes &+= UInt64(seg.ipLength)
        }
    }

    /// Whether a connection's second packet, after a first that was a SYN+ACK its port did not
    /// flip, shows the SYN+ACK's sender to be the server (zeek/zeek#2191): an ACK or data, in
    /// either direction, which a stealth scan's SYN+ACK never draws (it draws an RST or nothing).
    static func confirmsSYNACK(_ flags: TCPFlags, payloadLength: Int) -> Bool {
        !flags.contains(.syn) && !flags.contains(.rst) && (flags.contains(.ack) || payloadLength > 0)
    }

    /// `session::Manager::Remove`: the connection is logged and forgotten.
    private mutating func remove(_ conn: ZeekConnection, emit: (ZeekConnRecord) -> Void) {
        guard connections.removeValue(forKey: conn.serial) != nil else { return }
        let key = ZeekFlowKey(conn.first, conn.second)
        if byKey[key] == conn.serial { byKey.removeValue(forKey: key) }
        emit(conn.record)
        // A forgotten connection's timers stay queued until due; on a flood of short
        // connections drop them early, so the queue stays a few entries per connection held.
        if queue.count > 8 * connections.count + 4096 {
            let live = connections
            queue.removeAll { timer in
                guard let c = live[timer.serial] else { return true }
                return timer.kind == .inactivity ? c.inactivityTimer != timer.id : !c.analyzerTimers.contains(timer.id)
            }
        }
    }

    // MARK: - Timers

    private mutating func addAnalyzerTimer(_ kind: ZeekTimerKind, at time: Double, to conn: ZeekConnection) {
        let id = queue.add(time: time, serial: conn.serial, kind: kind)
        conn.analyzerTimers.insert(id)
    }

    /// `Session::SetInactivityTimeout`: replaces the inactivity timer, due `timeout` after the
    /// connection's last time.
    private mutating func setInactivityTimeout(_ timeout: Double, of conn: ZeekConnection) {
        guard timeout != conn.inactivityTimeout else { return }
        conn.inactivityTimeout = timeout
        conn.inactivityTimer = queue.add(time: conn.lastTime + timeout, serial: conn.serial, kind: .inactivity)
    }

    /// Moves `network_time` to `t` (never back) and fires every timer due by then.
    private mutating func advanceClock(_ t: Double, emit: (ZeekConnRecord) -> Void) {
        if t > networkTime { networkTime = t }
        while let timer = queue.popDue(by: networkTime) {
            guard let conn = connections[timer.serial] else { continue }
            if timer.kind == .inactivity {
                guard conn.inactivityTimer == timer.id else { continue }
                conn.inactivityTimer = nil
            } else {
                guard conn.analyzerTimers.remove(timer.id) != nil else { continue }
            }
            fire(timer.kind, conn, now: networkTime, emit: emit)
        }
    }

    private mutating func fire(_ kind: ZeekTimerKind, _ conn: ZeekConnection, now t: Double, emit: (ZeekConnRecord) -> Void) {
        let s = conn.state
        switch kind {
        case .attempt:
            // AttemptTimer: still only a SYN (or SYN+ACK) from the originator.
            guard s.isActive else { return }
            if (s.originatorState == .synSent || s.originatorState == .synAckSent) && s.responderState == .inactive {
                conn.state.deactivate()
                remove(conn, emit: emit)
            }
        case .expire:
            // ExpireTimer.
            guard s.isActive else { return }
            if conn.lastTime + timers.connectionLinger < t {
                let oDid = s.originatorDidClose, rDid = s.responderDidClose
                if oDid || rDid {
                    if (oDid && rDid) || s.originatorState == .reset || s.responderState == .reset
                        || s.originatorState == .inactive || s.responderState == .inactive {
                        conn.state.deactivate()
                        remove(conn, emit: emit)
                        return
                    }
                }
                if s.responderState == .inactive && s.originatorState == .inactive {
                    remove(conn, emit: emit)
                    return
                }
            }
            addAnalyzerTimer(.expire, at: t + timers.sessionTimer, to: conn)
        case .reset:
            // ResetTimer.
            guard s.isActive else { return }
            remove(conn, emit: emit)
        case .delete:
            // ConnDeleteTimer → Session::DeleteTimer.
            remove(conn, emit: emit)
        case .inactivity:
            // Session::InactivityTimer.
            if conn.lastTime + conn.inactivityTimeout <= t {
                remove(conn, emit: emit)
            } else {
                conn.inactivityTimer = queue.add(time: conn.lastTime + conn.inactivityTimeout,
                                                 serial: conn.serial, kind: .inactivity)
            }
        }
    }
}

/// Zeek's connection key: the two endpoints, in either order.
struct ZeekFlowKey: Hashable {
    let low: Endpoint
    let high: Endpoint
    init(_ a: Endpoint, _ b: Endpoint) {
        if a < b { low = a; high = b } else { low = b; high = a }
    }
}

/// One connection as Zeek holds it.
final class ZeekConnection {
    let serial: Int
    /// The sender of the connection's first packet, and its peer.
    let first: Endpoint
    let second: Endpoint
    var state: ZeekTCPState
    /// Zeek's originator is `second` (a flip at creation or later).
    var rolesSwapped: Bool
    let startTime: Double
    var lastTime: Double
    var inactivityTimeout = 0.0
    var inactivityTimer: Int?
    /// The analyzer's pending timers (attempt, expire, reset, delete), by id.
    var analyzerTimers: Set<Int> = []
    var firstPackets: UInt64 = 0, firstIPBytes: UInt64 = 0
    var secondPackets: UInt64 = 0, secondIPBytes: UInt64 = 0
    /// The connection's first segment while it is the only one, when it was a SYN+ACK that the
    /// ports did not flip: the next segment may show its sender to be the server.
    var pendingSYNACK: TCPSegment?

    init(serial: Int, first: Endpoint, second: Endpoint, flipped: Bool, time: Double) {
        self.serial = serial
        self.first = first
        self.second = second
        self.state = ZeekTCPState(rolesFlippedAtCreation: flipped)
        self.rolesSwapped = flipped
        self.startTime = time
        self.lastTime = time
    }

    /// zeek/zeek#2191: a connection that began with a SYN+ACK is flipped when an ACK or data
    /// follows. Zeek's own lines for such connections (its baselines core.tcp.flip-without-syn,
    /// `^hADadFf`, and the trace of zeek/zeek#5047, `^haf`) read as if the roles had been flipped
    /// before the SYN+ACK was seen: `^`, then the SYN+ACK as the responder's. So the SYN+ACK is
    /// analysed again under flipped roles (its packet count stays with its sender).
    func flipAfterSYNACK(_ synAck: TCPSegment) {
        state = ZeekTCPState(rolesFlippedAtCreation: true)
        rolesSwapped = true
        state.observe(fromOriginator: false, flags: synAck.flags, sequence: synAck.sequenceNumber,
                      acknowledgment: synAck.acknowledgmentNumber, payloadLength: synAck.payloadLength,
                      window: synAck.window, payloadCaptured: !synAck.isTruncated)
    }

    /// The conn.log line, as `set_conn(c, T)` fills it at `connection_state_remove`.
    var record: ZeekConnRecord {
        let duration = lastTime - startTime
        let hasDuration = duration > 0
        let history = state.history
        return ZeekConnRecord(
            uid: ZeekUID.make(serial: serial, time: startTime),
            ts: startTime,
            orig: rolesSwapped ? second : first, resp: rolesSwapped ? first : second,
            duration: hasDuration ? duration : nil,
            origBytes: hasDuration ? state.originatorSize : nil,
            respBytes: hasDuration ? state.responderSize : nil,
            connState: state.connState,
            missedBytes: state.missedBytes,
            history: history.isEmpty ? nil : history,
            origPackets: rolesSwapped ? secondPackets : firstPackets,
            origIPBytes: rolesSwapped ? secondIPBytes : firstIPBytes,
            respPackets: rolesSwapped ? firstPackets : secondPackets,
            respIPBytes: rolesSwapped ? firstIPBytes : secondIPBytes)
    }
}

/// Deterministic stand-ins for Zeek's connection uids (Zeek draws 96 random bits and writes
/// them in base62 after a `C`).
enum ZeekUID {
    static let digits = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    static func make(serial: Int, time: Double) -> String {
        var a = mix(UInt64(bitPattern: Int64(serial)) ^ mix(time.bitPattern))
        var b = mix(a)
        var text: [UInt8] = [UInt8(ascii: "C")]
        for _ in 0..<9 { text.append(digits[Int(a % 62)]); a /= 62 }
        for _ in 0..<8 { text.append(digits[Int(b % 62)]); b /= 62 }
        return String(decoding: text, as: UTF8.self)
    }

    /// SplitMix64's finaliser.
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum ZeekTimerKind: Sendable {
    case attempt, expire, reset, delete, inactivity
}

/// Zeek's timer queue (`PQ_TimerMgr`): timers fire in order of time, ties in order of
/// scheduling. A cancelled timer stays queued and is skipped when it comes up.
struct ZeekTimerQueue {
    struct Timer {
        let time: Double
        let id: Int
        let serial: Int
        let kind: ZeekTimerKind
    }
    private var heap: [Timer] = []
    private var nextID = 0

    var count: Int { heap.count }

    /// Drops the timers `dead` says are dead and restores the heap order (ids, and so the order
    /// of ties, are kept).
    mutating func removeAll(where dead: (Timer) -> Bool) {
        heap.removeAll(where: dead)
        var i = heap.count / 2
        while i > 0 {
            i -= 1
            siftDown(from: i)
        }
    }

    private mutating func siftDown(from start: Int) {
        var i = start
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < heap.count && Self.before(heap[l], heap[m]) { m = l }
            if r < heap.count && Self.before(heap[r], heap[m]) { m = r }
            if m == i { return }
            heap.swapAt(i, m)
            i = m
        }
    }

    mutating func add(time: Double, serial: Int, kind: ZeekTimerKind) -> Int {
        let id = nextID
        nextID += 1
        heap.append(Timer(time: time, id: id, serial: serial, kind: kind))
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard Self.before(heap[i], heap[parent]) else { break }
            heap.swapAt(i, parent)
            i = parent
        }
        return id
    }

    /// The earliest timer due at or before `time`, removed from the queue.
    mutating func popDue(by time: Double) -> Timer? {
        guard let top = heap.first, top.time <= time else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(from: 0)
        }
        return top
    }

    private static func before(_ a: Timer, _ b: Timer) -> Bool {
        a.time != b.time ? a.time < b.time : a.id < b.id
    }
}
