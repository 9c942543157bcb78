import TeardownModel
import TeardownWire

/// A tiny DSL for conversations between a client (orig) and a server (resp).
///
/// Sequence numbers are written relative to the sender's ISN and acknowledgments relative to
/// the receiver's ISN, as tcpdump prints them; the ISNs can sit near 2^32 to test wraparound.
struct Script {
    var client = Endpoint(address: IPAddress("10.0.0.1")!, port: 40000)
    var server = Endpoint(address: IPAddress("10.0.0.2")!, port: 8080)
    var clientISN: UInt32 = 1_000_000
    var serverISN: UInt32 = 3_000_000
    var segments: [(TCPSegment, Timestamp)] = []
    var clock: Int64 = 1_700_000_000_000_000_000
    /// Nanoseconds between segments.
    var step: Int64 = 1_000_000

    init(clientISN: UInt32 = 1_000_000, serverISN: UInt32 = 3_000_000) {
        self.clientISN = clientISN
        self.serverISN = serverISN
    }

    static func flags(_ s: String) -> TCPFlags {
        var f = TCPFlags()
        for ch in s {
            switch ch {
            case "S": f.insert(.syn)
            case "F": f.insert(.fin)
            case "R": f.insert(.rst)
            case "P": f.insert(.psh)
            case ".": f.insert(.ack)
            default: fatalError("unknown flag \(ch) in test script")
            }
        }
        return f
    }

    /// Appends a segment from `side` with tcpdump-style flags.
    mutating func send(_ side: Side, _ flags: String, seq: UInt32, ack: UInt32? = nil, len: Int = 0,
                       window: UInt16 = 65535, wscale: UInt8? = nil, rawSeq: UInt32? = nil, tsval: UInt32? = nil,
                       ttl: UInt8 = 64, after gap: Int64? = nil) {
        let f = Script.flags(flags)
        let sendISN = side == .orig ? clientISN : serverISN
        let recvISN = side == .orig ? serverISN : clientISN
        var opts = TCPOptions()
        opts.windowScale = wscale
        opts.timestampValue = tsval
        opts.timestampEcho = tsval.map { _ in 0 }
        var seg = TCPSegment(
            source: side == .orig ? client : server,
            destination: side == .orig ? server : client,
            sequenceNumber: SequenceNumber(rawSeq ?? (sendISN &+ seq)),
            acknowledgmentNumber: SequenceNumber(ack.map { recvISN &+ $0 } ?? 0),
            flags: f.union(ack != nil ? .ack : []), window: window, options: opts, payloadLength: len)
        seg.hopLimit = ttl
        clock += gap ?? step
        segments.append((seg, Timestamp(nanoseconds: clock)))
    }

    mutating func c(_ flags: String, _ seq: UInt32, _ ack: UInt32? = nil, len: Int = 0) { send(.orig, flags, seq: seq, ack: ack, len: len) }
    mutating func s(_ flags: String, _ seq: UInt32, _ ack: UInt32? = nil, len: Int = 0) { send(.resp, flags, seq: seq, ack: ack, len: len) }

    /// The three-way handshake: client ISN -> rel 0, server ISN -> rel 0; both then at 1.
    mutating func handshake() {
        c("S", 0)
        s("S", 0, 1)
        c("", 1, 1)
    }

    /// Runs the whole script through a tracker; returns the records in emission order.
    func run(configuration: ConnectionTracker.Configuration = .init()) -> [ConnectionRecord] {
        var tracker = ConnectionTracker(configuration: configuration)
        var out: [ConnectionRecord] = []
        for (n, (seg, t)) in segments.enumerated() {
            tracker.process(seg, time: t, packetNumber: n + 1) { out.append($0) }
        }
        tracker.finish { out.append($0) }
        return out
    }

    /// Runs and returns the single record (fails the test helper if there is not exactly one).
    func only() -> ConnectionRecord? {
        let r = run()
        return r.count == 1 ? r[0] : nil
    }
}

extension ConnectionRecord {
    /// The states a side passed through, in order, starting from its first state.
    func path(of side: Side) -> [TCPState] {
        var out: [TCPState] = []
        for e in events {
            guard case .packet(let p) = e else { continue }
            for t in p.transitions where t.side == side {
                if out.isEmpty { out.append(t.from) }
                out.append(t.to)
            }
        }
        return out
    }

    var allPacketNotes: [Note] {
        events.flatMap { e -> [Note] in
            if case .packet(let p) = e { return p.notes }
            return []
        }
    }
}
