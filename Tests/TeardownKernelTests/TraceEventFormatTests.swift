import Testing
@testable import TeardownKernel

@Suite("TraceEventFormat: this machine's format files, and an older layout")
struct TraceEventFormatTests {
    @Test("6.18 tcp_send_reset: sockaddr arrays, reason with the kernel's names")
    func sendReset618() {
        let f = KernelFixtures.format("6.18-tcp_send_reset")
        #expect(f.name == "tcp_send_reset")
        #expect(f.id == 2280)
        #expect(f.fields.map(\.name) == ["common_type", "common_flags", "common_preempt_count", "common_pid",
                                         "skbaddr", "skaddr", "state", "reason", "saddr", "daddr"])
        #expect(f.field("skaddr") == TraceField(type: "const void *", name: "skaddr", offset: 16, size: 8, isSigned: false))
        #expect(f.field("state") == TraceField(type: "int", name: "state", offset: 24, size: 4, isSigned: true))
        #expect(f.field("reason") == TraceField(type: "enum sk_rst_reason", name: "reason", offset: 28, size: 4, isSigned: false))
        #expect(f.field("saddr") == TraceField(type: "__u8", name: "saddr", arrayCount: 28, offset: 32, size: 28, isSigned: false))
        #expect(f.field("daddr")?.offset == 60)
        // The reason list, as this kernel numbers it: 26 values, 0 to 25.
        #expect(f.symbols["reason"]?.count == 26)
        #expect(f.symbol(11, of: "reason") == "TCP_ABORT_ON_CLOSE")
        #expect(f.symbol(14, of: "reason") == "TCP_STATE")
        #expect(f.symbol(26, of: "reason") == nil)
        // The state list names its values by identifier (TCP_ESTABLISHED), not by number: none kept.
        #expect(f.symbols["state"]?.isEmpty == true)
    }

    @Test("6.18 inet_sock_set_state: numbered state lists, family and protocol")
    func setState618() {
        let f = KernelFixtures.format("6.18-inet_sock_set_state")
        #expect(f.id == 2287)
        #expect(f.field("saddr_v6") == TraceField(type: "__u8", name: "saddr_v6", arrayCount: 16, offset: 40, size: 16, isSigned: false))
        #expect(f.symbol(11, of: "newstate") == "TCP_CLOSING")
        #expect(f.symbol(262, of: "protocol") == "IPPROTO_MPTCP")
        #expect(f.symbol(10, of: "family") == "AF_INET6")
    }

    @Test("the kernel's reason names agree with the fallback table on this kernel")
    func fallbackMatchesKernel() {
        let f = KernelFixtures.format("6.18-tcp_send_reset")
        let kernel = f.symbols["reason"]?.map(\.name) ?? []
        #expect(kernel == RSTReason.fallbackNames)
        #expect(f.symbols["reason"]?.map(\.value) == (0..<26).map(Int64.init))
    }

    @Test("6.9 tcp_send_reset (hand-written): ports and split addresses, no reason")
    func sendReset69() {
        let f = KernelFixtures.format("6.9-tcp_send_reset")
        #expect(f.field("reason") == nil)
        #expect(f.field("sport")?.offset == 28)
        #expect(f.field("daddr_v6")?.offset == 58)
        #expect(f.symbols["family"]?.count == 2)
    }

    @Test("lines that are not a format file give errors naming what is wrong")
    func errors() {
        #expect(TraceEventFormat.parse("") == .failure(.missing("name")))
        #expect(TraceEventFormat.parse("name: x\nformat:\n") == .failure(.missing("ID")))
        #expect(TraceEventFormat.parse("name: x\nID: 3\n") == .failure(.missing("format")))
        #expect(TraceEventFormat.parse("name: x\nID: 70000\nformat:\n") == .failure(.badID("70000")))
        #expect(TraceEventFormat.parse("name: x\nID: 3\nformat:\n\tfield:int a;\toffset:x;\tsize:4;\tsigned:1;\n")
            == .failure(.badField(line: 4, text: "field:int a;\toffset:x;\tsize:4;\tsigned:1;")))
        #expect(TraceEventFormat.parse("name: x\nID: 3\nformat:\n\tfield:int a;\toffset:0;\tsize:4;\tsigned:2;\n")
            == .failure(.badField(line: 4, text: "field:int a;\toffset:0;\tsize:4;\tsigned:2;")))
        #expect(TraceEventFormat.parse("name: x\nID: 3\nformat:\n\tfield:a;\toffset:0;\tsize:4;\tsigned:1;\n")
            == .failure(.badField(line: 4, text: "field:a;\toffset:0;\tsize:4;\tsigned:1;")))
        #expect(TraceEventFormat.parse("name: x\nID: 3\nformat:\n\tfield:int a[9;\toffset:0;\tsize:4;\tsigned:1;\n")
            == .failure(.badField(line: 4, text: "field:int a[9;\toffset:0;\tsize:4;\tsigned:1;")))
    }

    @Test("__print_symbolic: hex and negative values, names without a number skipped, a broken list ends")
    func symbolic() {
        let s = TraceEventFormat.parseSymbolic(#" "%s %s", __print_symbolic(REC->a, { 0x10, "SIXTEEN" }, { -1, "MINUS" }, { X, "X" }, { 3, "THREE" }), __print_symbolic(REC->b, { 1, "ONE" }, { 2 "BROKEN" }, { 3, "LOST" })"#)
        #expect(s["a"]?.map(\.value) == [16, -1, 3])
        #expect(s["a"]?.map(\.name) == ["SIXTEEN", "MINUS", "THREE"])
        #expect(s["b"]?.map(\.name) == ["ONE"])
    }

    @Test("every prefix of every fixture parses or fails without trapping", arguments: KernelFixtures.names)
    func prefixes(_ name: String) {
        let bytes = Array(KernelFixtures.text(name).utf8)
        var successes = 0
        for k in 0...bytes.count {
            if case .success = TraceEventFormat.parse(String(decoding: bytes[..<k], as: UTF8.self)) { successes += 1 }
        }
        // From just after "format:\n" on, every prefix is a format (a cut field line is an error).
        #expect(successes > 0)
        if case .success = TraceEventFormat.parse(String(decoding: bytes, as: UTF8.self)) {} else {
            Issue.record("\(name) whole does not parse")
        }
    }

    /// One bit of each byte (the bit turns with the byte's position): all eight would take
    /// minutes in a debug build; the fuzz target flips the rest.
    @Test("a bit flip in every byte of a fixture parses or fails without trapping", arguments: KernelFixtures.names)
    func bitFlips(_ name: String) {
        let bytes = Array(KernelFixtures.text(name).utf8)
        var changed = 0
        let original = KernelFixtures.format(name)
        for i in 0..<bytes.count {
            do {
                let bit = i % 8
                var b = bytes
                b[i] ^= 1 << bit
                if case .success(let f) = TraceEventFormat.parse(String(decoding: b, as: UTF8.self)), f != original { changed += 1 }
            }
        }
        #expect(changed > 0)
    }
}
