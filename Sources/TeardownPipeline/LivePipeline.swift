import TeardownCapture
import TeardownModel
import TeardownWire
#if canImport(Glibc)
import Glibc
#endif

/// `teardown live`: packets from an interface, tracked and printed as connections end.
public enum LivePipeline {
    /// What to capture and how.
    public struct Request {
        public var interface: String
        /// A BPF filter expression (pcap-filter(7)), or nil for every packet.
        public var filter: String?
        /// Also write every captured packet here (pcap), flushed as it goes.
        public var writeFile: String?
        /// Write `writeFile` again here, as pcapng with teardown's comments, once the capture ends.
        public var annotate: String?
        public var capture: LiveOptions
        /// After opening the device, switch to this user (nil: the sudo user, if any).
        public var user: String?
        /// How long a finished connection waits for late packets before it is printed.
        public var lingerNanoseconds: Int64
        public var bounds: TrackerBounds
        public var options: PrintOptions
        /// Stop after this many packets (those the filter kept), as tcpdump's -c; nil: no limit.
        public var packetLimit: Int?
        /// Stop after this long (monotonic clock, from the start of capture); nil: no limit.
        public var durationNanoseconds: Int64?
        /// tcpdump's -C, -G and -W for the -w file (`CaptureFileRing`); none: one file.
        public var rotation = FileRotation()

        public init(interface: String, filter: String?, writeFile: String?, capture: LiveOptions, user: String?,
                    lingerNanoseconds: Int64, bounds: TrackerBounds, options: PrintOptions) {
            self.interface = interface
            self.filter = filter
            self.writeFile = writeFile
            self.capture = capture
            self.user = user
            self.lingerNanoseconds = lingerNanoseconds
            self.bounds = bounds
            self.options = options
        }
    }

