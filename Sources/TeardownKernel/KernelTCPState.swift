/// A socket state as the kernel numbers it (include/net/tcp_states.h). An open set: a number the
/// table does not know is still a value, printed as its number.
public struct KernelTCPState: RawRepresentable, Hashable, Sendable {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let established = Self(rawValue: 1)
    public static let synSent = Self(rawValue: 2)
    public static let synRecv = Self(rawValue: 3)
    public static let finWait1 = Self(rawValue: 4)
    public static let finWait2 = Self(rawValue: 5)
    public static let timeWait = Self(rawValue: 6)
    public static let close = Self(rawValue: 7)
    public static let closeWait = Self(rawValue: 8)
    public static let lastAck = Self(rawValue: 9)
    public static let listen = Self(rawValue: 10)
    public static let closing = Self(rawValue: 11)
    /// A request socket (the SYN-RECEIVED of RFC 9293 before the full socket exists).
    public static let newSynRecv = Self(rawValue: 12)

    static let names = ["TCP_ESTABLISHED", "TCP_SYN_SENT", "TCP_SYN_RECV", "TCP_FIN_WAIT1", "TCP_FIN_WAIT2",
                        "TCP_TIME_WAIT", "TCP_CLOSE", "TCP_CLOSE_WAIT", "TCP_LAST_ACK", "TCP_LISTEN",
                        "TCP_CLOSING", "TCP_NEW_SYN_RECV"]

    /// The kernel's name (`TCP_FIN_WAIT1`), or nil for a number the table does not hold.
    public var kernelName: String? {
        rawValue >= 1 && Int(rawValue) <= Self.names.count ? Self.names[Int(rawValue) - 1] : nil
    }
}

/// Why the kernel sent an RST: `enum sk_rst_reason` (include/net/rstreason.h, 6.10+), with the
/// kernel's own name for it. The name is read from the running kernel's `format` file
/// (`__print_symbolic(REC->reason, ...)`); `fallbackNames` serves a format without the list.
public struct RSTReason: Hashable, Sendable {
    public var rawValue: UInt32
    /// `TCP_ABORT_ON_CLOSE`, or nil when neither the kernel nor the fallback table names it.
    public var name: String?

    public init(rawValue: UInt32, name: String?) { self.rawValue = rawValue; self.name = name }

    /// The values of `enum sk_rst_reason` as Linux 6.12 to 6.18 number them (include/net/rstreason.h:
    /// DEFINE_RST_REASON). 6.10 and 6.11 lack the active-close reasons 11-16, so their MPTCP values
    /// sit lower: a number is only trusted with the kernel's own list.
    public static let fallbackNames = [
        "NOT_SPECIFIED", "NO_SOCKET", "TCP_INVALID_ACK_SEQUENCE", "TCP_RFC7323_PAWS", "TCP_TOO_OLD_ACK",
        "TCP_ACK_UNSENT_DATA", "TCP_FLAGS", "TCP_OLD_ACK", "TCP_ABORT_ON_DATA", "TCP_TIMEWAIT_SOCKET",
        "INVALID_SYN", "TCP_ABORT_ON_CLOSE", "TCP_ABORT_ON_LINGER", "TCP_ABORT_ON_MEMORY", "TCP_STATE",
        "TCP_KEEPALIVE_TIMEOUT", "TCP_DISCONNECT_WITH_DATA", "MPTCP_RST_EUNSPEC", "MPTCP_RST_EMPTCP",
        "MPTCP_RST_ERESOURCE", "MPTCP_RST_EPROHIBIT", "MPTCP_RST_EWQ2BIG", "MPTCP_RST_EBADPERF",
        "MPTCP_RST_EMIDDLEBOX", "ERROR", "MAX",
    ]

    /// `value` named from the kernel's list when the format holds one, else from the fallback table.
    public static func named(_ value: UInt32, in format: TraceEventFormat) -> RSTReason {
        if let list = format.symbols["reason"], !list.isEmpty {
            return RSTReason(rawValue: value, name: format.symbol(Int64(value), of: "reason"))
        }
        return RSTReason(rawValue: value, name: Int(value) < fallbackNames.count ? fallbackNames[Int(value)] : nil)
    }
}
