import TeardownKernel
import TeardownWire

/// The kernel's account in words: why it sent an RST, and what went wrong reading its records.
/// Every sentence about the kernel lane is here, once.
public enum KernelWording {
    /// What an RST reason means, in plain words (include/net/rstreason.h, where each value is
    /// documented, and the places in net/ipv4/tcp*.c that pass it); nil for a value or name the
    /// table does not know (the caller prints the kernel's name alone).
    public static func reason(_ r: RSTReason) -> String? {
        guard let name = r.name else { return nil }
        switch name {
        case "NOT_SPECIFIED": return "no reason given"
        case "NO_SOCKET": return "no socket for the segment"
        case "TCP_INVALID_ACK_SEQUENCE": return "an ACK of data never sent, during the handshake"
        case "TCP_RFC7323_PAWS": return "an old timestamp (PAWS, RFC 7323)"
        case "TCP_TOO_OLD_ACK": return "an ACK older than anything still unacknowledged"
        case "TCP_ACK_UNSENT_DATA": return "an ACK of data not yet sent"
        case "TCP_FLAGS": return "flags not allowed in the socket's state"
        case "TCP_OLD_ACK": return "an old ACK during the handshake"
        case "TCP_ABORT_ON_DATA": return "data arrived for a socket closed or shut down for reading"
        case "TCP_TIMEWAIT_SOCKET": return "a segment for a socket in TIME-WAIT"
        case "INVALID_SYN": return "an unexpected SYN"
        case "TCP_ABORT_ON_CLOSE": return "close() with unread data"
        case "TCP_ABORT_ON_LINGER": return "the FIN-WAIT-2 timer of an orphaned socket ran out"
        case "TCP_ABORT_ON_MEMORY": return "too many orphaned sockets, or out of socket memory"
        case "TCP_STATE": return "the socket was aborted (SO_LINGER {1, 0}, or a disconnect)"
        case "TCP_KEEPALIVE_TIMEOUT": return "keep-alive probes went unanswered"
        case "TCP_DISCONNECT_WITH_DATA": return "disconnect (connect() with AF_UNSPEC) with data pending"
        case "MPTCP_RST_EUNSPEC": return "MPTCP: unspecified error"
        case "MPTCP_RST_EMPTCP": return "MPTCP: protocol error"
        case "MPTCP_RST_ERESOURCE": return "MPTCP: out of resources"
        case "MPTCP_RST_EPROHIBIT": return "MPTCP: administratively prohibited"
        case "MPTCP_RST_EWQ2BIG": return "MPTCP: too much unacknowledged data"
        case "MPTCP_RST_EBADPERF": return "MPTCP: subflow performance too poor"
        case "MPTCP_RST_EMIDDLEBOX": return "MPTCP: a middlebox interfered"
        case "ERROR": return "an error"
        default: return nil
        }
    }

    /// `close() with unread data (TCP_ABORT_ON_CLOSE)`; the name alone when it has no words;
    /// `reason 42` when the kernel does not name the value either.
    public static func reasonPhrase(_ r: RSTReason) -> String {
        let name = r.name ?? "reason \(r.rawValue)"
        guard let words = reason(r) else { return name }
        return "\(words) (\(name))"
    }

    /// A kernel state in RFC 9293's spelling where it has one (`TCP_FIN_WAIT1` -> `FIN-WAIT-1`,
    /// `TCP_CLOSE` -> `CLOSED`); Linux's request socket is `NEW-SYN-RECV`; `state N` for a
    /// number the table does not know.
    public static func state(_ s: KernelTCPState) -> String {
        switch s {
        case .established: return "ESTABLISHED"
        case .synSent: return "SYN-SENT"
        case .synRecv: return "SYN-RECEIVED"
        case .finWait1: return "FIN-WAIT-1"
        case .finWait2: return "FIN-WAIT-2"
        case .timeWait: return "TIME-WAIT"
        case .close: return "CLOSED"
        case .closeWait: return "CLOSE-WAIT"
        case .lastAck: return "LAST-ACK"
        case .listen: return "LISTEN"
        case .closing: return "CLOSING"
        case .newSynRecv: return "NEW-SYN-RECV"
        default: return "state \(s.rawValue)"
        }
    }

    /// The errno names an application sees when a connection ends (errno(3), Linux's numbers);
    /// `errno N` for any other.
    public static func errnoName(_ e: Int32) -> String {
        switch e {
        case 32: return "EPIPE"
        case 100: return "ENETDOWN"
        case 101: return "ENETUNREACH"
        case 103: return "ECONNABORTED"
        case 104: return "ECONNRESET"
        case 110: return "ETIMEDOUT"
        case 111: return "ECONNREFUSED"
        case 112: return "EHOSTDOWN"
        case 113: return "EHOSTUNREACH"
        case 71: return "EPROTO"
        case 90: return "EMSGSIZE"
        default: return "errno \(e)"
        }
    }

