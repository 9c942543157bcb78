import TeardownCapture
import TeardownModel
import TeardownRender
import TeardownSpeed
import TeardownWire

/// `teardown replay --format zeek|zeek-json`: Zeek's conn.log for the TCP connections of the
/// captures, drawn with Zeek's boundaries, timers and roles (`ZeekConnTracker`), beside
/// teardown's own view rather than in place of it.
///
/// Each file is read on the calling thread, packet by packet, every packet moving Zeek's clock;
/// files follow one another, each with a tracker of its own, under one header.
public enum ZeekPipeline {
    /// Replays `files` in order to standard output (or `output`); returns false when a file
    /// could not be read.
    public static func replay(_ files: [String], filter: String?, json: Bool, bounds: TrackerBounds = TrackerBounds(),
                              output: String? = nil) -> Bool {
        OutputWriter.ignoreSIGPIPE()
        guard let out = OutputWriter.open(output) else { return false }
        var log = LogState(json: json)
        var failed = false
        var matchedNothing = true
        for path in files {
            if !run(path: path, filter: filter, bounds: bounds, out: out, log: &log, matchedNothing: &matchedNothing) { failed = true }
        }
        if !failed && matchedNothing { TrackingStage.reportNoMatch(filter: filter, files: files) }
        log.finish(out)
        out.flush()
        return !failed
    }

    /// The header written once, before the first line, and the times it is stamped with.
    struct LogState {
        let json: Bool
        var headerWritten = false
        var first: Timestamp?
        var last: Timestamp?

        /// `#open` is the first packet's time, `#close` the latest (not the last packet's when
        /// the capture's clock went back).
        mutating func note(_ t: Timestamp) {
            if first == nil { first = t }
            if last == nil || last! < t { last = t }
        }

        mutating func write(_ r: ZeekConnRecord, to out: OutputWriter) {
            header(out)
            out.render { c in json ? ZeekConnLog.writeJSON(r, to: &c) : ZeekConnLog.writeTSV(r, to: &c) }
        }

        mutating func header(_ out: OutputWriter) {
            guard !json, !headerWritten else { return }
            headerWritten = true
            let open = first
            out.render { ZeekConnLog.writeHeader(open: open, to: &$0) }
        }

        mutating func finish(_ out: OutputWriter) {
            guard !json else { return }
            header(out)
            let close = last
            out.render { ZeekConnLog.writeClose(close, to: &$0) }
        }
    }

    static func run(path: String, filter: String?, bounds: TrackerBounds, out: OutputWriter, log: inout LogState,
                    matchedNothing: inout Bool) -> Bool {
        let source: PacketSource
        do {
            source = try PacketSource.openFile(path, filter: filter)
        } catch {
            Diagnostics.error("\(error)")
            return false
        }
        let linkType = source.linkType
        let label = path == "-" ? "<stdin>" : path
        guard linkType.isSupported || source.linkTypeMayChange else {
            Diagnostics.error("\(label): link type \(linkType) (\(linkType.rawValue)) is not supported")
            return false
        }
        var tracker = ZeekConnTracker(maxConnections: bounds.maxConnections)
        var counts = PacketCounts()
        var packet = DecodedPacket.empty
        let noHash = NoFlowHash()
        var reassembler = FragmentReassembler()
        var tunnel = TunnelPath()
        var readError: Error?
        do {
            try source.read { captured in
                log.note(captured.time)
                packet.decode(captured.bytes, linkType: captured.linkType, originalLength: captured.originalLength,
                              time: captured.time, number: captured.number, hasher: noHash, reassembler: &reassembler,
                              tunnel: &tunnel, tunnels: nil)
                withUnsafePointer(to: &packet) { counts.add(UnsafeBufferPointer(start: $0, count: 1), naming: label) }
                if case .tcp = packet.status {
                    tracker.process(packet.segment, time: captured.time) { log.write($0, to: out) }
                } else {
                    tracker.advance(to: captured.time) { log.write($0, to: out) }
                }
                return true
            }
        } catch {
            readError = error
        }
        tracker.finish { log.write($0, to: out) }
        reassembler.finish()
        if !TrackingStage.reportEnd(readError, counts: counts, label: label, filter: filter) { return false }
        if readError != nil || !TrackingStage.filteredToNothing(source, counts: counts) { matchedNothing = false }
        if TrackingStage.reportInterfaces(source, counts: counts, label: label) { return false }
        if tracker.evicted > 0 {
            Diagnostics.warning("\(label): \(Format.thousands(tracker.evicted)) connection\(tracker.evicted == 1 ? "" : "s") logged early "
                + "(more than \(Format.thousands(bounds.maxConnections)) open at once; see --max-connections)")
        }
        if counts.invalid > TrackingStage.shownProblems {
            Diagnostics.warning("\(label): \(counts.invalid) packets could not be decoded (the first \(TrackingStage.shownProblems) are shown above)")
        }
        TrackingStage.reportFragments(reassembler, label: label)
        TrackingStage.reportClock(counts, label: label)
        return true
    }

    /// The Zeek tracker finds connections by their endpoints; no flow hash is needed.
    struct NoFlowHash: FlowHashing {
        func flow(from source: Endpoint, to destination: Endpoint) -> FlowHash { .none }
        func flow(from source: Endpoint, to destination: Endpoint, tunnel: UInt32) -> FlowHash { .none }
    }
}
