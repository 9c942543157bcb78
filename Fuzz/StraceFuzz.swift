// The strace reader under the fuzzer (FuzzTarget.swift, bit 6 of byte 1): the bytes after the two
// framing bytes are strace's output, read by StraceReader as `teardown trace` reads its file;
// each call it makes is rendered as a line of NAME.events.jsonl and read back as replay reads
// one is not (that needs Foundation): the calls are attached to a connection of their own
// 4-tuples through CallCorrelation, as replay attaches a sidecar's.
//
// Seeds: Tests/TeardownStraceTests/Fixtures/*.strace (scripts/fuzz-corpus.py).

import TeardownModel
import TeardownRender
import TeardownStrace
import TeardownWire

enum StraceFuzz {
    static func run(_ data: UnsafeRawBufferPointer) -> Int {
        let reader = StraceReader.read(data.dropFirst(2))
        var sink = reader.unreadLines &+ reader.unfinishedCalls &+ reader.ends.count
        for call in reader.calls { sink &+= JSONLinesRenderer.render(call).utf8.count }
        sink &+= CallCorrelation.attach(reader.calls, to: []).count
        return sink
    }
}
