/// Where a fragment's IP header lies in its packet: what `PacketDecoder` hands the reassembler
/// with `DecodeResult.fragment`.
public struct FragmentPlace: Hashable, Sendable {
    let isIPv6: Bool
    /// The IP header's first byte, from the packet's first captured byte.
    let start: Int
    /// Where the bytes that hold the datagram end on the wire (as `Encapsulated.wireEnd`).
    let wireEnd: Int

    @inline(__always)
    init(_ header: Encapsulated) {
        isIPv6 = header.kind == .ipv6
        start = header.start
        wireEnd = header.wireEnd
    }
}

/// What became of the fragments given to a `FragmentReassembler`, by datagram.
///
/// A datagram is dropped, with all of its fragments, for the reasons Linux drops one
/// (net/ipv4/ip_fragment.c, net/ipv6/reassembly.c, net/ipv4/inet_fragment.c).
public struct FragmentCounts: Sendable, Equatable {
    /// Fragments given to the reassembler.
    public var fragments = 0
    /// Datagrams made whole and decoded.
    public var reassembled = 0
    /// Fragments whose bytes an earlier fragment of their datagram already held: dropped, the
    /// datagram kept (Linux's IPFRAG_DUP).
    public var duplicates = 0
    /// Fragments dropped alone: a first IPv6 fragment without the headers through TCP
    /// (RFC 8200 §4.5).
    public var rejected = 0
    /// Datagrams dropped because two fragments overlapped without one holding the other
    /// (RFC 5722; Linux does the same for IPv4).
    public var overlapping = 0
    /// Datagrams dropped because a fragment contradicted the others or the IP limits: it ends
    /// past 65,535 bytes, past a last fragment, or carries no data; a last fragment that
    /// disagrees with an earlier one; an IPv6 fragment other than the last whose length is
    /// not a multiple of 8.
    public var invalid = 0
    /// Datagrams still incomplete when `FragmentReassembler.Limits.timeout` of packet time had
    /// passed since their first fragment (Linux's `ipfrag_time`).
    public var timedOut = 0
    /// Datagrams dropped, oldest first, to keep what is held within `Limits.memory`.
    public var evicted = 0
    /// Datagrams still incomplete when the input ended (`FragmentReassembler.finish()`).
    public var incomplete = 0

    public init() {}

    /// Datagrams dropped for any reason.
    public var dropped: Int { overlapping + invalid + timedOut + evicted + incomplete }
}

/// IPv4 and IPv6 datagrams put back together from their fragments (RFC 791 §3.2, RFC 8200
/// §4.5), within bounded memory, so that the TCP segment a fragmented datagram carries (its
/// FIN, its RST, its data) is decoded like any other.
///
/// A pure value: the state of the datagrams being reassembled is passed in and out, and time
/// is the packets' time. `PacketDecoder.decode(_:linkType:originalLength:time:reassembling:into:)`
/// feeds it every fragment, in capture order; the fragment that completes a datagram is decoded
/// as the whole datagram (so the reassembled segment takes that fragment's time and packet
/// number, as Wireshark shows the reassembled frame at its last fragment), the others are
/// `.fragment`.
///
/// As Linux does:
/// - a datagram is named by (source, destination, protocol, Identification) for IPv4 (RFC 791
///   §3.2) and (source, destination, Identification) for IPv6 (RFC 8200 §4.5);
/// - fragments may come in any order; a fragment whose bytes lie wholly inside bytes already
///   held is a duplicate and dropped alone; any other overlap drops the whole datagram
///   (RFC 5722, and for IPv4 since Linux 4.19: `inet_frag_queue_insert`). Which bytes count as
///   "already held" follows Linux's runs: a fragment that continues the highest one extends
///   its run, any other starts a run of its own;
/// - a datagram is dropped when it is still incomplete `timeout` (30 s, `ipfrag_time`) of
///   packet time after its first fragment, or when it would be longer than 65,535 bytes;
/// - the fragmentable part of IPv4 fragments other than the last is cut to a multiple of 8
///   bytes; for IPv6 such a fragment drops the datagram (RFC 8200 §4.5, a Parameter Problem);
///   a first IPv6 fragment that does not hold the headers through TCP is dropped (RFC 8200
///   §4.5, Linux 5.16).
///
/// Memory: the fragments' captured bytes, plus `pieceOverhead` per fragment and
/// `datagramOverhead` per datagram for the bookkeeping, are kept within `Limits.memory` (4 MiB,
/// Linux's `ipfrag_high_thresh`); past it the oldest datagrams are dropped to make room (Linux
/// before 4.17 evicted; later kernels drop new fragments until the timer frees memory, which
/// would keep a flood's victims out for 30 s). Each datagram is at most 65,535 bytes.
///
/// A fragment cut short by the snapshot length still counts for its whole length on the wire:
/// the reassembled datagram's captured bytes end where the first fragment that was cut ends,
/// so its TCP segment is marked truncated, as a packet cut by snaplen is.
public struct FragmentReassembler: Sendable {
    public struct Limits: Sendable {
        /// How long an incomplete datagram is kept after its first fragment, in packet time.
        public var timeoutNanoseconds: Int64
        /// The most bytes held for incomplete datagrams (their fragments and bookkeeping).
        public var memory: Int

