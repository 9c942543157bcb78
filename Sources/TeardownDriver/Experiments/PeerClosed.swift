import Foundation
import TeardownModel
import TeardownWire

/// Experiment 5: close() while received data is still unread (tcp(7); RFC 2525 §2.17, "failure
/// to RST on close with data pending"). The server reads 400 of the client's 1,000 bytes and closes.
public struct CloseUnread: Experiment {
    public var name: String { "close-unread" }
    public var summary: String { "close() with unread data in the receive queue: RST instead of FIN; the unread bytes are lost although acknowledged" }
    public var claims: [Claim] {
        [Claim("rst-not-fin", "close() with unread data in the receive queue sends an RST instead of a FIN", source: "seeds/000"),
         Claim("acked-then-lost", "the unread bytes are thrown away although the client's TCP saw them acknowledged", source: "seeds/000, seeds/001"),
         Claim("sender-reset", "the client learns of it only as ECONNRESET on its next read()", source: "seeds/000")]
    }

    static let written = 1000, readFirst = 400

    public init() {}

    public func perform(_ lab: Lab) throws {
        let listener = try lab.listener()
        let port = listener.local!.port
        lab.set("port", port)
        lab.spawn("server") {
            let s = try listener.accept()
            lab.sleep(ms: 30)                                  // all 1,000 bytes are in the receive queue
            s.read(max: CloseUnread.readFirst)
            lab.sleep(ms: 60)                                  // any delayed ACK has gone out
            lab.set("unreadAtClose", Int(s.queues().receive))
            s.close()
            listener.close()
        }
        let c = try lab.socket("client")
        try c.connectOrFail(lab.endpoint(port))
        c.write(count: CloseUnread.written)
        lab.sleep(ms: 150)
        lab.set("clientRead", c.read(max: 1024))
        lab.set("clientErrno", errnoName(c.lastErrno))
        c.close()
        lab.join()
    }

    public func judge(_ o: Observation) -> [ClaimResult] {
        guard let port: UInt16 = o.value("port"), let r = o.records(serverPort: port).first,
              let close = GroupAEvidence.calls(o, r, .resp, "close()").first else {
            return GroupAEvidence.inconclusive(claims, "the connection or the server's close() was not captured")
        }
        let unread: Int = o.value("unreadAtClose") ?? -1
        let rsts = GroupAEvidence.packets(o, r, from: .resp, with: .rst, after: close.time)
        let fins = o.packets(r, from: .resp, with: .fin)
        // The ACK that covered all 1,000 bytes, sent before close().
        let acks = o.packets(r).filter {
            $0.from == .resp && $0.time < close.time && ($0.relativeAcknowledgment ?? 0) >= UInt32(CloseUnread.written + 1)
        }
        let l = r.orig.bytes
        let clientRead: Int = o.value("clientRead") ?? 0, clientErrno: String = o.value("clientErrno") ?? ""
        let readText = GroupAEvidence.calls(o, r, .resp, "read(").map(Observation.describe).joined(separator: ", ")
        return [
            ClaimResult(claims[0], holdsIf: unread > 0 && !rsts.isEmpty && fins.isEmpty,
                        "\(readText); \(Format.thousands(unread)) bytes unread (SIOCINQ) at close(); "
                        + (rsts.first.map { GroupAEvidence.describe($0, after: close) } ?? "no RST")
                        + (fins.isEmpty ? ", no FIN" : ", FIN sent") + "; teardown \(r.teardown.name)"),
            ClaimResult(claims[1], holdsIf: !acks.isEmpty && (l.unread ?? 0) > 0 && l.unread == UInt64(max(0, unread)),
                        (acks.first.map { "\(Observation.describe($0)) acknowledged all \(Format.thousands(CloseUnread.written)) bytes before close(); " } ?? "no ACK covered all the bytes before close(); ")
                        + (r.rst?.acknowledged.map { "the RST itself acknowledges \(Format.thousands($0)); " } ?? "")
                        + GroupAEvidence.ledger(l)),
            ClaimResult(claims[2], holdsIf: clientRead == -1 && clientErrno == "ECONNRESET",
                        "client read() = \(clientRead)\(clientRead < 0 ? " " + clientErrno : "") after the RST"),
        ]
    }
}

