import Testing
import TeardownKernel
import TeardownWire
@testable import TeardownRender

@Suite("KernelWording: the kernel's reasons and errors in words")
struct KernelWordingTests {
    @Test("every reason the fallback table names has words, but MAX (a bound, never sent)")
    func everyReasonWorded() {
        for (value, name) in RSTReason.fallbackNames.enumerated() where name != "MAX" {
            #expect(KernelWording.reason(RSTReason(rawValue: UInt32(value), name: name)) != nil, "\(name)")
        }
        #expect(KernelWording.reason(RSTReason(rawValue: 25, name: "MAX")) == nil)
    }

    @Test("a phrase: words and the kernel's name; the name alone; the number alone")
    func phrases() {
        #expect(KernelWording.reasonPhrase(RSTReason(rawValue: 11, name: "TCP_ABORT_ON_CLOSE"))
            == "close() with unread data (TCP_ABORT_ON_CLOSE)")
        #expect(KernelWording.reasonPhrase(RSTReason(rawValue: 14, name: "TCP_STATE"))
            == "the socket was aborted (SO_LINGER {1, 0}, or a disconnect) (TCP_STATE)")
        #expect(KernelWording.reasonPhrase(RSTReason(rawValue: 30, name: "TCP_SOMETHING_NEW")) == "TCP_SOMETHING_NEW")
        #expect(KernelWording.reasonPhrase(RSTReason(rawValue: 30, name: nil)) == "reason 30")
    }

    @Test("errors say what is wrong and where")
    func errors() {
        #expect(KernelWording.recordError(.cutShort(event: "tcp_send_reset", needed: 88, available: 40))
            == "a kernel tcp_send_reset record cut short: 40 of 88 bytes")
        #expect(KernelWording.recordError(.unknownEventID(7)) == "a kernel trace record of event id 7, which no format read names")
        #expect(KernelWording.layoutError(.fieldSize(event: "tcp_send_reset", field: "saddr", size: 32))
            == "the kernel's tcp_send_reset has a field 'saddr' of 32 bytes: a layout teardown does not know; its events are left out")
        #expect(KernelWording.formatError(.badField(line: 9, text: "field:int x"), file: "events/tcp/tcp_send_reset/format")
            == "events/tcp/tcp_send_reset/format, line 9: cannot read the field 'field:int x'")
    }
}

@Suite("KernelWording: the kernel lane's rows and what went wrong recording it")
struct KernelLaneWordingTests {
    @Test("rows: state changes in RFC 9293's names, resets, the errno")
    func rows() {
        func event(_ kind: KernelEvent.Kind) -> KernelEvent {
            KernelEvent(time: Timestamp(nanoseconds: 0), pid: 0, kind: kind, socket: nil, source: nil, destination: nil)
        }
        #expect(KernelWording.row(event(.stateChange(from: .finWait2, to: .close, protocol: 6))) == "kernel: FIN-WAIT-2 → CLOSED")
        #expect(KernelWording.row(event(.stateChange(from: .listen, to: .newSynRecv, protocol: nil))) == "kernel: LISTEN → NEW-SYN-RECV")
        #expect(KernelWording.row(event(.stateChange(from: KernelTCPState(rawValue: 42), to: .synRecv, protocol: nil)))
            == "kernel: state 42 → SYN-RECEIVED")
        #expect(KernelWording.row(event(.sendReset(state: nil, reason: RSTReason(rawValue: 1, name: "NO_SOCKET")))) == "kernel: RST sent (NO_SOCKET)")
        #expect(KernelWording.row(event(.sendReset(state: .established, reason: nil))) == "kernel: RST sent")
        #expect(KernelWording.row(event(.receiveReset)) == "kernel: RST accepted")
        #expect(KernelWording.row(event(.errorReport(errno: 104, protocol: 6))) == "kernel: ECONNRESET to the application")
        #expect(KernelWording.row(event(.errorReport(errno: 5, protocol: 6))) == "kernel: errno 5 to the application")
    }

    @Test("a recording's problems, one line each; none for a clean one")
    func problems() {
        var r = KernelRecording(events: [], tracesEveryReset: true, clock: "mono", offsetNanoseconds: 0,
                                offsetUncertaintyNanoseconds: 30, driftNanoseconds: 5, pagesAfterLoss: 0, recordErrors: [],
                                pageErrors: [], missing: [], layoutErrors: [], formatErrors: [])
        #expect(KernelWording.problems(r).isEmpty)
        r.missing = ["tcp:tcp_receive_reset"]
        r.layoutErrors = [.missingField(event: "tcp_send_reset", field: "saddr")]
        r.formatErrors = [("/x/format", .missing("ID"))]
        r.pagesAfterLoss = 2
        r.recordErrors = [.unknownEventID(9), .noType(available: 1)]
        r.pageErrors = [.cutShort(offset: 40)]
        r.driftNanoseconds = -2_000_000
        #expect(KernelWording.problems(r) == [
            "kernel lane: this kernel has no tcp:tcp_receive_reset; its events are left out",
            "kernel lane: /x/format: no 'ID:' line; not a tracepoint format file",
            "kernel lane: the kernel's tcp_send_reset has no field 'saddr': a layout teardown does not know; its events are left out",
            "kernel lane: the kernel lost events before 2 pages (its buffer was full)",
            "kernel lane: 2 records not read, the first: a kernel trace record of event id 9, which no format read names",
            "kernel lane: 1 page not read to the end, the first: a ring-buffer page whose event at byte 40 runs past its data",
            "kernel lane: the realtime clock moved by -2000000 ns during the recording; kernel times may be off by as much",
        ])
    }
}