        public init(timeoutNanoseconds: Int64 = 30_000_000_000, memory: Int = 4 << 20) {
            self.timeoutNanoseconds = timeoutNanoseconds
            self.memory = memory
        }
    }

    /// Bookkeeping charged per fragment held (its place in the datagram and in its run).
    static let pieceOverhead = 32
    /// Bookkeeping charged per datagram held (its table entry, headers and arrival record).
    static let datagramOverhead = 256
    /// The most IPv4 total length or IPv6 payload length (RFC 791 §3.1, RFC 8200 §3).
    static let maximumLength = 65_535
    /// How many datagrams one packet may be reassembled through: an outer fragmented datagram
    /// whose tunnel carries an inner fragmented one, and so on.
    static let maximumNesting = 4

    public let limits: Limits
    public private(set) var counts = FragmentCounts()
    /// Bytes held now, as charged against `limits.memory`.
    public private(set) var memory = 0
    private var datagrams: [FragmentKey: PartialDatagram] = [:]
    /// Datagrams in order of their first fragment, for the timeout and eviction; an entry whose
    /// datagram has gone (completed, dropped) is stale and skipped.
    private var arrivals: [Arrival] = []
    private var arrivalsHead = 0
    private var nextSerial: UInt64 = 0

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Datagrams held, incomplete.
    public var pending: Int { datagrams.count }

    /// Takes the fragment at `place` in `bytes`, captured at `time`: holds it (`.fragment`), or
    /// decodes the datagram it completes into `segment` (`.tcp`, `.notTCP`, `.invalid` ...), or
    /// reports what was wrong with it (`.invalid`; its datagram is dropped as the counts say).
    public mutating func reassemble(_ bytes: UnsafeRawBufferPointer, at place: FragmentPlace, time: Timestamp,
                                    into segment: inout TCPSegment) -> DecodeResult {
        var tunnel = TunnelPath()
        return reassemble(bytes, at: place, time: time, tunnel: &tunnel, into: &segment)
    }

    /// Reassembles as `reassemble(_:at:time:into:)` does, adding to `tunnel` (the tunnels the
    /// fragment was found in) those inside the datagram it completes.
    public mutating func reassemble(_ bytes: UnsafeRawBufferPointer, at place: FragmentPlace, time: Timestamp,
                                    tunnel: inout TunnelPath, into segment: inout TCPSegment) -> DecodeResult {
        var step = add(bytes, at: place, time: time)
        for _ in 0..<Self.maximumNesting {
            switch step {
            case .held:
                return .fragment(place)
            case .dropped(let error):
                return .invalid(error)
            case .whole(let datagram):
                let result = datagram.bytes.withUnsafeBytes {
                    Packet(reader: ByteReader($0)).decode(datagram.outermost, into: &segment, tunnel: &tunnel)
                }
                guard case .fragment(let inner) = result else { return result }
                step = datagram.bytes.withUnsafeBytes { add($0, at: inner, time: time) }
            }
        }
        return .invalid(DecodeError(.malformed, place.isIPv6 ? .ipv6 : .ipv4,
                                    "fragments are nested in reassembled datagrams more deeply than the decoder follows"))
    }