    /// A kernel event as a timeline row says it, short enough for the ladder:
    /// `kernel: FIN-WAIT-1 → FIN-WAIT-2`, `kernel: RST sent (TCP_ABORT_ON_CLOSE)`,
    /// `kernel: RST accepted`, `kernel: ECONNRESET to the application`.
    public static func row(_ e: KernelEvent) -> String {
        switch e.kind {
        case .stateChange(let from, let to, _): return "kernel: \(state(from)) → \(state(to))"
        case .sendReset(_, let reason):
            guard let reason else { return "kernel: RST sent" }
            return "kernel: RST sent (\(reason.name ?? "reason \(reason.rawValue)"))"
        case .receiveReset: return "kernel: RST accepted"
        case .errorReport(let errno, _): return "kernel: \(errnoName(errno)) to the application"
        }
    }

    /// One line for each part of a recording that went wrong: events this kernel lacks or
    /// whose format teardown cannot read, pages after lost events, records or pages not read,
    /// and a realtime clock that moved during the session.
    public static func problems(_ r: KernelRecording) -> [String] {
        var lines: [String] = []
        if !r.missing.isEmpty { lines.append("kernel lane: this kernel has no \(r.missing.joined(separator: ", ")); its events are left out") }
        for (file, e) in r.formatErrors { lines.append("kernel lane: " + formatError(e, file: file)) }
        for e in r.layoutErrors { lines.append("kernel lane: " + layoutError(e)) }
        if r.pagesAfterLoss > 0 { lines.append("kernel lane: the kernel lost events before \(r.pagesAfterLoss) page\(r.pagesAfterLoss == 1 ? "" : "s") (its buffer was full)") }
        if let e = r.recordErrors.first { lines.append("kernel lane: \(r.recordErrors.count) record\(r.recordErrors.count == 1 ? "" : "s") not read, the first: " + recordError(e)) }
        if let e = r.pageErrors.first { lines.append("kernel lane: \(r.pageErrors.count) page\(r.pageErrors.count == 1 ? "" : "s") not read to the end, the first: " + pageError(e)) }
        let drift = r.driftNanoseconds < 0 ? -r.driftNanoseconds : r.driftNanoseconds
        if drift > 1_000_000 { lines.append("kernel lane: the realtime clock moved by \(r.driftNanoseconds) ns during the recording; kernel times may be off by as much") }
        if let left = r.instanceLeft { lines.append("kernel lane: \(left); the next teardown run as root removes it") }
        return lines
    }

    /// One line on a ring-buffer page that could not be read to its end.
    public static func pageError(_ e: TracePageError) -> String {
        switch e {
        case .shortHeader(let n): return "a ring-buffer page of \(n) bytes, shorter than its header"
        case .commitPastPage(let commit, let available): return "a ring-buffer page claiming \(commit) bytes of events in \(available)"
        case .cutShort(let offset): return "a ring-buffer page whose event at byte \(offset) runs past its data"
        }
    }

    /// One line on a format file that could not be read.
    public static func formatError(_ e: TraceFormatError, file: String) -> String {
        switch e {
        case .missing(let what): return "\(file): no '\(what):' line; not a tracepoint format file"
        case .badID(let text): return "\(file): the ID '\(text)' is not a number from 0 to 65535"
        case .badField(let line, let text): return "\(file), line \(line): cannot read the field '\(text)'"
        }
    }

    /// One line on a format teardown cannot decode.
    public static func layoutError(_ e: KernelLayoutError) -> String {
        switch e {
        case .unknownEvent(let name): return "the kernel event \(name) is not one teardown reads"
        case .missingField(let event, let field):
            return "the kernel's \(event) has no field '\(field)': a layout teardown does not know; its events are left out"
        case .fieldSize(let event, let field, let size):
            return "the kernel's \(event) has a field '\(field)' of \(size) bytes: a layout teardown does not know; its events are left out"
        }
    }

    /// One line on a record that could not be decoded.
    public static func recordError(_ e: KernelRecordError) -> String {
        switch e {
        case .noType(let n): return "a kernel trace record of \(n) bytes, too short to name its event"
        case .unknownEventID(let id): return "a kernel trace record of event id \(id), which no format read names"
        case .cutShort(let event, let needed, let available):
            return "a kernel \(event) record cut short: \(available) of \(needed) bytes"
        }
    }
}
