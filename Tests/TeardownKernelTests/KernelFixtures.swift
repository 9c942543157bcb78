import Foundation
import TeardownKernel
import TeardownWire

/// The format files in Fixtures/, read from the source tree.
enum KernelFixtures {
    static let folder: String = {
        let file = #filePath
        return String(file[..<file.lastIndex(of: "/")!]) + "/Fixtures/"
    }()

    static func text(_ name: String) -> String {
        guard let t = try? String(contentsOfFile: folder + name + ".format", encoding: .utf8) else {
            fatalError("fixture \(name) missing")
        }
        return t
    }

    static func format(_ name: String) -> TraceEventFormat {
        switch TraceEventFormat.parse(text(name)) {
        case .success(let f): return f
        case .failure(let e): fatalError("fixture \(name): \(e)")
        }
    }

    static let names = ["6.18-tcp_send_reset", "6.18-inet_sock_set_state", "6.18-tcp_receive_reset",
                        "6.18-inet_sk_error_report", "6.9-tcp_send_reset"]
}

/// Builds a record of `format` field by field, in the host's byte order as the ring buffer holds it.
struct RecordBuilder {
    let format: TraceEventFormat
    var bytes: [UInt8]

    init(_ format: TraceEventFormat, pid: Int32 = 4242) {
        self.format = format
        bytes = [UInt8](repeating: 0, count: format.fields.map { $0.offset + $0.size }.max() ?? 0)
        set("common_type", UInt16(format.id))
        set("common_pid", pid)
    }

    mutating func set<T: FixedWidthInteger>(_ name: String, _ value: T, at extra: Int = 0) {
        guard let f = format.field(name) else { fatalError("no field \(name) in \(format.name)") }
        withUnsafeBytes(of: value) { v in
            for (i, b) in v.enumerated() { bytes[f.offset + extra + i] = b }
        }
    }

    mutating func setBytes(_ name: String, _ value: [UInt8], at extra: Int = 0) {
        guard let f = format.field(name) else { fatalError("no field \(name) in \(format.name)") }
        for (i, b) in value.enumerated() { bytes[f.offset + extra + i] = b }
    }

    /// A sockaddr_in in the 28-byte array `name`.
    mutating func sockaddr4(_ name: String, _ a: [UInt8], port: UInt16) {
        set(name, UInt16(2))
        set(name, port.bigEndian, at: 2)
        setBytes(name, a, at: 4)
    }

    /// A sockaddr_in6 in the 28-byte array `name`.
    mutating func sockaddr6(_ name: String, _ a: [UInt8], port: UInt16) {
        set(name, UInt16(10))
        set(name, port.bigEndian, at: 2)
        setBytes(name, a, at: 8)
    }
}

func ep(_ text: String, _ port: UInt16) -> Endpoint { Endpoint(address: IPAddress(text)!, port: port) }

let loopback6: [UInt8] = Array(repeating: 0, count: 15) + [1]
let doc6: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [7]
