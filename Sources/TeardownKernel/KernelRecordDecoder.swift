import TeardownWire

/// Why one record could not be decoded.
public enum KernelRecordError: Error, Hashable, Sendable {
    /// Fewer bytes than `common_type` (2).
    case noType(available: Int)
    /// A `common_type` that none of the decoder's formats has.
    case unknownEventID(UInt16)
    /// The record ends before the last field the event's layout reads.
    case cutShort(event: String, needed: Int, available: Int)
}

/// Decodes raw trace records (the bytes of one ring-buffer event, from `common_type` on, in the
/// host's byte order) of the events whose formats it was given. Pure: the record's time comes
/// in with it. Never traps: a record is checked once against its layout's length, and every
/// read after that lies inside it.
public struct KernelRecordDecoder: Sendable {
    var layouts: [UInt16: KernelLayout] = [:]
    /// The formats given that cannot be decoded, and why.
    public private(set) var unusable: [KernelLayoutError] = []

    public init(formats: [TraceEventFormat]) {
        for format in formats {
            switch KernelLayout.resolve(format) {
            case .success(let layout): layouts[format.id] = layout
            case .failure(let e): unusable.append(e)
            }
        }
    }

    /// tcp_send_reset is read with a layout that has `reason` (Linux 6.10 and later), whose
    /// tracepoint fires for every RST the host sends, also those for which no socket exists.
    public var tracesEveryReset: Bool { layouts.values.contains { $0.event == .sendReset && $0.reason != nil } }

    /// The events this decoder reads.
    public var events: [KernelEventName] { layouts.values.map(\.event).sorted { $0.rawValue < $1.rawValue } }

    public func decode(_ record: UnsafeRawBufferPointer, time: Timestamp) -> Result<KernelEvent, KernelRecordError> {
        guard record.count >= 2 else { return .failure(.noType(available: record.count)) }
        let type = record.loadUnaligned(as: UInt16.self)
        guard let layout = layouts[type] else { return .failure(.unknownEventID(type)) }
        guard record.count >= layout.length else {
            return .failure(.cutShort(event: layout.format.name, needed: layout.length, available: record.count))
        }
        let r = Record(bytes: record)
        let kind: KernelEvent.Kind
        switch layout.event {
        case .sendReset:
            let state = layout.state.map { r.int32($0) }
            kind = .sendReset(state: state.flatMap { $0 == 0 ? nil : KernelTCPState(rawValue: $0) },
                              reason: layout.reason.map { RSTReason.named(r.uint32($0), in: layout.format) })
        case .receiveReset:
            kind = .receiveReset
        case .stateChange:
            kind = .stateChange(from: KernelTCPState(rawValue: r.int32(layout.oldState ?? 0)),
                                to: KernelTCPState(rawValue: r.int32(layout.newState ?? 0)),
                                protocol: layout.proto.map { r.uint16($0) })
        case .errorReport:
            kind = .errorReport(errno: r.int32(layout.error ?? 0), protocol: layout.proto.map { r.uint16($0) })
        }
        let socket = layout.socket.map { $0.size == 8 ? r.uint64($0.offset) : UInt64(r.uint32($0.offset)) }
        let (source, destination) = endpoints(r, layout.addresses)
        return .success(KernelEvent(time: time, pid: r.int32(layout.pid), kind: kind, socket: socket,
                                    source: source, destination: destination))
    }

    public func decode(_ record: [UInt8], time: Timestamp) -> Result<KernelEvent, KernelRecordError> {
        record.withUnsafeBytes { decode($0, time: time) }
    }

    static let afInet: UInt16 = 2
    static let afInet6: UInt16 = 10

    func endpoints(_ r: Record, _ a: KernelLayout.Addresses) -> (Endpoint?, Endpoint?) {
        switch a {
        case .sockaddr(let s, let d):
            return (sockaddr(r, s), sockaddr(r, d))
        case .split(let sport, let dport, let family, let saddr, let daddr, let saddr6, let daddr6):
            let v6: Bool
            if let family {
                switch r.uint16(family) {
                case Self.afInet: v6 = false
                case Self.afInet6: v6 = true
                default: return (nil, nil)
                }
            } else if let saddr6 {
                // Before the family field (4.15-4.19) IPv4 sockets stored v4-mapped addresses.
                let high = r.bigEndian64(saddr6), low = r.bigEndian64(saddr6 + 8)
                v6 = !(high == 0 && (low >> 32 == 0xFFFF || low == 0))
            } else {
                v6 = false
            }
            if v6 {
                guard let saddr6, let daddr6 else { return (nil, nil) }
                return (Endpoint(address: IPAddress(ipv6High: r.bigEndian64(saddr6), low: r.bigEndian64(saddr6 + 8)), port: r.uint16(sport)),
                        Endpoint(address: IPAddress(ipv6High: r.bigEndian64(daddr6), low: r.bigEndian64(daddr6 + 8)), port: r.uint16(dport)))
            }
            return (Endpoint(address: IPAddress(ipv4: r.bigEndian32(saddr)), port: r.uint16(sport)),
                    Endpoint(address: IPAddress(ipv4: r.bigEndian32(daddr)), port: r.uint16(dport)))
        }
    }

    /// A sockaddr_in (family, port in network order, address) or sockaddr_in6 (family, port,
    /// flowinfo, address, scope) in a 28-byte array; nil for family 0 (the kernel zeroes the
    /// array when it has neither socket nor packet) or any other family.
    func sockaddr(_ r: Record, _ o: Int) -> Endpoint? {
        let port = UInt16(bigEndian: r.uint16(o + 2))
        switch r.uint16(o) {
        case Self.afInet: return Endpoint(address: IPAddress(ipv4: r.bigEndian32(o + 4)), port: port)
        case Self.afInet6: return Endpoint(address: IPAddress(ipv6High: r.bigEndian64(o + 8), low: r.bigEndian64(o + 16)), port: port)
        default: return nil
        }
    }
}

/// A record whose length its layout checked: reads at the layout's offsets cannot stray.
struct Record {
    let bytes: UnsafeRawBufferPointer
    func int32(_ o: Int) -> Int32 { bytes.loadUnaligned(fromByteOffset: o, as: Int32.self) }
    func uint32(_ o: Int) -> UInt32 { bytes.loadUnaligned(fromByteOffset: o, as: UInt32.self) }
    func uint16(_ o: Int) -> UInt16 { bytes.loadUnaligned(fromByteOffset: o, as: UInt16.self) }
    func uint64(_ o: Int) -> UInt64 { bytes.loadUnaligned(fromByteOffset: o, as: UInt64.self) }
    /// Addresses are stored as on the wire.
    func bigEndian32(_ o: Int) -> UInt32 { UInt32(bigEndian: uint32(o)) }
    func bigEndian64(_ o: Int) -> UInt64 { UInt64(bigEndian: uint64(o)) }
}
