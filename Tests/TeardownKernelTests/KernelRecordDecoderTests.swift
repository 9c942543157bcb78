import Testing
import TeardownWire
@testable import TeardownKernel

@Suite("KernelRecordDecoder: typed events from raw records")
struct KernelRecordDecoderTests {
    static let all = KernelFixtures.names.filter { $0.hasPrefix("6.18") }.map(KernelFixtures.format)
    static let decoder = KernelRecordDecoder(formats: all)
    static let old = KernelRecordDecoder(formats: [KernelFixtures.format("6.9-tcp_send_reset")])
    static let t = Timestamp(nanoseconds: 123_456_789)

    static func sendReset(reason: UInt32 = 11, state: Int32 = 8) -> RecordBuilder {
        var b = RecordBuilder(KernelFixtures.format("6.18-tcp_send_reset"))
        b.set("skbaddr", UInt64(0xffff_8880_0000_1000))
        b.set("skaddr", UInt64(0xffff_8880_1234_5600))
        b.set("state", state)
        b.set("reason", reason)
        b.sockaddr4("saddr", [127, 0, 0, 1], port: 8080)
        b.sockaddr4("daddr", [10, 0, 0, 2], port: 40000)
        return b
    }

    @Test("6.18 tcp_send_reset, IPv4: reason and state named, the RST sender first")
    func sendResetV4() throws {
        let e = try Self.decoder.decode(Self.sendReset().bytes, time: Self.t).get()
        #expect(e == KernelEvent(time: Self.t, pid: 4242,
                                 kind: .sendReset(state: .closeWait, reason: RSTReason(rawValue: 11, name: "TCP_ABORT_ON_CLOSE")),
                                 socket: 0xffff_8880_1234_5600,
                                 source: ep("127.0.0.1", 8080), destination: ep("10.0.0.2", 40000)))
    }

    @Test("6.18 tcp_send_reset, IPv6, no socket: state nil, reason NO_SOCKET")
    func sendResetV6NoSocket() throws {
        var b = Self.sendReset(reason: 1, state: 0)
        b.set("skaddr", UInt64(0))
        b.sockaddr6("saddr", loopback6, port: 1)
        b.sockaddr6("daddr", doc6, port: 65535)
        let e = try Self.decoder.decode(b.bytes, time: Self.t).get()
        #expect(e.kind == .sendReset(state: nil, reason: RSTReason(rawValue: 1, name: "NO_SOCKET")))
        #expect(e.socket == 0)
        #expect(e.source == ep("::1", 1))
        #expect(e.destination == ep("2001:db8::7", 65535))
    }

    @Test("a zeroed sockaddr (neither socket nor packet) gives no endpoints; a reason the kernel does not list, no name")
    func zeroedSockaddr() throws {
        var b = RecordBuilder(KernelFixtures.format("6.18-tcp_send_reset"))
        b.set("reason", UInt32(99))
        let e = try Self.decoder.decode(b.bytes, time: Self.t).get()
        #expect(e.source == nil && e.destination == nil)
        #expect(e.kind == .sendReset(state: nil, reason: RSTReason(rawValue: 99, name: nil)))
    }

    @Test("the kernel's names win over the fallback table; without a list, the table names it")
    func reasonNames() throws {
        let text = KernelFixtures.text("6.18-tcp_send_reset")
        var renamed = try TraceEventFormat.parse(text.replacingOccurrences(of: "\"TCP_ABORT_ON_CLOSE\"", with: "\"RENAMED\"")).get()
        #expect(try KernelRecordDecoder(formats: [renamed]).decode(Self.sendReset().bytes, time: Self.t).get().kind
            == .sendReset(state: .closeWait, reason: RSTReason(rawValue: 11, name: "RENAMED")))
        renamed.symbols = [:]
        #expect(try KernelRecordDecoder(formats: [renamed]).decode(Self.sendReset(reason: 14).bytes, time: Self.t).get().kind
            == .sendReset(state: .closeWait, reason: RSTReason(rawValue: 14, name: "TCP_STATE")))
        #expect(try KernelRecordDecoder(formats: [renamed]).decode(Self.sendReset(reason: 26).bytes, time: Self.t).get().kind
            == .sendReset(state: .closeWait, reason: RSTReason(rawValue: 26, name: nil)))
    }

    @Test("6.9 tcp_send_reset: split addresses, no reason")
    func sendReset69() throws {
        var b = RecordBuilder(KernelFixtures.format("6.9-tcp_send_reset"), pid: 7)
        b.set("skaddr", UInt64(0xabc))
        b.set("state", Int32(4))
        b.set("sport", UInt16(8080))
        b.set("dport", UInt16(50000))
        b.set("family", UInt16(2))
        b.setBytes("saddr", [192, 0, 2, 1])
        b.setBytes("daddr", [192, 0, 2, 2])
        b.setBytes("saddr_v6", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1])
        let e = try Self.old.decode(b.bytes, time: Self.t).get()
        #expect(e == KernelEvent(time: Self.t, pid: 7, kind: .sendReset(state: .finWait1, reason: nil), socket: 0xabc,
                                 source: ep("192.0.2.1", 8080), destination: ep("192.0.2.2", 50000)))
        b.set("family", UInt16(10))
        b.setBytes("saddr_v6", doc6)
        b.setBytes("daddr_v6", loopback6)
        let e6 = try Self.old.decode(b.bytes, time: Self.t).get()
        #expect(e6.source == ep("2001:db8::7", 8080) && e6.destination == ep("::1", 50000))
        b.set("family", UInt16(1))
        let unix = try Self.old.decode(b.bytes, time: Self.t).get()
        #expect(unix.source == nil && unix.destination == nil)
    }

    @Test("inet_sock_set_state: old and new state, protocol, IPv4 and IPv6")
    func stateChange() throws {
        var b = RecordBuilder(KernelFixtures.format("6.18-inet_sock_set_state"), pid: 0)
        b.set("skaddr", UInt64(0x1000))
        b.set("oldstate", Int32(4))
        b.set("newstate", Int32(11))
        b.set("sport", UInt16(40000))
        b.set("dport", UInt16(8080))
        b.set("family", UInt16(2))
        b.set("protocol", UInt16(6))
        b.setBytes("saddr", [127, 0, 0, 1])
        b.setBytes("daddr", [127, 0, 0, 2])
        let e = try Self.decoder.decode(b.bytes, time: Self.t).get()
        #expect(e == KernelEvent(time: Self.t, pid: 0, kind: .stateChange(from: .finWait1, to: .closing, protocol: 6),
                                 socket: 0x1000, source: ep("127.0.0.1", 40000), destination: ep("127.0.0.2", 8080)))
        b.set("family", UInt16(10))
        b.setBytes("saddr_v6", loopback6)
        b.setBytes("daddr_v6", doc6)
        let e6 = try Self.decoder.decode(b.bytes, time: Self.t).get()
        #expect(e6.source == ep("::1", 40000) && e6.destination == ep("2001:db8::7", 8080))
    }

    @Test("tcp_receive_reset and inet_sk_error_report")
    func receiveAndError() throws {
        var r = RecordBuilder(KernelFixtures.format("6.18-tcp_receive_reset"))
        r.set("skaddr", UInt64(0x2000))
        r.set("sport", UInt16(1)); r.set("dport", UInt16(2)); r.set("family", UInt16(2))
        r.setBytes("saddr", [10, 1, 1, 1]); r.setBytes("daddr", [10, 2, 2, 2])
        let e = try Self.decoder.decode(r.bytes, time: Self.t).get()
        #expect(e == KernelEvent(time: Self.t, pid: 4242, kind: .receiveReset, socket: 0x2000,
                                 source: ep("10.1.1.1", 1), destination: ep("10.2.2.2", 2)))
        var x = RecordBuilder(KernelFixtures.format("6.18-inet_sk_error_report"))
        x.set("error", Int32(104))
        x.set("sport", UInt16(3)); x.set("dport", UInt16(4)); x.set("family", UInt16(2)); x.set("protocol", UInt16(6))
        x.setBytes("saddr", [10, 1, 1, 1]); x.setBytes("daddr", [10, 2, 2, 2])
        let ex = try Self.decoder.decode(x.bytes, time: Self.t).get()
        #expect(ex == KernelEvent(time: Self.t, pid: 4242, kind: .errorReport(errno: 104, protocol: 6), socket: nil,
                                  source: ep("10.1.1.1", 3), destination: ep("10.2.2.2", 4)))
    }

    @Test("an unknown event id, a record too short to name one")
    func unknown() {
        #expect(Self.decoder.decode([0x01, 0x00, 0, 0, 0, 0, 0, 0], time: Self.t) == .failure(.unknownEventID(1)))
        #expect(Self.decoder.decode([0x01], time: Self.t) == .failure(.noType(available: 1)))
        #expect(Self.decoder.decode([], time: Self.t) == .failure(.noType(available: 0)))
    }

    @Test("layouts teardown does not know are refused at the start, naming the field")
    func layouts() throws {
        let text = KernelFixtures.text("6.18-tcp_send_reset")
        let shrunk = try TraceEventFormat.parse(text.replacingOccurrences(of: "offset:16;\tsize:8;", with: "offset:16;\tsize:2;")).get()
        #expect(KernelRecordDecoder(formats: [shrunk]).unusable == [.fieldSize(event: "tcp_send_reset", field: "skaddr", size: 2)])
        let noState = try TraceEventFormat.parse(KernelFixtures.text("6.18-inet_sock_set_state")
            .replacingOccurrences(of: "oldstate;", with: "previous;")).get()
        #expect(KernelRecordDecoder(formats: [noState]).unusable == [.missingField(event: "inet_sock_set_state", field: "oldstate")])
        let other = try TraceEventFormat.parse(text.replacingOccurrences(of: "name: tcp_send_reset", with: "name: tcp_probe")).get()
        #expect(KernelRecordDecoder(formats: [other]).unusable == [.unknownEvent("tcp_probe")])
        let noAddresses = try TraceEventFormat.parse(text.replacingOccurrences(of: "daddr[28]", with: "peer[28]")).get()
        #expect(KernelRecordDecoder(formats: [noAddresses]).unusable == [.missingField(event: "tcp_send_reset", field: "daddr")])
        #expect(Self.decoder.unusable.isEmpty)
        #expect(Self.decoder.events == [.errorReport, .stateChange, .receiveReset, .sendReset])
    }

    static func samples() -> [(String, [UInt8], KernelRecordDecoder)] {
        var set = RecordBuilder(KernelFixtures.format("6.18-inet_sock_set_state"))
        set.set("family", UInt16(10)); set.set("oldstate", Int32(1)); set.set("newstate", Int32(8))
        var err = RecordBuilder(KernelFixtures.format("6.18-inet_sk_error_report"))
        err.set("family", UInt16(2)); err.set("error", Int32(32))
        var rcv = RecordBuilder(KernelFixtures.format("6.18-tcp_receive_reset"))
        rcv.set("family", UInt16(10))
        var old = RecordBuilder(KernelFixtures.format("6.9-tcp_send_reset"))
        old.set("family", UInt16(2))
        var v6 = sendReset()
        v6.sockaddr6("saddr", doc6, port: 9)
        return [("send_reset v4", sendReset().bytes, decoder), ("send_reset v6", v6.bytes, decoder),
                ("set_state", set.bytes, decoder), ("error_report", err.bytes, decoder),
                ("receive_reset", rcv.bytes, decoder), ("send_reset 6.9", old.bytes, Self.old)]
    }

    @Test("every prefix of a record: cut short until the last field it reads, the same event after")
    func prefixes() throws {
        for (name, bytes, decoder) in Self.samples() {
            let full = try decoder.decode(bytes, time: Self.t).get()
            // The last field read: tcp_receive_reset's sock_cookie (64..<72) is not read.
            let length = decoder.layouts[UInt16(bytes[0]) | UInt16(bytes[1]) << 8]!.length
            #expect(length == (name == "receive_reset" ? 62 : bytes.count), "\(name)")
            for k in 0..<bytes.count {
                let r = decoder.decode(Array(bytes[..<k]), time: Self.t)
                if k < 2 {
                    #expect(r == .failure(.noType(available: k)), "\(name) at \(k)")
                } else if k < length {
                    #expect(r == .failure(.cutShort(event: full.kindName, needed: length, available: k)), "\(name) at \(k)")
                } else {
                    #expect(r == .success(full), "\(name) cut at \(k)")
                }
            }
            // Ring-buffer records are padded to 4 bytes: bytes past the last field are ignored.
            #expect(try decoder.decode(bytes + [0xAA, 0xBB, 0xCC], time: Self.t).get() == full, "\(name)")
        }
    }

    @Test("every bit flip of a record: past common_type, still an event; in it, another event or none")
    func bitFlips() {
        for (name, bytes, decoder) in Self.samples() {
            var otherEvent = 0
            for i in 0..<bytes.count {
                for bit in 0..<8 {
                    var b = bytes
                    b[i] ^= 1 << bit
                    let r = decoder.decode(b, time: Self.t)
                    if i < 2 {
                        // common_type: another id, which the decoder may know (2287 ^ 1 = 2286).
                        if case .failure(.unknownEventID) = r { otherEvent += 1 }
                        else if case .failure(.cutShort) = r { otherEvent += 1 }
                        else if case .success(let e) = r, e.kind != (try? decoder.decode(bytes, time: Self.t).get())?.kind { otherEvent += 1 }
                        else { Issue.record("\(name) bit \(i).\(bit) of common_type: \(r)") }
                    } else if case .failure(let e) = r {
                        Issue.record("\(name) bit \(i).\(bit): \(e)")
                    }
                }
            }
            #expect(otherEvent == 16, "\(name)")
        }
    }
}

extension KernelEvent {
    /// The tracepoint's name, for comparing errors.
    var kindName: String {
        switch kind {
        case .sendReset: return "tcp_send_reset"
        case .receiveReset: return "tcp_receive_reset"
        case .stateChange: return "inet_sock_set_state"
        case .errorReport: return "inet_sk_error_report"
        }
    }
}
