import CPcap
import TeardownCaptureFile
import TeardownWire
#if canImport(Glibc)
import Glibc
#endif

/// A capture file written again as pcapng with a comment on the packets teardown has
/// something to say about (`replay --annotate`): every packet read as teardown numbers it, its
/// bytes, lengths and time as they were.
///
/// A pcapng input is copied block by block in each section's byte order: its section headers,
/// interfaces (link types, snapshot lengths, `if_tsresol`, `if_tsoffset`, names: every
/// option), name resolution and statistics blocks as they are, each packet block as it is or,
/// when it has a comment, with an `opt_comment` added after the options it has (its own
/// comments are kept). A pcap input (read by libpcap) becomes one section with one interface
/// of its link type and snapshot length, and `if_tsresol` 9 when its timestamps count
/// nanoseconds, so that each time is written in the units it was read in.
public final class AnnotatedCopy {
    /// The file written.
    public let path: String
    private let descriptor: Int32
    private let writer: PcapngWriter
    private var closed = false

    /// Creates (or truncates) `path`; refuses the file `input` names, which it would destroy.
    public init(path: String, input: String) throws {
        var inputStat = stat(), outputStat = stat()
        if input != "-", stat(input, &inputStat) == 0, stat(path, &outputStat) == 0,
           inputStat.st_dev == outputStat.st_dev, inputStat.st_ino == outputStat.st_ino {
            throw CaptureError(.write, source: path, message: "is the capture being read; name another file to write")
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw CaptureError(.write, source: path, message: "cannot write: \(String(cString: strerror(errno)))")
        }
        descriptor = fd
        writer = PcapngWriter(descriptor: fd)
        self.path = path
    }

    deinit {
        if !closed { Glibc.close(descriptor) }
    }

    /// Reads `input` again (with `filter`, so that packets are numbered as the first reading
    /// numbered them) and writes each packet with `comment(number)`. Returns how many packets
    /// were written; a problem reading (a file cut short: the first reading met it too) ends
    /// the copy there and is thrown after everything before it was written.
    public func copy(_ input: String, filter: String?, comment: (Int) -> String?) throws -> Int {
        let source = try PacketSource.openFile(input, filter: filter, forCopying: true)
        var failure: Error?
        do {
            if let file = source.pcapng {
                try copyPcapng(source, file, comment: comment)
            } else {
                try copyPcap(source, comment: comment)
            }
        } catch let e as CaptureFileError where e.kind == .io && e.message.hasPrefix("cannot write") {
            throw CaptureError(.write, source: path, message: e.message)
        } catch {
            failure = error
        }
        do {
            try writer.flush()
        } catch {
            throw CaptureError(.write, source: path, message: "\(error)")
        }
        if let failure { throw failure }
        return source.packetCount
    }

    /// Closes the file written.
    public func close() throws {
        guard !closed else { return }
        closed = true
        if Glibc.close(descriptor) != 0 {
            throw CaptureError(.write, source: path, message: "cannot write: \(String(cString: strerror(errno)))")
        }
    }

    private func copyPcapng(_ source: PacketSource, _ file: PcapngFile, comment: (Int) -> String?) throws {
        let reader = file.reader
        while true {
            let block: PcapngReader.RawBlock
            do {
                guard let next = try reader.nextRawBlock() else { return }
                block = next
            } catch let e as CaptureFileError {
                throw CaptureError(.read, source: source.name, packetNumber: source.packetCount + 1,
                                   message: source.compression?.words(e) ?? e.message)
            }
            writer.swapped = reader.swapped
            guard let packet = block.packet else {
                try writer.copy(block.bytes)
                continue
            }
            guard file.accepts(packet) else { continue }
            source.packetCount += 1
            // A Simple Packet Block (type 3) has no options: it is copied as it is.
            if block.type != 3, let text = comment(source.packetCount),
               try writer.copy(block.bytes, type: block.type, adding: text) {
                continue
            }
            try writer.copy(block.bytes)
        }
    }

    private func copyPcap(_ source: PacketSource, comment: (Int) -> String?) throws {
        try writer.sectionHeader(application: "teardown")
        let digits = source.nanosecondFile ? 9 : 6
        try writer.interfaceDescription(linkType: AnnotatedCopy.fileLinkType(pcap_datalink(source.handle)),
                                        snapLength: UInt32(clamping: source.snapshotLength), decimalDigits: digits)
        var writeError: Error?
        try source.read { packet in
            let ns = UInt64(bitPattern: packet.time.nanoseconds)
            let units = digits == 9 ? ns : ns / 1000
            do {
                try writer.enhancedPacket(interface: 0, units: units, bytes: packet.bytes,
                                          originalLength: UInt32(clamping: packet.originalLength),
                                          comment: comment(packet.number))
            } catch {
                writeError = error
                return false
            }
            return true
        }
        if let writeError { throw writeError }
    }

    /// The LINKTYPE_ value a file stores for libpcap's DLT_ value (pcap-common.c
    /// `dlt_to_linktype`, on Linux): `dataLinkType` undone.
    static func fileLinkType(_ dlt: Int32) -> UInt16 {
        switch dlt {
        case 11: return 100   // ATM_RFC1483
        case 12: return 101   // RAW
        case 15: return 102   // SLIP_BSDOS
        case 16: return 103   // PPP_BSDOS
        case 19: return 106   // ATM_CLIP
        case let v: return UInt16(truncatingIfNeeded: v)
        }
    }
}
