import TeardownWire

/// A socket call as the bundled driver recorded it (one line of NAME.events.jsonl).
public struct RecordedCall: Sendable, Hashable {
    /// CLOCK_REALTIME when the call started, the clock of pcap timestamps.
    public var time: Timestamp
    public var durationNanoseconds: Int64
    public var pid: Int32
    public var fd: Int32
    /// The socket's own address and its peer's, when known (a listening socket has no peer).
    public var local: Endpoint?
    public var remote: Endpoint?
    /// Which program made the call: "client" or "server" (the driver's roles).
    public var actor: String
    /// The call with its arguments: `write(30000)`, `setsockopt(SO_LINGER, {on, 0 s})`.
    public var call: String
    public var result: Int64
    public var errno: String?
    /// For read/write-like calls, bytes moved (the positive result); 0 otherwise.
    public var bytes: Int64
    /// Whether `bytes` counts as data written by the application (write/send) or read (read/recv).
    public var kind: Kind
    /// Which socket object of the driver made the call (unique within a run). File descriptor
    /// numbers are reused as sockets come and go, so this, not `fd`, ties a call that has no
    /// addresses (before connect, a listener) to its socket. Nil in sidecars that predate it.
    public var socket: Int?

    public enum Kind: String, Sendable, Hashable {
        case write, read, peek, other
    }

    public init(time: Timestamp, durationNanoseconds: Int64, pid: Int32, fd: Int32, local: Endpoint?, remote: Endpoint?,
                actor: String, call: String, result: Int64, errno: String?, bytes: Int64, kind: Kind, socket: Int? = nil) {
        self.time = time; self.durationNanoseconds = durationNanoseconds; self.pid = pid; self.fd = fd
        self.local = local; self.remote = remote; self.actor = actor; self.call = call
        self.result = result; self.errno = errno; self.bytes = bytes; self.kind = kind; self.socket = socket
    }

    /// The identity used to tie address-less calls to their socket: the socket id when recorded,
    /// else the descriptor number (older sidecars).
    var socketKey: Int { socket ?? -1 - Int(fd) }
}

/// Lines up driver calls with the connections they belong to.
///
/// A call belongs to a connection when its socket's (local, remote) pair is the connection's
/// 4-tuple; it goes on the side whose endpoint is its local address, at its time, between the
/// packets. Calls on a socket made before it had a peer (socket(), setsockopt before connect)
/// are matched by (pid, fd) to the connection that socket later joined, provided it falls
/// inside that socket's lifetime.
public enum CallCorrelation {
    /// Waiting calls (read, recv, accept) that took at least this long (1 ms) are placed at the
    /// time they returned.
    public static let blockedThreshold: Int64 = 1_000_000