    /// The end of the input: datagrams still incomplete are counted (`FragmentCounts.incomplete`)
    /// and let go.
    public mutating func finish() {
        counts.incomplete += datagrams.count
        datagrams.removeAll()
        arrivals.removeAll()
        arrivalsHead = 0
        memory = 0
    }
}

// MARK: - One fragment

/// What names a datagram: (source, destination, protocol, Identification) for IPv4,
/// (source, destination, Identification) for IPv6.
struct FragmentKey: Hashable {
    var source: IPAddress
    var destination: IPAddress
    var identification: UInt32
    /// The IPv4 protocol; 0 for IPv6 (whose key has none).
    var `protocol`: UInt8
}

/// One fragment as its IP header describes it.
struct Fragment {
    var key: FragmentKey
    var isIPv6: Bool
    /// Where its data lies in the datagram's fragmentable part, in bytes: `offset..<end` by
    /// the IP length fields.
    var offset: Int
    var end: Int
    var isLast: Bool
    /// Where its data starts in the packet.
    var dataStart: Int
    /// The unfragmentable part: the IPv4 header, or the IPv6 header and the extension
    /// headers before the fragment header.
    var headerStart: Int
    var headerEnd: Int
    /// IPv6: where the byte that names the fragment header lies, and the header that follows it.
    var nextHeaderField: Int
    var fragmentableNext: UInt8
}

extension Packet {
    /// The fragment whose IP header is at `place` (which the decoder checked once already).
    func fragment(at place: FragmentPlace) throws(DecodeError) -> Fragment {
        if !place.isIPv6 {
            let ip = try IPv4Header(checking: reader, at: place.start, wireEnd: place.wireEnd)
            let key = FragmentKey(source: ip.source, destination: ip.destination,
                                  identification: UInt32(ip.identification), protocol: ip.protocol.rawValue)
            return Fragment(key: key, isIPv6: false, offset: ip.fragmentOffset, end: ip.fragmentOffset + ip.payloadLength,
                            isLast: !ip.moreFragments, dataStart: ip.end, headerStart: ip.start, headerEnd: ip.end,
                            nextHeaderField: 0, fragmentableNext: 0)
        }
        let ip = try IPv6Header(checking: reader, at: place.start, wireEnd: place.wireEnd)
        switch chain(of: ip) {
        case .fragment(let header, let nextHeaderField):
            let key = FragmentKey(source: ip.source, destination: ip.destination,
                                  identification: header.identification, protocol: 0)
            let payloadEnd = ip.end + ip.payloadLength
            return Fragment(key: key, isIPv6: true, offset: header.fragmentOffset,
                            end: header.fragmentOffset + (payloadEnd - header.end), isLast: !header.moreFragments,
                            dataStart: header.end, headerStart: ip.start, headerEnd: header.start,
                            nextHeaderField: nextHeaderField, fragmentableNext: header.nextHeader.rawValue)
        case .invalid(let error):
            throw error
        case .upperLayer:
            throw DecodeError(.malformed, .ipv6, "IPv6 packet handed to reassembly has no fragment header")
        }
    }

    /// RFC 8200 §4.5: the first fragment must hold every header through the upper-layer one.
    /// Walks the fragmentable part's extension headers within the fragment's data; true when
    /// they run past it, or TCP's 20-byte header does (as Linux's `ipv6frag_thdr_truncated`).
    /// Bytes that were on the wire but not captured do not count against the fragment.
    func lacksUpperLayerHeader(_ f: Fragment) -> Bool {
        var next = IPProtocol(rawValue: f.fragmentableNext)
        var offset = f.dataStart
        var remaining = f.end - f.offset
        while next == .authentication || next == .fragment || next.isGenericExtensionHeader {
            let header: IPv6ExtensionHeader
            do throws(DecodeError) {
                header = try IPv6ExtensionHeader(checking: reader, kind: next, at: offset, remaining: remaining)
            } catch {
                return error.kind == .malformed
            }
            next = header.nextHeader
            offset = header.end
            remaining -= header.length
        }
        return next == .tcp && remaining < TCPHeader.Layout.minimumLength
    }
}

