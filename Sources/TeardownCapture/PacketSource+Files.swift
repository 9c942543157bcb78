import CCaptureStream
import CPcap
import TeardownCaptureFile
import TeardownWire
#if canImport(Glibc)
import Glibc
#endif

/// What the packets of one link type in a pcapng file came to (one report per link type, so
/// that a file describing many interfaces cannot make the list long).
public struct InterfaceReport: Sendable, Equatable {
    public var linkType: LinkType
    /// The first interface described with it: its section (1 for the first) and index there.
    public var section: Int
    public var index: Int
    /// Packets handed on (those the filter kept, when there is one).
    public var packets = 0
    /// Packets left out because the filter does not apply to this link type.
    public var leftOut = 0
    /// Why the filter does not apply (libpcap's words), if it does not.
    public var filterError: String?

    /// `interface 1` in a file of one section, `section 2 interface 0` otherwise.
    public var interfaceName: String { section > 1 ? "section \(section) interface \(index)" : "interface \(index)" }
}

/// A pcapng file read by teardown's reader, its filter compiled per link type as libpcap
/// would compile it for a file of that link type (`pcap_open_dead`, `pcap_compile`), applied
/// with `pcap_offline_filter`.
final class PcapngFile {
    let reader: PcapngReader
    private let filter: String?
    private(set) var reports: [InterfaceReport] = []
    private var reportOfLinkType: [LinkType: Int] = [:]
    /// The compiled filter of each link type met (nil: it does not compile for it).
    private var programs: [LinkType: FilterProgram] = [:]
    /// For each interface of the current section: its report, and its link type's program.
    private var slots: [(report: Int, program: FilterProgram?)] = []
    private var section = 0

    /// The snapshot length libpcap is told for `interface` (0 means no limit in pcapng).
    static func snapLength(_ interface: PcapngReader.Interface?) -> Int {
        guard let s = interface?.snapLength, s > 0 else { return PcapngReader.maximumCapturedLength }
        return s
    }

    /// Reads `reader`'s headers; a filter that does not compile for the first interface's link
    /// type (Ethernet when the file describes none before its first packet) is refused now,
    /// as libpcap refuses it when a file is opened.
    /// Without `readingHeaders` (a copier, which reads every block itself) nothing is read yet.
    init(_ reader: PcapngReader, filter: String?, source: String, readingHeaders: Bool = true) throws {
        self.reader = reader
        self.filter = filter.flatMap { $0.isEmpty ? nil : $0 }
        if readingHeaders { try reader.readHeaders() }
        if let expression = self.filter {
            let linkType = reader.interfaces.first?.linkType ?? .ethernet
            let program = FilterProgram(expression, linkType: linkType)
            if let error = program.error {
                throw CaptureError(.filter, source: source, message: "bad filter '\(expression)': \(error)")
            }
            programs[linkType] = program
        }
    }

    /// Whether `packet` is handed on (the filter keeps it, or there is none); counts it.
    @inline(__always)
    func accepts(_ packet: PcapngReader.Packet) -> Bool {
        if reader.sections != section || packet.interface >= slots.count { describeInterfaces() }
        let slot = slots[packet.interface]
        guard filter != nil else {
            reports[slot.report].packets += 1
            return true
        }
        guard let program = slot.program, program.error == nil else {
            reports[slot.report].leftOut += 1
            return false
        }
        guard program.matches(packet) else { return false }
        reports[slot.report].packets += 1
        return true
    }

    /// Catches up with the interfaces the reader has described.
    private func describeInterfaces() {
        if reader.sections != section {
            section = reader.sections
            slots.removeAll(keepingCapacity: true)
        }
        for interface in reader.interfaces[slots.count...] {
            let report: Int
            if let r = reportOfLinkType[interface.linkType] {
                report = r
            } else {
                report = reports.count
                reportOfLinkType[interface.linkType] = report
                reports.append(InterfaceReport(linkType: interface.linkType, section: interface.section, index: interface.index))
            }
            var program: FilterProgram?
            if let filter {
                if let p = programs[interface.linkType] {
                    program = p
                } else {
                    program = FilterProgram(filter, linkType: interface.linkType)
                    programs[interface.linkType] = program
                }
                reports[report].filterError = program?.error
            }
            slots.append((report, program))
        }
    }
}

