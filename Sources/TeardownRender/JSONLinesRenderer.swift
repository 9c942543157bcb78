import TeardownKernel
import TeardownModel
import TeardownWire

/// JSON Lines output (https://jsonlines.org): one object per connection, keys in a fixed
/// order, snake_case, as listed in DESIGN.md ("Render"). Optional values are `null`, never
/// left out, so every line has the same shape; only `file` (no source) and `events`
/// (`includeEvents == false`) are omitted.
///
/// Times (`start`, `end`, event times) are seconds since the epoch with a 9-digit fraction and
/// `duration` is seconds with a 9-digit fraction, all printed exactly from nanosecond integers.
public enum JSONLinesRenderer {
    /// Bumped whenever a key is renamed, removed or changes meaning. Adding keys does not bump it.
    public static let schemaVersion = 2

    /// One connection as one line of JSON, without a trailing newline.
    public static func render(_ record: ConnectionRecord, source: String?, includeEvents: Bool) -> String {
        var b: [UInt8] = []
        append(record, source: source, includeEvents: includeEvents, to: &b)
        return String(decoding: b, as: UTF8.self)
    }

    /// Appends `render(_:source:includeEvents:)` (without a newline) to `b`.
    public static func append(_ record: ConnectionRecord, source: String?, includeEvents: Bool, to b: inout [UInt8]) {
        let file = FileRenderer(source: source, includeEvents: includeEvents)
        ByteCursor.append(to: &b, initialCapacity: 1024 + (includeEvents ? record.events.count * 320 : 0)) {
            file.write(record, to: &$0)
        }
    }

    /// Renders the lines of one file. Every line begins `{"schema_version":2,"file":"…"`, so
    /// those bytes (with the file name escaped) are rendered once, not once per connection.
    public struct FileRenderer: Sendable {
        public let includeEvents: Bool
        /// The object's opening brace and its first fields, up to the value of `file`.
        private let head: [UInt8]

        public init(source: String?, includeEvents: Bool) {
            self.includeEvents = includeEvents
            var head: [UInt8] = []
            ByteCursor.append(to: &head) { cursor in
                var w = JSONWriter(cursor)
                w.beginObject()
                w.key("schema_version"); w.int(schemaVersion)
                if let source { w.key("file"); w.string(source) }
                cursor = w.out
            }
            self.head = head
        }

        /// Writes `render(_:source:includeEvents:)` for `record`, without a newline.
        public func write(_ record: ConnectionRecord, to cursor: inout ByteCursor) {
            cursor.write(head)
            var w = JSONWriter(cursor, afterValue: true)
            JSONLinesRenderer.fields(record, includeEvents: includeEvents, into: &w)
            cursor = w.out
        }
    }

