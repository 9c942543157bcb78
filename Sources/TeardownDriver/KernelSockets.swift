import Foundation
import TeardownWire

/// TCP sockets as the kernel lists them in /proc/thread-self/net/tcp and tcp6 (proc(5)), which
/// show the calling thread's network namespace (/proc/net follows the main thread instead). Evidence straight from the kernel: a side that
/// is in TIME-WAIT or FIN-WAIT-2 after its process closed the socket shows up only here.
public struct KernelSocket: Sendable, Hashable, CustomStringConvertible {
    public var local: Endpoint
    public var remote: Endpoint
    /// The kernel's state name: ESTABLISHED, TIME_WAIT, FIN_WAIT2, CLOSE_WAIT, ...
    public var state: String
    public var sendQueue: Int
    public var receiveQueue: Int
    public var description: String { "\(local) → \(remote) \(state) (send-q \(sendQueue), recv-q \(receiveQueue))" }
}

public enum KernelSockets {
    /// include/net/tcp_states.h order.
    static let names = ["", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
                        "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV"]

    public static func snapshot() -> [KernelSocket] {
        parse(readToEnd("/proc/thread-self/net/tcp"), v6: false) + parse(readToEnd("/proc/thread-self/net/tcp6"), v6: true)
    }

    /// Reads a /proc file with read(2) until it returns 0. seq_file hands out at most about a
    /// page per read, and String(contentsOfFile:) stops after the first short read, which cut
    /// the table off after ~27 sockets (4 KB).
    static func readToEnd(_ path: String) -> String {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Sockets whose local or remote port is `port`.
    public static func involving(port: UInt16, in list: [KernelSocket]) -> [KernelSocket] {
        list.filter { $0.local.port == port || $0.remote.port == port }
    }

    static func parse(_ text: String, v6: Bool) -> [KernelSocket] {
        var out: [KernelSocket] = []
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count > 4, let l = endpoint(f[1], v6: v6), let r = endpoint(f[2], v6: v6),
                  let st = Int(f[3], radix: 16) else { continue }
            let q = f[4].split(separator: ":")
            out.append(KernelSocket(local: l, remote: r, state: st < names.count ? names[st] : "STATE \(st)",
                                    sendQueue: q.count == 2 ? Int(q[0], radix: 16) ?? 0 : 0,
                                    receiveQueue: q.count == 2 ? Int(q[1], radix: 16) ?? 0 : 0))
        }
        return out
    }

    /// `0100007F:1388` (IPv4 as a host-order 32-bit word) or the 32-hex-digit IPv6 form
    /// (four host-order 32-bit words).
    static func endpoint(_ s: Substring, v6: Bool) -> Endpoint? {
        let parts = s.split(separator: ":")
        guard parts.count == 2, let port = UInt16(parts[1], radix: 16) else { return nil }
        let hex = parts[0]
        if !v6 {
            guard let v = UInt32(hex, radix: 16) else { return nil }
            return Endpoint(address: IPAddress(ipv4: v.byteSwapped), port: port)
        }
        guard hex.count == 32 else { return nil }
        var words: [UInt32] = []
        var i = hex.startIndex
        for _ in 0..<4 {
            let j = hex.index(i, offsetBy: 8)
            guard let w = UInt32(hex[i..<j], radix: 16) else { return nil }
            words.append(w.byteSwapped)
            i = j
        }
        let hi = UInt64(words[0]) << 32 | UInt64(words[1]), lo = UInt64(words[2]) << 32 | UInt64(words[3])
        return Endpoint(address: IPAddress(ipv6High: hi, low: lo), port: port)
    }
}
