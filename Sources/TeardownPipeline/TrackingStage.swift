import TeardownCapture
import TeardownModel
import TeardownRender
import TeardownSpeed
import TeardownWire

/// What one input held: its packets by kind.
public struct PacketCounts: Sendable, Equatable {
    public var packets = 0
    public var tcp = 0
    public var notTCP = 0
    /// Fragments held for reassembly (the fragment that completes a datagram counts as what
    /// the datagram is).
    public var fragments = 0
    /// Packets that could not be decoded (cut short, contradicting themselves).
    public var invalid = 0
    /// Packets of a link type teardown does not read (in a pcapng file whose interfaces have
    /// several; `reportInterfaces` names them).
    public var unsupported = 0
    /// Packets stamped earlier than a packet before them: the capture's clock went back.
    public var stampedEarlier = 0
    /// The first of those: its number and how far before the latest time so far it is.
    public var firstClockStep: ClockStep?
    /// The latest packet time so far.
    var latest = Timestamp(nanoseconds: .min)

    /// A packet stamped `nanoseconds` before the latest time seen before it.
    public struct ClockStep: Sendable, Equatable {
        public var packetNumber: Int
        public var nanoseconds: UInt64
    }

    public init() {}

    /// Counts `batch`; with a `label`, names the first `TrackingStage.shownProblems`
    /// undecodable packets on stderr.
    mutating func add(_ batch: UnsafeBufferPointer<DecodedPacket>, naming label: String?) {
        for i in batch.indices {   // indices, not elements: no copy of each packet
            let t = batch[i].time
            if t < latest {
                stampedEarlier += 1
                if firstClockStep == nil {
                    firstClockStep = ClockStep(packetNumber: batch[i].number, nanoseconds: UInt64(bitPattern: latest.nanoseconds &- t.nanoseconds))
                }
            } else {
                latest = t
            }
            switch batch[i].status {
            case .tcp:
                tcp += 1
            case .notTCP:
                notTCP += 1
            case .fragment:
                fragments += 1
            case .unsupportedLinkType:
                unsupported += 1
            case .invalid(let e):
                invalid += 1
                if let label, invalid <= TrackingStage.shownProblems {
                    Diagnostics.warning("\(label): packet \(batch[i].number): \(e)")
                }
            }
        }
        packets += batch.count
    }
}

/// The middle of the pipeline: packets in, in capture order; connections out, to `emit`, as
/// the tracker finishes them.
///
/// Two ways in, with the same result: a batch decoded ahead on a reading thread
/// (`DecodingReader`, replay), or one captured packet at a time, decoded here (live, run).
struct TrackingStage {
    /// Per-packet problems named on stderr before they are only counted.
    static let shownProblems = 5

    var tracker: ConnectionTracker
    private(set) var counts = PacketCounts()
    /// The input's name in messages (a file, `<stdin>`, an interface).
    let label: String
    /// Whether the first `shownProblems` undecodable packets are named on stderr.
    let showsProblems: Bool
    /// The packet the single-packet path decodes into, and the tunnels it came in.
    private var scratch = DecodedPacket.empty
    private var scratchTunnel = TunnelPath()
    /// The tunnels of the input, numbered as the packets are decoded (here, or on the batched
    /// path's reading thread) and named as records are made.
    let tunnels = TunnelRegistry()
    /// The fragments of the input: reassembled here on the single-packet path; on the batched
    /// path, on the reading thread (`DecodingReader.reassembler`), and handed over by `finish`.
    private(set) var reassembler = FragmentReassembler()

    init(configuration: ConnectionTracker.Configuration, label: String, showsProblems: Bool = true) {
        tracker = ConnectionTracker(configuration: configuration)
        self.label = label
        self.showsProblems = showsProblems
    }

    /// Feeds a batch whose flows were hashed with `tracker.flowHasher`.
    mutating func feed(_ batch: PacketBatch, emit: (consuming FinishedConnection) -> Void) {
        counts.add(batch.packets, naming: showsProblems ? label : nil)
        tracker.process(batch, emit: emit)
    }