    /// Captures until SIGINT or SIGTERM (or the end of the capture), printing each connection
    /// when its ending is complete; then reports those still open and the packet counts.
    /// Returns the exit status: 0, 77 (EX_NOPERM, sysexits.h) without the privilege to
    /// capture, 1 for any other failure to start.
    public static func capture(_ request: Request) -> Int32 {
        OutputWriter.ignoreSIGPIPE()
        let interface = request.interface
        let source: PacketSource
        do {
            source = try PacketSource.openLive(interface: interface, options: request.capture, filter: request.filter,
                                               warn: { Diagnostics.warning($0) })
        } catch let e as CaptureError {
            Diagnostics.error("\(e)")
            return e.kind == .permission ? 77 : 1
        } catch {
            Diagnostics.error("\(error)")
            return 1
        }
        // The kernel lane is opened while still root: the tracefs instance and each CPU's
        // buffer stay readable through the descriptors after the drop.
        let dropTo = request.user ?? Privileges.defaultUser
        let lane = LiveKernelLane.start(removableAfterDrop: dropTo != nil && Privileges.isRoot)
        if let target = dropTo {
            do { try Privileges.drop(to: target) } catch {
                Diagnostics.error("\(error)")
                return 1
            }
        } else if Privileges.isRoot {
            // Not started through sudo: there is no invoking user to switch to, so say that
            // packets are parsed as root rather than keeping it silently.
            Diagnostics.info("teardown: staying root (not started through sudo); -Z USER switches to USER once the device is open")
        }
        var writer: CaptureFileRing?
        if let path = request.writeFile {
            do { writer = try CaptureFileRing(pattern: path, source: source, limits: request.rotation) } catch {
                Diagnostics.error("\(error)")
                return 1
            }
        }
        // Created as the user the capture runs as, before it starts (a path that cannot be
        // written is said now); written once the capture has ended, from the -w file.
        var annotation: AnnotatedCopy?
        if let path = request.annotate, let input = request.writeFile {
            guard let copy = ReplayPipeline.openAnnotation(path, input: input) else { return 1 }
            annotation = copy
        }
        if let path = request.writeFile {
            if request.rotation.rotates {
                // One kernel sidecar cannot be split along the files yet: none is written.
                if lane != nil { Diagnostics.warning("the kernel's events are shown but not saved with -C or -G (no sidecar per file)") }
            } else if let lane { lane.writeSidecar(beside: path) } else { LiveKernelLane.removeStaleSidecar(beside: path) }
        }
        StopSignals.install(for: source)
        let linkType = source.linkType
        guard linkType.isSupported else {
            Diagnostics.error("\(interface): link type \(linkType) (\(linkType.rawValue)) is not supported")
            return 1
        }
        Diagnostics.info("teardown: capturing on \(interface), link type \(linkType)\(lane != nil ? ", with the kernel's events" : "")"
            + "\(getuid() == 0 ? "" : ", running as uid \(getuid())"); Ctrl-C to stop")

        guard let out = OutputWriter.open(request.options.output) else { return 1 }
        let printer = RecordPrinter(options: request.options, writer: out, labelFiles: false)
        printer.begin()
        var stage = TrackingStage(configuration: request.bounds.configuration(for: request.options,
                                                                              lingerNanoseconds: request.lingerNanoseconds),
                                  label: interface, showsProblems: false)
        let print: (ConnectionRecord) -> Void = { record in
            printer.print(record, source: interface)
            printer.flush()
        }
        // With the kernel lane, the connections a packet (or a wake-up) finished wait until it
        // is processed: a newer connection on the same 4-tuple is then in the tracker, and the
        // events from its start on are left to it.
        var held: [ConnectionRecord] = []
        let emit: (ConnectionRecord) -> Void = lane == nil ? print : { held.append($0) }
        let printHeld = {
            guard let lane, !held.isEmpty else { return }
            for record in lane.attach(held, tracker: stage.tracker) { print(record) }
            held.removeAll()
        }
        let nano = source.nanosecondPrecision
        let tunnels = stage.tunnels
        // -c and --duration: the capture ends by itself after that many packets or that long
        // (on CLOCK_MONOTONIC: a step of the wall clock does not shorten or stretch it).
        let deadline = request.durationNanoseconds.map { SystemClock.monotonic() &+ $0 }
        var packets = 0
        var stoppedBy: String?
        var writeFailed = false
        do {
            try source.read(idle: {
                let now = PacketClock.now().nanoseconds
                stage.tracker.expire(before: now, emit: emit)
                lane?.idle(now: now, tracker: stage.tracker)
                printHeld()
                if let deadline, SystemClock.monotonic() >= deadline {
                    stoppedBy = Self.durationWords(request.durationNanoseconds!)
                    source.stop()
                }
            }) { packet in
                if let writer {
                    do {
                        if case .filesComplete(let n) = try writer.write(packet, nanosecondPrecision: nano) {
                            stoppedBy = "\(n) files (-G, -W)"
                            return false
                        }
                    } catch {
                        Diagnostics.error("\(error)")
                        writeFailed = true
                        return false
                    }
                    writer.flush()
                }
                stage.feed(packet) { emit(tunnels.named($0.record())) }
                if let lane {
                    lane.packetSeen(at: packet.time.nanoseconds, tracker: stage.tracker)
                    printHeld()
                }
                packets += 1
                if let limit = request.packetLimit, packets >= limit {
                    stoppedBy = "\(packets) packet\(packets == 1 ? "" : "s") (-c)"
                    return false
                }
                if let deadline, SystemClock.monotonic() >= deadline {
                    stoppedBy = Self.durationWords(request.durationNanoseconds!)
                    return false
                }
                return true
            }
        } catch {
            Diagnostics.error("\(error)")
        }
        if let stoppedBy { Diagnostics.info("teardown: stopped after \(stoppedBy)") }
        writer?.close()
        let recording = lane?.stop()
        let open = stage.tracker.unfinishedConnections
        stage.finish { emit(tunnels.named($0.record())) }
        printHeld()
        if let lane, let recording { lane.finish(recording) }
        printer.finish()
        printer.flush()
        printer.reportNothingSelected()
        TrackerBounds.report(stage.tracker, label: interface)
        stage.reportFragments()
        if let st = source.statistics() {
            Diagnostics.info("teardown: \(source.packetCount) packets captured, \(st.received) received by filter, "
                + "\(st.dropped) dropped by kernel\(st.droppedByInterface > 0 ? ", \(st.droppedByInterface) dropped by interface" : "")"
                + (open > 0 ? "; \(open) connection\(open == 1 ? " was" : "s were") still open" : ""))
        }
        if let annotation, let input = request.writeFile {
            if !ReplayPipeline.annotate(input, into: annotation, bounds: request.bounds) { return 1 }
        }
        return writeFailed ? 1 : 0
    }

    /// "2.5 s (--duration)".
    static func durationWords(_ nanoseconds: Int64) -> String {
        var seconds = String(Double(nanoseconds) / 1e9)
        if seconds.hasSuffix(".0") { seconds.removeLast(2) }
        return "\(seconds) s (--duration)"
    }
}