/// Experiment 6: writing to a connection the peer has closed (RFC 9293 §3.10.7.4: a closed
/// socket answers data with RST; send(2), EPIPE and SIGPIPE).
public struct WriteAfterClose: Experiment {
    public var name: String { "write-after-close" }
    public var summary: String { "Writing to a connection the peer closed: the first write succeeds and draws an RST, the second fails with EPIPE and SIGPIPE" }
    public var claims: [Claim] {
        [Claim("eof-first", "after the peer's FIN, read() returns 0 (EOF)", source: "seeds/000"),
         Claim("first-write-ok", "the first write() after the peer closed succeeds", source: "seeds/000"),
         Claim("draws-rst", "that write draws an RST from the peer, which no longer has a socket to take the data", source: "seeds/000, seeds/002"),
         Claim("second-epipe", "the second write() fails with EPIPE (\"broken pipe\")", source: "seeds/000"),
         Claim("sigpipe", "the second write() raises SIGPIPE", source: "seeds/002"),
         Claim("read-reset", "a read() after the RST fails with ECONNRESET", source: "seeds/000")]
    }

    public init() {}

    public func perform(_ lab: Lab) throws {
        let listener = try lab.listener()
        let port = listener.local!.port
        lab.set("port", port)
        lab.spawn("server") {
            let s = try listener.accept()
            lab.sleep(ms: 10)
            s.close()
            listener.close()
        }
        let c = try lab.socket("client")
        try c.connectOrFail(lab.endpoint(port))
        lab.sleep(ms: 50)                                      // the server's FIN has arrived
        c.read(max: 1024)
        c.write(count: 5, pattern: Array("hello".utf8))
        lab.sleep(ms: 50)                                      // the RST has arrived
        c.write(count: 5, pattern: Array("again".utf8))
        c.read(max: 1024)
        c.close()
        lab.join()
    }

    public func judge(_ o: Observation) -> [ClaimResult] {
        guard let port: UInt16 = o.value("port"), let r = o.records(serverPort: port).first else {
            return GroupAEvidence.inconclusive(claims, "the connection was not captured")
        }
        let reads = GroupAEvidence.calls(o, r, .orig, "read("), writes = GroupAEvidence.calls(o, r, .orig, "write(")
        guard reads.count == 2, writes.count == 2 else {
            return GroupAEvidence.inconclusive(claims, "expected 2 reads and 2 writes by the client, saw \(reads.count) and \(writes.count)")
        }
        let serverFIN = o.packets(r, from: .resp, with: .fin).first
        let rst = GroupAEvidence.packets(o, r, from: .resp, with: .rst, after: writes[0].time).first
        let rstBeforeSecond = rst.map { $0.time < writes[1].time } ?? false
        let raised = writes[1].call.contains("(SIGPIPE raised)")
        return [
            ClaimResult(claims[0], holdsIf: serverFIN.map { $0.time < reads[0].time } == true && reads[0].result == 0,
                        (serverFIN.map { Observation.describe($0) + " from the server, then " } ?? "no FIN from the server; ") + Observation.describe(reads[0])),
            ClaimResult(claims[1], holdsIf: writes[0].result == 5, Observation.describe(writes[0]) + " (the client is in \(r.orig.state.rawValue) at the end)"),
            ClaimResult(claims[2], holdsIf: rstBeforeSecond,
                        (rst.map { "\(GroupAEvidence.describe($0, after: writes[0])), \($0.flags.contains(.ack) ? "with ACK" : "bare"); teardown \(r.teardown.name)" } ?? "no RST from the server after the first write")),
            ClaimResult(claims[3], holdsIf: writes[1].result == -1 && writes[1].errno == "EPIPE", Observation.describe(writes[1])),
            ClaimResult(claims[4], holdsIf: raised && o.sigpipes >= 1, "\(o.sigpipes) SIGPIPE delivered during the run; the second write \(raised ? "recorded" : "did not record") \"(SIGPIPE raised)\""),
            ClaimResult(claims[5], holdsIf: reads[1].result == -1 && reads[1].errno == "ECONNRESET",
                        "after the RST and the EPIPE: \(Observation.describe(reads[1]))"),
        ]
    }
}