    /// Attaches `calls` to `records` and fills the application rows of the byte ledger.
    public static func attach(_ calls: [RecordedCall], to records: [ConnectionRecord]) -> [ConnectionRecord] {
        // Which connection each (pid, fd) was bound to, with the time span of that binding.
        struct Binding { var pid: Int32; var socket: Int; var record: Int; var side: Side; var first: Timestamp; var last: Timestamp }
        var bindings: [Binding] = []
        // (local, remote) -> the records and the side that local address is in each. When several
        // records share a 4-tuple (a reused tuple), a call goes to the last one that had begun
        // by its time (less `KernelJoin.startSlack`: connect() comes just before its SYN), or
        // the first when none had.
        struct Pair: Hashable { var local: Endpoint; var remote: Endpoint }
        var byPair: [Pair: [(Int, Side)]] = [:]
        for (i, r) in records.enumerated() {
            byPair[Pair(local: r.orig.endpoint, remote: r.resp.endpoint), default: []].append((i, .orig))
            byPair[Pair(local: r.resp.endpoint, remote: r.orig.endpoint), default: []].append((i, .resp))
        }
        func recordIndex(local: Endpoint, remote: Endpoint, at time: Timestamp) -> (Int, Side)? {
            guard let candidates = byPair[Pair(local: local, remote: remote)] else { return nil }
            var chosen = candidates[0]
            for c in candidates.dropFirst() where records[c.0].start.nanoseconds &- KernelJoin.startSlack <= time.nanoseconds { chosen = c }
            return chosen
        }
        for c in calls {
            guard let l = c.local, let r = c.remote, let (i, side) = recordIndex(local: l, remote: r, at: c.time) else { continue }
            if let k = bindings.firstIndex(where: { $0.pid == c.pid && $0.socket == c.socketKey && $0.record == i }) {
                if c.time > bindings[k].last { bindings[k].last = c.time }
                if c.time < bindings[k].first { bindings[k].first = c.time }
            } else {
                bindings.append(Binding(pid: c.pid, socket: c.socketKey, record: i, side: side, first: c.time, last: c.time))
            }
        }
        var out = records
        var written: [[Int64]] = Array(repeating: [0, 0], count: records.count)
        var read: [[Int64]] = Array(repeating: [0, 0], count: records.count)
        var attached: [[TimelineEvent]] = Array(repeating: [], count: records.count)
        for c in calls {
            var target: (Int, Side)?
            if let l = c.local, let r = c.remote { target = recordIndex(local: l, remote: r, at: c.time) }
            if target == nil {
                // Same socket, before it had a peer: the nearest later binding.
                let later = bindings.filter { $0.pid == c.pid && $0.socket == c.socketKey && $0.last >= c.time }
                if let b = later.min(by: { $0.first < $1.first }) { target = (b.record, b.side) }
                else if let b = bindings.filter({ $0.pid == c.pid && $0.socket == c.socketKey }).max(by: { $0.last < $1.last }),
                        c.call.hasPrefix("close") || c.call.hasPrefix("shutdown") || c.call.hasPrefix("read") || c.call.hasPrefix("write") {
                    // After the peer was lost (close, a failing read): the latest binding of that fd.
                    target = (b.record, b.side)
                }
            }
            guard let (i, side) = target else { continue }
            let s = side == .orig ? 0 : 1
            // The sidecar is a file like any other: its byte counts are added without trapping
            // (saturating at Int64.max), however large.
            switch c.kind {
            case .write: written[i][s] = saturatingSum(written[i][s], max(0, c.bytes))
            case .read: read[i][s] = saturatingSum(read[i][s], max(0, c.bytes))
            case .peek, .other: break
            }
            // A call that waited for the network (a read waiting for data or a FIN, an accept, a
            // poll or epoll_wait that saw the peer's close) is
            // shown where it returned, after the packets that released it, marked with "…". Calls
            // that cause packets (close, shutdown, write, connect) stay where they began, before them.
            let waits = c.kind == .read || c.kind == .peek || c.call.hasPrefix("accept") || c.call.hasPrefix("poll")
                || c.call.hasPrefix("ppoll") || c.call.hasPrefix("epoll")
            let blocked = waits && c.durationNanoseconds >= CallCorrelation.blockedThreshold
            attached[i].append(.call(CallEvent(time: blocked ? Timestamp(nanoseconds: c.time.nanoseconds &+ c.durationNanoseconds) : c.time,
                                               side: side, pid: c.pid, fd: c.fd, call: blocked ? "… " + c.call : c.call,
                                               result: c.result, errno: c.errno, durationNanoseconds: c.durationNanoseconds)))
        }
        for i in out.indices where !attached[i].isEmpty {
            out[i].events = merge(out[i].events, attached[i])
            for side in [Side.orig, Side.resp] {
                let s = side == .orig ? 0 : 1
                var ledger = side == .orig ? out[i].orig.bytes : out[i].resp.bytes
                fillApplicationRows(&ledger, written: written[i][s], readByPeer: read[i][1 - s])
                if side == .orig { out[i].orig.bytes = ledger } else { out[i].resp.bytes = ledger }
                let problems = ledger.problems
                if !problems.isEmpty { out[i].notes.insert(.ledgerMismatch(sender: side, problems), at: 0) }
            }
            out[i].notes.append(contentsOf: applicationNotes(out[i]))
            out[i].diagnoses = Diagnosis.withCalls(out[i])
        }
        return out
    }

    static func saturatingSum(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b < 0 ? .min : .max) : sum
    }

    /// written → sent → received by the peer's TCP → read: lost = written − read = never sent
    /// + unacked + unread.
    ///
    /// "Received" is what the peer acknowledged, or what its application read if that is more:
    /// an application can read bytes its TCP has not acknowledged yet (a delayed ACK still
    /// pending when the connection ended), and bytes that were read were certainly received.
    static func fillApplicationRows(_ l: inout DirectionLedger, written: Int64, readByPeer: Int64) {
        let w = UInt64(max(0, written)), r = UInt64(max(0, readByPeer))
        let received = max(l.acked, r)
        l.written = w
        l.readByPeer = r
        l.lost = w >= r ? w - r : 0
        l.neverSent = w >= l.sent ? w - l.sent : 0
        l.unacked = l.sent >= received ? l.sent - received : 0
        l.unread = received - r
    }

    static func applicationNotes(_ r: ConnectionRecord) -> [Note] {
        var out: [Note] = []
        for side in [Side.orig, Side.resp] {
            let l = side == .orig ? r.orig.bytes : r.resp.bytes
            guard let lost = l.lost, lost > 0 else { continue }
            out.append(.bytesLost(sender: side, Note.BytesLost(lost: lost, written: l.written ?? 0, neverSent: l.neverSent,
                                                             unacked: l.unacked, unread: l.unread)))
        }
        return out
    }

    /// Merges call rows into packet rows by time (stable: a call at the same instant as a packet goes first).
    static func merge(_ rows: [TimelineEvent], _ calls: [TimelineEvent]) -> [TimelineEvent] {
        let sortedCalls = calls.sorted { $0.time < $1.time }
        var out: [TimelineEvent] = []
        out.reserveCapacity(rows.count + calls.count)
        var j = 0
        for row in rows {
            while j < sortedCalls.count && sortedCalls[j].time <= row.time { out.append(sortedCalls[j]); j += 1 }
            out.append(row)
        }
        out.append(contentsOf: sortedCalls[j...])
        return out
    }
}