    /// Feeds one captured packet, decoded here (by its own link type).
    mutating func feed(_ packet: CapturedPacket, emit: (consuming FinishedConnection) -> Void) {
        scratch.decode(packet.bytes, linkType: packet.linkType, originalLength: packet.originalLength,
                       time: packet.time, number: packet.number, hasher: tracker.flowHasher, reassembler: &reassembler,
                       tunnel: &scratchTunnel, tunnels: tunnels)
        withUnsafePointer(to: &scratch) { p in
            let one = UnsafeBufferPointer(start: p, count: 1)
            counts.add(one, naming: showsProblems ? label : nil)
            tracker.process(PacketBatch(one), emit: emit)
        }
    }

    /// End of input: every connection still held, in order of first packet. `reassembled` is
    /// the batched path's reassembler, finished by its reader.
    mutating func finish(reassembled: FragmentReassembler? = nil, emit: (consuming FinishedConnection) -> Void) {
        if let reassembled { reassembler = reassembled } else { reassembler.finish() }
        tracker.finishHandingOver(emit)
    }

    /// The warnings owed at the end of an input: problems counted past those shown, datagrams
    /// whose fragments could not be reassembled, and an input with no TCP at all.
    func reportCounts() {
        let overflowed = tunnels.overflowed
        if overflowed > 0 {
            Diagnostics.warning("\(label): \(Format.thousands(overflowed)) packets came in tunnels past the first "
                + "\(Format.thousands(TunnelTable.maximumRoutes)) routes: their connections are keyed and named without their tunnel")
        }
        if counts.invalid > Self.shownProblems {
            Diagnostics.warning("\(label): \(counts.invalid) packets could not be decoded (the first \(Self.shownProblems) are shown above)")
        }
        reportFragments()
        Self.reportClock(counts, label: label)
        if counts.packets > 0 && counts.tcp == 0 {
            Diagnostics.warning("\(label): no TCP segments among \(counts.packets) packets")
        }
    }

    /// The lines owed for a pcapng file's interfaces (`PacketSource.interfaces`): packets of a
    /// link type teardown does not read, packets the filter could not be applied to. Returns
    /// true when every packet read was of a link type teardown does not read: the file could
    /// not be used at all, and one error says so, as for a pcap file of such a link type.
    static func reportInterfaces(_ source: PacketSource, counts: PacketCounts, label: String) -> Bool {
        let unsupported = source.interfaces.filter { !$0.linkType.isSupported && $0.packets > 0 }
        let skipped = unsupported.reduce(0) { $0 + $1.packets }
        if counts.packets > 0 && skipped == counts.packets {
            let names = unsupported.map { "\($0.linkType) (\($0.linkType.rawValue))" }.joined(separator: ", ")
            Diagnostics.error("\(label): link type\(unsupported.count == 1 ? "" : "s") \(names) \(unsupported.count == 1 ? "is" : "are") not supported; "
                + ReplayPipeline.linkTypesRead)
            return true
        }
        for r in source.interfaces {
            if r.leftOut > 0, let why = r.filterError {
                Diagnostics.warning("\(label): \(r.interfaceName) (link type \(r.linkType) (\(r.linkType.rawValue))): the filter does not "
                    + "apply to it (\(why)); \(Format.thousands(r.leftOut)) packet\(r.leftOut == 1 ? " was" : "s were") left out")
            }
            if !r.linkType.isSupported && r.packets > 0 {
                Diagnostics.warning("\(label): \(r.interfaceName): link type \(r.linkType) (\(r.linkType.rawValue)) is not supported; "
                    + "\(Format.thousands(r.packets)) packet\(r.packets == 1 ? " was" : "s were") skipped")
            }
        }
        return false
    }

