import CPcap
import TeardownWire
#if canImport(Glibc)
import Glibc
#endif

/// Settings for a live capture (pcap(3PCAP): pcap_create, pcap_set_*, pcap_activate).
public struct LiveOptions: Sendable {
    public var snapshotLength: Int32 = 262_144
    /// Kernel buffer size in bytes (pcap_set_buffer_size).
    public var bufferSize: Int32 = 8 << 20
    /// Deliver packets as they arrive instead of batching (pcap_set_immediate_mode).
    public var immediate = true
    public var promiscuous = false
    /// How long a read waits for a packet before the idle callback runs (milliseconds); also
    /// bounds how long a stop request waits.
    public var timeoutMilliseconds: Int32 = 100
    public init() {}
}

/// Kernel packet counters (pcap_stats).
public struct CaptureStatistics: Sendable, Equatable {
    public var received: UInt32
    public var dropped: UInt32
    public var droppedByInterface: UInt32
}

extension PacketSource {
    /// Opens `interface` for live capture. Warnings from pcap_activate go to `warn`.
    ///
    /// Errors are explained in words a user can act on; a missing privilege names the two fixes
    /// (run with sudo, or grant the capabilities with setcap).
    public static func openLive(interface: String, options: LiveOptions = LiveOptions(), filter: String? = nil,
                                warn: (String) -> Void = { _ in }) throws -> PacketSource {
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        guard let h = pcap_create(interface, &errbuf) else {
            throw CaptureError(.open, source: interface, message: errbuf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        }
        func check(_ rc: Int32, _ what: String) throws {
            if rc != 0 {
                let msg = String(cString: pcap_geterr(h))
                pcap_close(h)
                throw CaptureError(.open, source: interface, message: "\(what): \(msg)")
            }
        }
        try check(pcap_set_snaplen(h, options.snapshotLength), "cannot set the snapshot length")
        try check(pcap_set_promisc(h, options.promiscuous ? 1 : 0), "cannot set promiscuous mode")
        try check(pcap_set_timeout(h, options.timeoutMilliseconds), "cannot set the read timeout")
        try check(pcap_set_buffer_size(h, options.bufferSize), "cannot set the buffer size")
        if options.immediate { try check(pcap_set_immediate_mode(h, 1), "cannot set immediate mode") }
        // Nanosecond timestamps when the device offers them; microseconds otherwise.
        let nano = pcap_set_tstamp_precision(h, Int32(PCAP_TSTAMP_PRECISION_NANO)) == 0
        let rc = pcap_activate(h)
        if rc < 0 {
            let detail = String(cString: pcap_geterr(h))
            let status = String(cString: pcap_statustostr(rc))
            pcap_close(h)
            switch rc {
            case PCAP_ERROR_PERM_DENIED:
                throw CaptureError(.permission, source: interface, message:
                    "no permission to capture (\(detail.isEmpty ? status : detail)). Run with sudo, or grant the "
                    + "capabilities once: sudo setcap cap_net_raw,cap_net_admin=eip \"$(command -v teardown)\"")
            case PCAP_ERROR_NO_SUCH_DEVICE:
                throw CaptureError(.open, source: interface, message: "no such interface (`ip link` lists them)")
            case PCAP_ERROR_IFACE_NOT_UP:
                throw CaptureError(.open, source: interface, message: "the interface is down (`ip link set \(interface) up`)")
            default:
                throw CaptureError(.open, source: interface, message: detail.isEmpty ? status : "\(status): \(detail)")
            }
        } else if rc > 0 {
            warn("\(interface): \(String(cString: pcap_statustostr(rc))): \(String(cString: pcap_geterr(h)))")
        }
        let source = PacketSource(handle: h, name: interface, isLive: true,
                                  nanosecondPrecision: nano && pcap_get_tstamp_precision(h) == Int32(PCAP_TSTAMP_PRECISION_NANO))
        source.idleMilliseconds = max(1, options.timeoutMilliseconds)
        if let filter, !filter.isEmpty { try source.setFilter(filter) }
        return source
    }

    /// Packets received and dropped so far (live captures only; nil for files).
    public func statistics() -> CaptureStatistics? {
        guard isLive else { return nil }
        var st = pcap_stat()
        guard pcap_stats(handle, &st) == 0 else { return nil }
        return CaptureStatistics(received: st.ps_recv, dropped: st.ps_drop, droppedByInterface: st.ps_ifdrop)
    }
}

/// Writes packets to a pcap file as they arrive (pcap_dump_open), flushing after every packet
/// so the file is valid at any moment, even if the program is killed.
public final class PcapWriter {
    private let dumper: OpaquePointer
    private let dead: OpaquePointer?
    public let path: String

    /// Opens `path` for writing packets of `source`'s link type and precision.
    public init(path: String, source: PacketSource) throws {
        guard let d = pcap_dump_open(source.handle, path) else {
            throw CaptureError(.write, source: path, message: "cannot write: \(String(cString: pcap_geterr(source.handle)))")
        }
        dumper = d
        dead = nil
        self.path = path
    }

    /// Opens `path` for packets of `linkType` with nanosecond timestamps (no live handle needed).
    public init(path: String, linkType: LinkType, snapshotLength: Int32 = 262_144) throws {
        guard let p = pcap_open_dead_with_tstamp_precision(linkType.rawValue, snapshotLength, UInt32(PCAP_TSTAMP_PRECISION_NANO)) else {
            throw CaptureError(.write, source: path, message: "cannot create a pcap handle for writing")
        }
        guard let d = pcap_dump_open(p, path) else {
            let msg = String(cString: pcap_geterr(p))
            pcap_close(p)
            throw CaptureError(.write, source: path, message: "cannot write: \(msg)")
        }
        dumper = d
        dead = p
        self.path = path
    }

    /// Appends one packet. `time` is written at the file's precision.
    public func write(_ packet: CapturedPacket, nanosecondPrecision: Bool = true) {
        var hdr = pcap_pkthdr()
        hdr.ts.tv_sec = Int(packet.time.nanoseconds / 1_000_000_000)
        let frac = packet.time.nanoseconds % 1_000_000_000
        hdr.ts.tv_usec = Int(nanosecondPrecision ? frac : frac / 1000)
        hdr.caplen = UInt32(packet.bytes.count)
        hdr.len = UInt32(packet.originalLength)
        guard let base = packet.bytes.baseAddress else { return }
        withUnsafePointer(to: &hdr) { h in
            pcap_dump(UnsafeMutableRawPointer(dumper).assumingMemoryBound(to: UInt8.self), h,
                      base.assumingMemoryBound(to: UInt8.self))
        }
    }

    /// Pushes buffered packets to the file (pcap_dump_flush).
    public func flush() { _ = pcap_dump_flush(dumper) }

    public func close() {
        flush()
    }

    deinit {
        pcap_dump_close(dumper)
        if let dead { pcap_close(dead) }
    }
}
