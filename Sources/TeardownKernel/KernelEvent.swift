import TeardownWire

/// One record of a tracepoint teardown reads, decoded. `time` is the record's timestamp on the
/// trace clock, as given to the decoder; `pid` is the task that was running (in softirq, not the
/// socket's owner). Endpoints are as the event states them: `source` is the socket's own end
/// (for tcp_send_reset: the end that sends the RST).
public struct KernelEvent: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        /// tcp:tcp_send_reset. `state` is nil when the RST was sent without a full socket (state 0);
        /// `reason` is nil before Linux 6.10, whose event carries none.
        case sendReset(state: KernelTCPState?, reason: RSTReason?)
        /// tcp:tcp_receive_reset: an acceptable RST reached the socket.
        case receiveReset
        /// sock:inet_sock_set_state.
        case stateChange(from: KernelTCPState, to: KernelTCPState, protocol: UInt16?)
        /// sock:inet_sk_error_report: the errno the application is about to see (positive).
        case errorReport(errno: Int32, protocol: UInt16?)
    }

    public var time: Timestamp
    public var pid: Int32
    public var kind: Kind
    /// The `struct sock *` the event names: the same across events of one socket (0 when none;
    /// nil for inet_sk_error_report, whose record has no such field).
    public var socket: UInt64?
    public var source: Endpoint?
    public var destination: Endpoint?

    public init(time: Timestamp, pid: Int32, kind: Kind, socket: UInt64?, source: Endpoint?, destination: Endpoint?) {
        self.time = time; self.pid = pid; self.kind = kind; self.socket = socket
        self.source = source; self.destination = destination
    }
}
