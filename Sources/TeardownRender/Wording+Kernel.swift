import TeardownKernel

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
        case "TCP_ABORT_ON_DATA": return "data arrived for a socket already closed"
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
