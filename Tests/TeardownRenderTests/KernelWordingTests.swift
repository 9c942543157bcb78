import Testing
import TeardownKernel
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
