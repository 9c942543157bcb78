import Foundation
import TeardownModel
import TeardownWire

/// What the capture and the call log show of an experiment, for judging its claims.
public struct Observation {
    public var records: [ConnectionRecord]
    public var calls: [RecordedCall]
    /// SIGPIPE deliveries during the experiment.
    public var sigpipes: Int

    /// Calls by one actor whose text starts with `prefix`.
    public func calls(_ actor: String, _ prefix: String) -> [RecordedCall] {
        calls.filter { $0.actor == actor && $0.call.hasPrefix(prefix) }
    }

    /// Packet rows of a record, in order.
    public func packets(_ r: ConnectionRecord) -> [PacketEvent] {
        r.events.compactMap { if case .packet(let p) = $0 { return p }; return nil }
    }

    /// Packet rows from `side` carrying all of `flags`.
    public func packets(_ r: ConnectionRecord, from side: Side, with flags: TCPFlags) -> [PacketEvent] {
        packets(r).filter { $0.from == side && $0.flags.isSuperset(of: flags) }
    }

    /// Every record whose server port is `port`, in order.
    public func records(serverPort port: UInt16) -> [ConnectionRecord] {
        records.filter { $0.resp.endpoint.port == port }
    }

    /// "packet 7 [R.]" for evidence text.
    public static func describe(_ p: PacketEvent) -> String {
        "packet \(p.number) [\(p.flags.tcpdumpString)]"
    }

    public static func describe(_ c: RecordedCall) -> String {
        var s = "\(c.actor) \(c.call) = \(c.result)"
        if let e = c.errno { s += " \(e)" }
        return s
    }

    public static func ms(_ ns: Int64) -> String {
        let v = Double(ns) / 1e6
        return v < 10 ? String(format: "%.3f ms", v) : String(format: "%.0f ms", v)
    }
}