    /// Everything after `file`, to the closing brace.
    static func fields(_ record: ConnectionRecord, includeEvents: Bool, into w: inout JSONWriter) {
        w.key("index"); w.int(record.index)
        w.key("orig"); side(record.orig, into: &w)
        w.key("resp"); side(record.resp, into: &w)
        if let tunnel = record.tunnel { w.key("tunnel"); self.tunnel(tunnel, into: &w) }
        w.key("teardown"); w.name(utf8: record.teardown.name)
        w.key("conn_state"); w.name(utf8: record.connState.rawValue)
        w.key("history"); w.string(record.history)
        w.key("closed_by"); w.name(utf8: record.closedBy?.rawValue)
        w.key("half_close"); w.bool(record.halfClose)
        w.key("rst")
        if let rst = record.rst {
            w.beginObject()
            w.key("from"); w.name(rst.from.text)
            w.key("shape"); w.name(utf8: rst.shape.rawValue)
            w.key("validity"); w.name(utf8: rst.validity.rawValue)
            w.key("packet"); w.int(rst.packetNumber)
            w.key("acked"); w.int(rst.acknowledged)
            w.endObject()
        } else {
            w.null()
        }
        w.key("bytes")
        w.beginObject()
        w.key("orig"); ledger(record.orig.bytes, into: &w)
        w.key("resp"); ledger(record.resp.bytes, into: &w)
        w.endObject()
        w.key("start"); w.seconds(nanoseconds: record.start.nanoseconds)
        w.key("end"); w.seconds(nanoseconds: record.end.nanoseconds)
        w.key("duration"); w.seconds(nanoseconds: Format.difference(record.end, record.start))
        w.key("midstream"); w.bool(record.midstream)
        w.key("one_sided")
        if let one = record.oneSided {
            w.beginObject()
            w.key("seen"); w.name(one.seen.text)
            w.key("missing"); w.name(one.missing.text)
            w.key("evidence"); w.name(utf8: one.evidence.rawValue)
            w.key("acknowledged_bytes"); w.int(one.acknowledgedBytes)
            w.key("fin_inferred"); w.bool(one.finInferred)
            w.endObject()
        } else {
            w.null()
        }
        w.key("first_packet"); w.int(record.firstPacketNumber)
        w.key("last_packet"); w.int(record.lastPacketNumber)
        w.key("expired"); expired(record.expired, into: &w)
        w.key("notes"); notes(record.notes, into: &w)
        // Only when there is one, as `tunnel` and the kernel lane's keys: the outputs of the
        // connections no rule diagnoses stay as they were (docs/output.md).
        if !record.diagnoses.isEmpty {
            w.key("diagnoses")
            w.beginArray()
            for d in record.diagnoses {
                w.beginObject()
                w.key("code"); w.name(utf8: d.code.rawValue)
                w.key("text"); w.verbatimString { d.write(to: &$0) }
                w.key("evidence")
                w.beginArray()
                for n in d.evidence { w.int(n) }
                w.endArray()
                w.key("confidence"); w.name(utf8: d.confidence.rawValue)
                w.endObject()
            }
            w.endArray()
        }
        // Only with the kernel lane, so every output without it stays as it was.
        if let rows = record.kernelEvents {
            w.key("kernel_events")
            w.beginArray()
            for row in rows {
                w.beginObject()
                kernelEvent(row, into: &w)
                w.endObject()
            }
            w.endArray()
        }
        if let checks = record.kernelStates {
            w.key("state_oracle")
            w.beginObject()
            for side in Side.allCases {
                w.key(side == .orig ? "orig" : "resp")
                guard let c = checks[side] else { w.null(); continue }
                w.beginObject()
                w.key("seen"); w.int(c.seen)
                w.key("agree"); w.int(c.agree)
                for (key, list) in [("kernel_only" as StaticString, c.kernelOnly), ("inferred_only", c.inferredOnly)] {
                    w.key(key)
                    w.beginArray()
                    for t in list {
                        w.beginObject()
                        w.key("from"); w.string(t.from.rawValue)
                        w.key("to"); w.string(t.to.rawValue)
                        w.endObject()
                    }
                    w.endArray()
                }
                w.endObject()
            }
            w.endObject()
        }
        if includeEvents {
            w.key("events")
            w.beginArray()
            let lane = record.kernelEvents != nil
            for event in record.events { self.event(event, kernelLane: lane, into: &w) }
            w.endArray()
        }
        w.endObject()
    }

    /// The tunnels, outermost first: each one's type, its outer addresses on the originator's
    /// and on the responder's side, and its ID; an ID that differs by direction (GTP-U's TEID,
    /// PPTP's call ID) as each side's packets carried it (null for a side that sent none).
    static func tunnel(_ t: ConnectionTunnel, into w: inout JSONWriter) {
        w.beginArray()
        for (i, layer) in t.layers.enumerated() {
            w.beginObject()
            w.key("type"); w.string(layer.kind.name.description)
            w.key("orig"); w.address(layer.source)
            w.key("resp"); w.address(layer.destination)
            if let name = layer.kind.idName {
                if layer.kind.idIsPerDirection {
                    w.key(name)
                    w.beginObject()
                    w.key("orig"); w.int(t.orig.flatMap { i < $0.count && $0[i].hasID ? $0[i].id : nil })
                    w.key("resp"); w.int(t.resp.flatMap { i < $0.count && $0[i].hasID ? $0[i].id : nil })
                    w.endObject()
                } else if layer.hasID {
                    w.key(name); w.int(layer.id)
                }
            }
            w.endObject()
        }
        if t.omitted > 0 {
            w.beginObject()
            w.key("type"); w.name("omitted")
            w.key("count"); w.int(t.omitted)
            w.endObject()
        }
        w.endArray()
    }