// MARK: - Datagrams being reassembled

/// A datagram's fragments so far.
struct PartialDatagram {
    var serial: UInt64
    /// The unfragmentable part of the first fragment, once it has come.
    var header: [UInt8] = []
    /// IPv6: where, in `header`, the byte naming the fragment header lies; the header that
    /// follows the fragment header.
    var nextHeaderField = 0
    var fragmentableNext: UInt8 = 0
    /// The captured data of every fragment held, in arrival order; `pieces` say where each lies.
    var data: [UInt8] = []
    var pieces: [Piece] = []
    /// Linux's runs: stretches of the fragmentable part held, disjoint, by offset. A fragment
    /// that continues the highest run extends it; any other fragment is a run of its own.
    var runs: [Run] = []
    /// The fragmentable part's length: the end of the last fragment once it has come (`lastIn`),
    /// the highest end so far until then (Linux's `q.len`).
    var length = 0
    var firstIn = false
    var lastIn = false
    /// Bytes of data held (Linux's `q.meat`): the datagram is whole when it equals `length`.
    var held = 0
    /// Bytes charged against the memory limit.
    var charged = 0

    struct Piece {
        var offset: Int32
        var end: Int32
        /// Where its captured bytes start in `data`, and how many were captured.
        var at: Int32
        var captured: Int32
    }

    struct Run {
        var offset: Int
        var end: Int
    }

    enum Insertion { case inserted, duplicate, overlap }

    /// `inet_frag_queue_insert`: a fragment wholly inside one run is a duplicate; one that
    /// overlaps a run otherwise is an overlap; else it is inserted.
    mutating func insert(_ offset: Int, _ end: Int) -> Insertion {
        guard let tail = runs.last else {
            runs.append(Run(offset: offset, end: end))
            return .inserted
        }
        if end > tail.end {
            if offset < tail.end { return .overlap }
            if offset == tail.end { runs[runs.count - 1].end = end } else { runs.append(Run(offset: offset, end: end)) }
            return .inserted
        }
        // Binary search among the runs, which are disjoint and sorted.
        var low = 0, high = runs.count
        while low < high {
            let mid = (low + high) / 2
            let run = runs[mid]
            if end <= run.offset {
                high = mid
            } else if offset >= run.end {
                low = mid + 1
            } else {
                return offset >= run.offset && end <= run.end ? .duplicate : .overlap
            }
        }
        runs.insert(Run(offset: offset, end: end), at: low)
        return .inserted
    }
}

/// A datagram's first fragment, in order of arrival.
struct Arrival {
    var key: FragmentKey
    var serial: UInt64
    var time: Timestamp
}

/// A reassembled datagram: its captured bytes, from its IP header, and its length on the wire.
struct WholeDatagram {
    var bytes: [UInt8]
    var outermost: Encapsulated
}

extension FragmentReassembler {
    /// What adding one fragment did.
    enum Step {
        case held
        case dropped(DecodeError)
        case whole(WholeDatagram)
    }

