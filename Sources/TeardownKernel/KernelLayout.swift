/// The tracepoints teardown reads, by the name in their `format` file.
public enum KernelEventName: String, CaseIterable, Sendable {
    case sendReset = "tcp_send_reset"
    case receiveReset = "tcp_receive_reset"
    case stateChange = "inet_sock_set_state"
    case errorReport = "inet_sk_error_report"

    /// The tracefs group (`events/GROUP/EVENT`).
    public var group: String { self == .sendReset || self == .receiveReset ? "tcp" : "sock" }
}

/// Why a format, though read, cannot be decoded: a field teardown needs is absent or has a size it
/// does not know (an older or newer kernel than any it was written against).
public enum KernelLayoutError: Error, Hashable, Sendable {
    case unknownEvent(String)
    case missingField(event: String, field: String)
    case fieldSize(event: String, field: String, size: Int)
}

/// Where one event's fields sit in its records, checked once against the format: every offset
/// and size below was confirmed, and `length` is the least a record must hold for all of them.
public struct KernelLayout: Sendable {
    public let event: KernelEventName
    public let format: TraceEventFormat

    /// The two ways the events store their 4-tuple.
    enum Addresses: Sendable {
        /// Two `struct sockaddr_in6`-sized arrays (tcp_send_reset from 6.10: `__u8 saddr[28]`),
        /// each holding a sockaddr_in or a sockaddr_in6.
        case sockaddr(source: Int, destination: Int)
        /// Host-order `sport`/`dport`, optional `family`, `saddr[4]`/`daddr[4]` and
        /// `saddr_v6[16]`/`daddr_v6[16]` (every other event, and tcp_send_reset before 6.10).
        case split(sport: Int, dport: Int, family: Int?, saddr: Int, daddr: Int, saddr6: Int?, daddr6: Int?)
    }

    let pid: Int
    let socket: (offset: Int, size: Int)?
    let state: Int?
    let oldState: Int?
    let newState: Int?
    let reason: Int?
    let error: Int?
    let proto: Int?
    let addresses: Addresses
    /// Bytes a record needs for every field above.
    public let length: Int

    /// Checks `format` against what `event` needs.
    public static func resolve(_ format: TraceEventFormat) -> Result<KernelLayout, KernelLayoutError> {
        guard let event = KernelEventName(rawValue: format.name) else { return .failure(.unknownEvent(format.name)) }
        var end = 0
        var failure: KernelLayoutError?
        /// The offset of `name` if its size is one of `sizes`; records a failure when `required`.
        func slot(_ name: String, _ sizes: Set<Int>, required: Bool = true) -> Int? {
            guard let f = format.field(name) else {
                if required, failure == nil { failure = .missingField(event: format.name, field: name) }
                return nil
            }
            guard sizes.contains(f.size) else {
                if failure == nil { failure = .fieldSize(event: format.name, field: name, size: f.size) }
                return nil
            }
            end = max(end, f.offset + f.size)
            return f.offset
        }
        let pid = slot("common_pid", [4])
        var socket: (Int, Int)?
        if event != .errorReport, let o = slot("skaddr", [4, 8]), let f = format.field("skaddr") { socket = (o, f.size) }
        let state = event == .sendReset ? slot("state", [4], required: false) : nil
        let reason = event == .sendReset ? slot("reason", [4], required: false) : nil
        let oldState = event == .stateChange ? slot("oldstate", [4]) : nil
        let newState = event == .stateChange ? slot("newstate", [4]) : nil
        let error = event == .errorReport ? slot("error", [4]) : nil
        let proto = event == .stateChange || event == .errorReport ? slot("protocol", [2], required: false) : nil
        let addresses: Addresses?
        if let s = format.field("saddr"), s.size == 28 {
            // 6.10+: sockaddr_in6-sized arrays.
            let src = slot("saddr", [28]), dst = slot("daddr", [28])
            addresses = src.flatMap { s in dst.map { .sockaddr(source: s, destination: $0) } }
        } else {
            let sport = slot("sport", [2]), dport = slot("dport", [2])
            let family = slot("family", [2], required: false)
            let saddr = slot("saddr", [4]), daddr = slot("daddr", [4])
            let saddr6 = slot("saddr_v6", [16], required: false), daddr6 = slot("daddr_v6", [16], required: false)
            if let sport, let dport, let saddr, let daddr {
                addresses = .split(sport: sport, dport: dport, family: family, saddr: saddr, daddr: daddr,
                                   saddr6: saddr6 == nil || daddr6 == nil ? nil : saddr6,
                                   daddr6: saddr6 == nil || daddr6 == nil ? nil : daddr6)
            } else {
                addresses = nil
            }
        }
        if let failure { return .failure(failure) }
        guard let pid, let addresses else { return .failure(.missingField(event: format.name, field: "saddr")) }
        if event == .stateChange, oldState == nil || newState == nil { return .failure(.missingField(event: format.name, field: "oldstate")) }
        if event == .errorReport, error == nil { return .failure(.missingField(event: format.name, field: "error")) }
        return .success(KernelLayout(event: event, format: format, pid: pid, socket: socket, state: state,
                                     oldState: oldState, newState: newState, reason: reason, error: error,
                                     proto: proto, addresses: addresses, length: end))
    }
}