    /// The line owed for how reading `label` ended, as `replay` and the Zeek view say it: a
    /// read error after packets were read is a warning (what came before it is reported); one
    /// met in the first packet record is an error, since nothing in the file could be used; a
    /// file without a filter that ends cleanly with no packet says so rather than printing
    /// nothing (with a filter, `reportNoMatch` speaks once for all the files). Returns false
    /// when the file could not be used at all.
    static func reportEnd(_ readError: Error?, counts: PacketCounts, label: String, filter: String?) -> Bool {
        if let readError {
            if let e = readError as? CaptureError, e.packetNumber == 1 {
                Diagnostics.error("\(e); no packet in the file could be read")
                return false
            }
            Diagnostics.warning("\(readError); the \(counts.packets) packets before it are reported")
        } else if counts.packets == 0 && (filter ?? "").isEmpty {
            Diagnostics.warning("\(label): the capture holds no packets")
        }
        return true
    }

    /// Whether a file read cleanly gave no packet because of the filter: none kept, and none
    /// left out because the filter does not apply to their link type (`reportInterfaces` says
    /// that).
    static func filteredToNothing(_ source: PacketSource, counts: PacketCounts) -> Bool {
        counts.packets == 0 && !source.interfaces.contains(where: { $0.leftOut > 0 })
    }

    /// One line when a filter matched no packet in any of the files (each was read, none
    /// failed): the replay would otherwise print nothing at all.
    static func reportNoMatch(filter: String?, files: [String]) {
        guard let filter, !filter.isEmpty else { return }
        if files.count == 1 {
            Diagnostics.warning("\(files[0] == "-" ? "<stdin>" : files[0]): no packet matched the filter '\(filter)'")
        } else {
            Diagnostics.warning("no packet matched the filter '\(filter)' in any of the \(files.count) files")
        }
    }

    /// One line when the capture's clock went back, naming the first packet it did at.
    static func reportClock(_ counts: PacketCounts, label: String) {
        guard let step = counts.firstClockStep else { return }
        // To the nanosecond: a step back can be shorter than the timeline's microseconds.
        let s = step.nanoseconds
        let fraction = String(s % 1_000_000_000)
        let by = "\(s / 1_000_000_000).\(String(repeating: "0", count: 9 - fraction.count))\(fraction) s"
        let others = counts.stampedEarlier > 1
            ? " (\(Format.thousands(counts.stampedEarlier)) packets are stamped earlier than a packet before them)" : ""
        Diagnostics.warning("\(label): the clock goes back at packet \(step.packetNumber), by \(by)\(others); "
            + "a connection's duration runs from its first packet to the latest time among its packets")
    }

    /// One line when fragmented datagrams were dropped rather than reassembled, saying why.
    func reportFragments() { Self.reportFragments(reassembler, label: label) }

    /// One line when `reassembler` (finished) dropped datagrams rather than reassembling them.
    static func reportFragments(_ reassembler: FragmentReassembler, label: String) {
        let f = reassembler.counts
        guard f.dropped > 0 else { return }
        var reasons: [String] = []
        func add(_ n: Int, _ what: String) { if n > 0 { reasons.append("\(Format.thousands(n)) \(what)") } }
        add(f.overlapping, "with overlapping fragments")
        add(f.invalid, "with fragments that contradict the datagram")
        add(f.timedOut, "incomplete after \(reassembler.limits.timeoutNanoseconds / 1_000_000_000) s")
        add(f.evicted, "dropped to stay within \(reassembler.limits.memory >> 20) MiB of fragments")
        add(f.incomplete, "incomplete at the end of the input")
        Diagnostics.warning("\(label): \(Format.thousands(f.dropped)) fragmented datagram\(f.dropped == 1 ? " was" : "s were") "
            + "not reassembled: " + reasons.joined(separator: ", ")
            + " (\(Format.thousands(f.reassembled)) reassembled from \(Format.thousands(f.fragments)) fragments)")
    }
}