    mutating func add(_ bytes: UnsafeRawBufferPointer, at place: FragmentPlace, time: Timestamp) -> Step {
        let packet = Packet(reader: ByteReader(bytes))
        let f: Fragment
        do throws(DecodeError) {
            f = try packet.fragment(at: place)
        } catch {
            return .dropped(error)
        }
        counts.fragments += 1
        expire(at: time)
        let layer: ProtocolLayer = f.isIPv6 ? .ipv6 : .ipv4
        if f.isIPv6 && f.offset == 0 && packet.lacksUpperLayerHeader(f) {
            counts.rejected += 1
            return .dropped(DecodeError(.malformed, layer,
                                        "first fragment does not hold the headers through TCP (RFC 8200 §4.5): the fragment is dropped"))
        }
        var d: PartialDatagram
        if let existing = datagrams.removeValue(forKey: f.key) {
            d = existing
        } else {
            d = PartialDatagram(serial: nextSerial)
            nextSerial += 1
            d.charged = Self.datagramOverhead
            memory += d.charged
            arrivals.append(Arrival(key: f.key, serial: d.serial, time: time))
        }
        // ip_frag_queue / ip6_frag_queue: where the fragment lies, checked against the others.
        var end = f.end
        let largest = Self.maximumLength - (f.isIPv6 ? 0 : IPv4Header.Layout.minimumLength)
        if end > largest {
            return drop(d, counting: \.invalid, DecodeError(.malformed, layer,
                        "fragment ends past the largest datagram (65,535 bytes): the datagram is dropped"))
        }
        if f.isLast {
            if end < d.length || (d.lastIn && end != d.length) {
                return drop(d, counting: \.invalid, DecodeError(.malformed, layer,
                            "last fragment disagrees with the datagram's other fragments about its length: the datagram is dropped"))
            }
            d.lastIn = true
            d.length = end
        } else {
            if end % IPv4Header.Layout.fragmentUnit != 0 {
                if f.isIPv6 {
                    return drop(d, counting: \.invalid, DecodeError(.malformed, layer,
                                "fragment other than the last is not a multiple of 8 bytes long (RFC 8200 §4.5): the datagram is dropped"))
                }
                end -= end % IPv4Header.Layout.fragmentUnit
            }
            if end > d.length {
                if d.lastIn {
                    return drop(d, counting: \.invalid, DecodeError(.malformed, layer,
                                "fragment ends past the datagram's last fragment: the datagram is dropped"))
                }
                d.length = end
            }
        }
        if end == f.offset {
            return drop(d, counting: \.invalid, DecodeError(.malformed, layer,
                        "fragment carries no data: the datagram is dropped"))
        }
        switch d.insert(f.offset, end) {
        case .duplicate:
            counts.duplicates += 1
            datagrams[f.key] = d
            return .held
        case .overlap:
            return drop(d, counting: \.overlapping, DecodeError(.malformed, layer,
                        "fragment overlaps another fragment of its datagram (RFC 5722): the datagram is dropped"))
        case .inserted:
            break
        }
        // Keep what was captured of the data, and the first fragment's headers.
        let captured = max(0, min(end - f.offset, bytes.count - f.dataStart))
        var cost = captured + Self.pieceOverhead
        if f.offset == 0 {
            cost += f.headerEnd - f.headerStart
        }
        guard makeRoom(for: cost, sparing: f.key) else {
            return drop(d, counting: \.evicted, nil)
        }
        d.pieces.append(PartialDatagram.Piece(offset: Int32(f.offset), end: Int32(end), at: Int32(d.data.count),
                                              captured: Int32(captured)))
        if captured > 0 {
            d.data.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[f.dataStart..<(f.dataStart + captured)]))
        }
        if f.offset == 0 {
            d.header = Array(UnsafeRawBufferPointer(rebasing: bytes[f.headerStart..<f.headerEnd]))
            d.nextHeaderField = f.nextHeaderField - f.headerStart
            d.fragmentableNext = f.fragmentableNext
            d.firstIn = true
        }
        d.held += end - f.offset
        d.charged += cost
        memory += cost
        guard d.firstIn && d.lastIn && d.held == d.length else {
            datagrams[f.key] = d
            return .held
        }
        // Whole: the datagram leaves the table whatever its decode says.
        memory -= d.charged
        let wireLength = d.header.count + d.length
        guard wireLength - (f.isIPv6 ? IPv6Header.Layout.length : 0) <= Self.maximumLength else {
            counts.invalid += 1
            return .dropped(DecodeError(.malformed, layer, "reassembled datagram is longer than 65,535 bytes: it is dropped"))
        }
        counts.reassembled += 1
        return .whole(WholeDatagram(bytes: d.assembled(isIPv6: f.isIPv6),
                                    outermost: Encapsulated(f.isIPv6 ? .ipv6 : .ipv4, at: 0, wireEnd: wireLength)))
    }

    /// Lets `d` go (it is out of the table already), counting it under `reason`.
    private mutating func drop(_ d: PartialDatagram, counting reason: WritableKeyPath<FragmentCounts, Int>,
                               _ error: DecodeError?) -> Step {
        memory -= d.charged
        counts[keyPath: reason] += 1
        guard let error else { return .held }
        return .dropped(error)
    }

    /// Drops datagrams whose first fragment came `limits.timeoutNanoseconds` or more before `time`.
    private mutating func expire(at time: Timestamp) {
        while arrivalsHead < arrivals.count {
            let a = arrivals[arrivalsHead]
            if let d = datagrams[a.key], d.serial == a.serial {
                guard time.nanoseconds &- a.time.nanoseconds >= limits.timeoutNanoseconds else { break }
                datagrams[a.key] = nil
                memory -= d.charged
                counts.timedOut += 1
            }
            arrivalsHead += 1
        }
        compactArrivals()
    }

    /// Drops the oldest datagrams other than `sparing` until `cost` more bytes fit in
    /// `limits.memory`; false when they do not fit even then.
    private mutating func makeRoom(for cost: Int, sparing: FragmentKey) -> Bool {
        var i = arrivalsHead
        while memory + cost > limits.memory && i < arrivals.count {
            let a = arrivals[i]
            if a.key != sparing, let d = datagrams[a.key], d.serial == a.serial {
                datagrams[a.key] = nil
                memory -= d.charged
                counts.evicted += 1
            }
            i += 1
        }
        return memory + cost <= limits.memory
    }

    /// Forgets arrivals already dealt with, and stale ones once they outnumber the datagrams,
    /// so the arrival list stays in proportion to what is held.
    private mutating func compactArrivals() {
        if arrivalsHead > 1024 && arrivalsHead * 2 > arrivals.count {
            arrivals.removeFirst(arrivalsHead)
            arrivalsHead = 0
        }
        if arrivals.count - arrivalsHead > 2 * datagrams.count + 1024 {
            let live = arrivals[arrivalsHead...].filter { datagrams[$0.key]?.serial == $0.serial }
            arrivals = live
            arrivalsHead = 0
        }
    }
}

