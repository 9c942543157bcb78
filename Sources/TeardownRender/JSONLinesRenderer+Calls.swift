import TeardownModel

extension JSONLinesRenderer {
    /// One recorded socket call as a JSON object, the line format of the NAME.events.jsonl
    /// sidecar that `teardown run --save` writes and `replay` reads: keys in lexicographic
    /// order, `errno`, `local` and `remote` null when absent, `socket` left out when unknown.
    public static func render(_ call: RecordedCall) -> String {
        JSONWriter.text { write(call, to: &$0) }
    }

    /// Writes `call` as `render(_:)` does, as one value of an enclosing object or array.
    static func write(_ call: RecordedCall, to w: inout JSONWriter) {
        w.beginObject()
        w.key("actor"); w.string(call.actor)
        w.key("bytes"); w.int(call.bytes)
        w.key("call"); w.string(call.call)
        w.key("duration_ns"); w.int(call.durationNanoseconds)
        w.key("errno"); w.string(call.errno)
        w.key("fd"); w.int(call.fd)
        w.key("kind"); w.string(call.kind.rawValue)
        w.key("local"); w.string(call.local?.description)
        w.key("pid"); w.int(call.pid)
        w.key("remote"); w.string(call.remote?.description)
        w.key("result"); w.int(call.result)
        if let socket = call.socket { w.key("socket"); w.int(socket) }
        w.key("time_ns"); w.int(call.time.nanoseconds)
        w.endObject()
    }
}
