import TeardownWire

/// What a tracefs session recorded.
public struct KernelRecording: Sendable {
    /// The events decoded, in the order read, their times moved to the packet clock
    /// (CLOCK_REALTIME) by `offsetNanoseconds`.
    public var events: [KernelEvent]
    /// tcp_send_reset was read with the layout of Linux 6.10 and later (`saddr` a sockaddr,
    /// `reason` present), which traces every RST the host sends.
    public var tracesEveryReset: Bool
    /// The trace clock (`mono`: CLOCK_MONOTONIC) and CLOCK_REALTIME − that clock, measured when
    /// the session began, with half the width of the tightest bracket of clock reads around it.
    public var clock: String
    public var offsetNanoseconds: Int64
    public var offsetUncertaintyNanoseconds: Int64
    /// The same difference measured at the end, less the one at the start: how far the realtime
    /// clock was stepped or slewed during the session.
    public var driftNanoseconds: Int64
    /// Pages the kernel marked as following lost events (its buffer was full).
    public var pagesAfterLoss: Int
    /// Records or pages that could not be read, worded by the caller.
    public var recordErrors: [KernelRecordError]
    public var pageErrors: [TracePageError]
    /// The events the kernel does not offer or whose format teardown cannot read.
    public var missing: [String]
    public var layoutErrors: [KernelLayoutError]
    public var formatErrors: [(file: String, error: TraceFormatError)]
    /// Why the tracefs instance could not be removed at the end (nil when it was): the next
    /// session run as root removes it.
    public var instanceLeft: String?

    public init(events: [KernelEvent], tracesEveryReset: Bool, clock: String, offsetNanoseconds: Int64,
                offsetUncertaintyNanoseconds: Int64, driftNanoseconds: Int64, pagesAfterLoss: Int,
                recordErrors: [KernelRecordError], pageErrors: [TracePageError], missing: [String],
                layoutErrors: [KernelLayoutError], formatErrors: [(file: String, error: TraceFormatError)]) {
        self.events = events; self.tracesEveryReset = tracesEveryReset; self.clock = clock
        self.offsetNanoseconds = offsetNanoseconds; self.offsetUncertaintyNanoseconds = offsetUncertaintyNanoseconds
        self.driftNanoseconds = driftNanoseconds; self.pagesAfterLoss = pagesAfterLoss
        self.recordErrors = recordErrors; self.pageErrors = pageErrors; self.missing = missing
        self.layoutErrors = layoutErrors; self.formatErrors = formatErrors
    }
}