extension PartialDatagram {
    /// The whole datagram's captured bytes: the first fragment's headers, their lengths set
    /// for the whole (and, for IPv6, the fragment header taken out of the chain, as Linux's
    /// `ip6_frag_reasm` does), then the data in order, up to the first byte no fragment captured.
    func assembled(isIPv6: Bool) -> [UInt8] {
        var out = header
        if isIPv6 {
            let payload = header.count - IPv6Header.Layout.length + length
            out[IPv6Header.Layout.payloadLength.offset] = UInt8(truncatingIfNeeded: payload >> 8)
            out[IPv6Header.Layout.payloadLength.offset + 1] = UInt8(truncatingIfNeeded: payload)
            out[nextHeaderField] = fragmentableNext
        } else {
            let total = header.count + length
            out[IPv4Header.Layout.totalLength.offset] = UInt8(truncatingIfNeeded: total >> 8)
            out[IPv4Header.Layout.totalLength.offset + 1] = UInt8(truncatingIfNeeded: total)
            out[IPv4Header.Layout.flagsAndFragmentOffset.offset] = 0
            out[IPv4Header.Layout.flagsAndFragmentOffset.offset + 1] = 0
        }
        out.reserveCapacity(header.count + length)
        for piece in pieces.sorted(by: { $0.offset < $1.offset }) {
            let at = Int(piece.at)
            out.append(contentsOf: data[at..<(at + Int(piece.captured))])
            if piece.captured < piece.end - piece.offset { break }
        }
        return out
    }
}