    static func side(_ s: SideSummary, into w: inout JSONWriter) {
        w.beginObject()
        w.key("addr"); w.address(s.endpoint.address)
        w.key("port"); w.int(s.endpoint.port)
        w.key("packets"); w.int(s.packets)
        w.key("payload_bytes"); w.int(s.payloadBytes)
        w.key("syn"); w.int(s.syn)
        w.key("fin"); w.int(s.fin)
        w.key("rst"); w.int(s.rst)
        w.key("state"); w.name(s.state.text)
        w.endObject()
    }

    static func ledger(_ l: DirectionLedger, into w: inout JSONWriter) {
        w.beginObject()
        // A row the capture cannot tell (one direction missing) is null.
        w.key("sent"); w.int(l.unknown.contains(.sent) ? nil : l.sent)
        w.key("retransmitted"); w.int(l.unknown.contains(.retransmitted) ? nil : l.retransmitted)
        w.key("acked"); w.int(l.unknown.contains(.acked) ? nil : l.acked)
        w.key("in_flight_at_rst"); w.int(l.unknown.contains(.inFlightAtRST) ? nil : l.inFlightAtRST)
        w.key("sent_after_rst"); w.int(l.unknown.contains(.sentAfterRST) ? nil : l.sentAfterRST)
        w.key("written"); w.int(l.written)
        w.key("read_by_peer"); w.int(l.readByPeer)
        w.key("lost"); w.int(l.lost)
        // null above is unknown (no socket calls), never none: said in so many words.
        w.key("lost_known"); w.bool(l.lost != nil)
        w.key("never_sent"); w.int(l.neverSent)
        w.key("unacked"); w.int(l.unacked)
        w.key("unread"); w.int(l.unread)
        w.endObject()
    }

    /// `{reason, seconds, max_connections}` when the tracker reported the connection before it
    /// ended (the reason is the note's code: `idle-timeout`, `unanswered-timeout`, `evicted`;
    /// the timeout in seconds or the connection limit, the other null); null otherwise.
    static func expired(_ note: Note?, into w: inout JSONWriter) {
        var seconds: Int64?, limit: Int?
        switch note {
        case .idleTimeout(let s)?, .unansweredTimeout(let s)?: seconds = s
        case .evicted(let n)?: limit = n
        default:
            w.null()
            return
        }
        w.beginObject()
        w.key("reason"); w.name(utf8: note!.code.rawValue)
        w.key("seconds"); w.int(seconds)
        w.key("max_connections"); w.int(limit)
        w.endObject()
    }

    /// Notes as `{"code", "text"}` objects: the stable code, then the words (schema 2).
    static func notes(_ list: [Note], into w: inout JSONWriter) {
        w.beginArray()
        for n in list {
            w.beginObject()
            note(n, into: &w)
            w.endObject()
        }
        w.endArray()
    }

    /// A note's two keys, `code` and `text`.
    static func note(_ n: Note, into w: inout JSONWriter) {
        w.key("code"); w.name(utf8: n.code.rawValue)
        w.key("text"); w.verbatimString { n.write(to: &$0) }
    }

    /// A kernel event's keys: `time`, `side`, `socket` (the kernel's socket address as hex, an
    /// identity only), `pid`, `event` (which tracepoint) and that event's own keys.
    static func kernelEvent(_ row: KernelRow, into w: inout JSONWriter) {
        let e = row.event
        w.key("time"); w.seconds(nanoseconds: e.time.nanoseconds)
        w.key("side"); w.name(row.side.text)
        w.key("socket"); w.string(e.socket.map { "0x" + String($0, radix: 16) })
        w.key("pid"); w.int(e.pid)
        switch e.kind {
        case .stateChange(let from, let to, _):
            w.key("event"); w.name("state_change")
            w.key("from"); w.string(KernelWording.state(from))
            w.key("to"); w.string(KernelWording.state(to))
        case .sendReset(let state, let reason):
            w.key("event"); w.name("send_reset")
            w.key("state"); w.string(state.map(KernelWording.state))
            w.key("reason"); w.string(reason.map { $0.name ?? "reason \($0.rawValue)" })
            w.key("reason_value"); w.int(reason.map { Int64($0.rawValue) })
        case .receiveReset:
            w.key("event"); w.name("receive_reset")
        case .errorReport(let errno, _):
            w.key("event"); w.name("error_report")
            w.key("errno"); w.string(KernelWording.errnoName(errno))
            w.key("errno_value"); w.int(Int64(errno))
        }
    }