/// The DLT_ value libpcap uses for a file's LINKTYPE_ value (pcap-common.c `linktype_to_dlt`,
/// on Linux): the same number, except for the few link types numbered differently on
/// different systems before LINKTYPE_ values existed. A dead handle takes a DLT_ value.
func dataLinkType(_ linkType: LinkType) -> Int32 {
    switch linkType.rawValue {
    case 100: return 11   // ATM_RFC1483
    case 101: return 12   // RAW
    case 102: return 15   // SLIP_BSDOS
    case 103: return 16   // PPP_BSDOS
    case 106: return 19   // ATM_CLIP
    case let v: return v
    }
}

/// A BPF program compiled for one link type (pcap_compile on a dead handle).
final class FilterProgram {
    private var program = bpf_program()
    /// libpcap's message when the expression does not compile for this link type.
    let error: String?

    init(_ expression: String, linkType: LinkType) {
        guard let dead = pcap_open_dead_with_tstamp_precision(dataLinkType(linkType), Int32(PcapngReader.maximumCapturedLength),
                                                              UInt32(PCAP_TSTAMP_PRECISION_NANO)) else {
            error = "cannot create a pcap handle for link type \(linkType)"
            return
        }
        defer { pcap_close(dead) }
        let netmask: bpf_u_int32 = 0xffff_ffff  // PCAP_NETMASK_UNKNOWN
        error = pcap_compile(dead, &program, expression, 1, netmask) == 0 ? nil : String(cString: pcap_geterr(dead))
    }

    deinit {
        if error == nil { pcap_freecode(&program) }
    }

    @inline(__always)
    func matches(_ packet: PcapngReader.Packet) -> Bool {
        var header = pcap_pkthdr()
        header.caplen = UInt32(packet.bytes.count)
        header.len = UInt32(clamping: packet.originalLength)
        var none: UInt8 = 0
        guard let bytes = packet.bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            return pcap_offline_filter(&program, &header, &none) != 0
        }
        return pcap_offline_filter(&program, &header, bytes) != 0
    }
}

/// Bytes libpcap reads through a stdio stream (fopencookie(3)): a decompressed file, or
/// standard input or a FIFO after its first bytes were read to tell what it is. An error in
/// reading them is kept here, where the caller finds its words, since libpcap only sees EIO.
final class StreamCookie {
    let input: ByteInput
    let compression: Compression?
    fileprivate(set) var failure: CaptureFileError?

    init(_ input: ByteInput, compression: Compression?) {
        self.input = input
        self.compression = compression
    }

    /// A stream reading `input`; it holds this cookie until it is closed.
    func open() -> UnsafeMutablePointer<FILE>? {
        let cookie = Unmanaged.passRetained(self).toOpaque()
        let file = ctd_open_read_stream(cookie, { cookie, buffer, size in
            guard let cookie, let buffer else { return -1 }
            let stream = Unmanaged<StreamCookie>.fromOpaque(cookie).takeUnretainedValue()
            do {
                return try stream.input.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: size))
            } catch let e as CaptureFileError {
                stream.failure = e
            } catch {
                stream.failure = CaptureFileError(.io, "\(error)")
            }
            errno = EIO
            return -1
        }, { cookie in
            if let cookie { Unmanaged<StreamCookie>.fromOpaque(cookie).release() }
            return 0
        })
        if file == nil { Unmanaged<StreamCookie>.fromOpaque(cookie).release() }
        return file
    }

    /// What to say when libpcap failed with `message`: what went wrong with the bytes if
    /// something did (libpcap saw only EIO), else libpcap's words, said to be about the
    /// decompressed content when the file is compressed.
    func words(libpcap message: String) -> String {
        let e = failure ?? CaptureFileError(.corrupt, message)
        return compression?.words(e) ?? e.message
    }
}