    static func event(_ event: TimelineEvent, kernelLane: Bool = false, into w: inout JSONWriter) {
        w.beginObject()
        switch event {
        case .packet(let p):
            w.key("type"); w.name("packet")
            w.key("time"); w.seconds(nanoseconds: p.time.nanoseconds)
            w.key("number"); w.int(p.number)
            w.key("from"); w.name(p.from.text)
            w.key("flags"); w.flags(p.flags)
            w.key("seq"); w.int(p.relativeSequence)
            w.key("ack"); w.int(p.relativeAcknowledgment)
            w.key("len"); w.int(p.payloadLength)
            w.key("win"); w.int(p.window)
            w.key("orig_state"); w.name(p.origState.text)
            w.key("resp_state"); w.name(p.respState.text)
            w.key("transitions")
            w.beginArray()
            for t in p.transitions {
                w.beginObject()
                w.key("side"); w.name(t.side.text)
                w.key("from"); w.name(t.from.text)
                w.key("to"); w.name(t.to.text)
                w.endObject()
            }
            w.endArray()
            w.key("notes"); notes(p.notes, into: &w)
            w.key("retransmission"); w.bool(p.isRetransmission)
            w.key("truncated"); w.bool(p.isTruncated)
            w.key("rst_validity"); w.name(utf8: p.rstValidity?.rawValue)
            if kernelLane, p.flags.contains(.rst) {
                // The kernel's reason when a tcp_send_reset of this host accounts for the RST;
                // whether this host sent it (null: the lane cannot tell).
                var reason: String?
                var sentHere: Bool?
                switch p.kernelReset {
                case .sent(let r)?: reason = r.map { $0.name ?? "reason \($0.rawValue)" }; sentHere = true
                case .notSentHere?: sentHere = false
                case nil: break
                }
                w.key("kernel_reason"); w.string(reason)
                w.key("sent_by_this_host")
                if let sentHere { w.bool(sentHere) } else { w.null() }
            }
        case .fold(let f):
            w.key("type"); w.name("fold")
            w.key("first_time"); w.seconds(nanoseconds: f.firstTime.nanoseconds)
            w.key("last_time"); w.seconds(nanoseconds: f.lastTime.nanoseconds)
            w.key("first_number"); w.int(f.firstNumber)
            w.key("last_number"); w.int(f.lastNumber)
            w.key("orig_segments"); w.int(f.origSegments)
            w.key("resp_segments"); w.int(f.respSegments)
            w.key("orig_bytes"); w.int(f.origBytes)
            w.key("resp_bytes"); w.int(f.respBytes)
        case .call(let c):
            w.key("type"); w.name("call")
            w.key("time"); w.seconds(nanoseconds: c.time.nanoseconds)
            w.key("side"); w.name(c.side.text)
            w.key("pid"); w.int(c.pid)
            w.key("fd"); w.int(c.fd)
            w.key("call"); w.string(c.call)
            w.key("result"); w.int(c.result)
            w.key("errno"); w.string(c.errno)
            w.key("duration_ns"); w.int(c.durationNanoseconds)
        case .note(let n):
            w.key("type"); w.name("note")
            w.key("time"); w.seconds(nanoseconds: n.time.nanoseconds)
            w.key("side"); w.string(n.side?.rawValue)
            note(n.note, into: &w)
        case .kernel(let k):
            w.key("type"); w.name("kernel")
            kernelEvent(k, into: &w)
        }
        w.endObject()
    }
}
