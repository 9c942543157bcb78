/// What kind of tunnel one outer layer of a packet is.
public enum TunnelKind: UInt8, Sendable, Hashable, CaseIterable {
    case ipInIP, gre, pptp, erspan, vxlan, geneve, gtpU, capwap, teredo, ayiya

    /// The name JSON and the timeline give it.
    public var name: StaticString {
        switch self {
        case .ipInIP: return "ip-in-ip"
        case .gre: return "gre"
        case .pptp: return "pptp"
        case .erspan: return "erspan"
        case .vxlan: return "vxlan"
        case .geneve: return "geneve"
        case .gtpU: return "gtp-u"
        case .capwap: return "capwap"
        case .teredo: return "teredo"
        case .ayiya: return "ayiya"
        }
    }

    /// The name of the ID this kind carries (the JSON key), nil for none: GRE's key (RFC 2890),
    /// PPTP's call ID (RFC 2637 §4.1), ERSPAN's session, VXLAN's and Geneve's VNI, GTP-U's TEID.
    public var idName: StaticString? {
        switch self {
        case .gre: return "key"
        case .pptp: return "call_id"
        case .erspan: return "session"
        case .vxlan, .geneve: return "vni"
        case .gtpU: return "teid"
        case .ipInIP, .capwap, .teredo, .ayiya: return nil
        }
    }

    /// Whether the ID differs by direction: each GTP-U endpoint names the TEID it receives on
    /// (TS 29.281 §5.1), each PPTP peer its own call ID (RFC 2637 §4.1). Such an ID is not part
    /// of the tunnel's identity, or the two directions of one connection would come apart.
    public var idIsPerDirection: Bool { self == .gtpU || self == .pptp }
}

/// One tunnel a packet was carried in: its kind, the outer IP packet's addresses, and its ID.
public struct TunnelLayer: Hashable, Sendable {
    public var kind: TunnelKind
    public var source: IPAddress
    public var destination: IPAddress
    /// The ID (`TunnelKind.idName`); meaningful when `hasID`.
    public var id: UInt32
    public var hasID: Bool

    @inlinable
    public init(kind: TunnelKind, source: IPAddress, destination: IPAddress, id: UInt32 = 0, hasID: Bool = false) {
        self.kind = kind
        self.source = source
        self.destination = destination
        self.id = id
        self.hasID = hasID
    }

    static let none = TunnelLayer(kind: .ipInIP, source: IPAddress(ipv4: 0), destination: IPAddress(ipv4: 0))

    /// The same tunnel seen from the other direction.
    @inlinable public var reversed: TunnelLayer {
        var r = self
        r.source = destination
        r.destination = source
        return r
    }
}

/// The tunnels a packet was carried in, outermost first, held inline (no heap): what the
/// decoder records on its way to the TCP segment (`PacketDecoder.decode(_:linkType:originalLength:tunnel:into:)`).
///
/// At most `capacity` layers are kept, the outermost; `omitted` counts those past them.
/// Equality and hashing read the kept layers only.
public struct TunnelPath: Hashable, Sendable {
    public static let capacity = 4

    public private(set) var count: Int
    /// Layers past `capacity`, not kept.
    public private(set) var omitted: Int
    private var layers: (TunnelLayer, TunnelLayer, TunnelLayer, TunnelLayer)
    /// The addresses of the IP packet that carries the next tunnel header (UDP or GRE): written
    /// by the IP step, read by the tunnel step. Not part of the path's value.
    var outerSource = IPAddress(ipv4: 0), outerDestination = IPAddress(ipv4: 0)

    public init() {
        count = 0
        omitted = 0
        layers = (.none, .none, .none, .none)
    }

    /// No tunnel: cleared for the next packet (the layers are left as they were, unread).
    @inline(__always)
    public mutating func removeAll() {
        count = 0
        omitted = 0
    }

    public subscript(i: Int) -> TunnelLayer {
        get {
            precondition(i >= 0 && i < count, "tunnel layer out of range")
            switch i {
            case 0: return layers.0
            case 1: return layers.1
            case 2: return layers.2
            default: return layers.3
            }
        }
        set {
            precondition(i >= 0 && i < count, "tunnel layer out of range")
            switch i {
            case 0: layers.0 = newValue
            case 1: layers.1 = newValue
            case 2: layers.2 = newValue
            default: layers.3 = newValue
            }
        }
    }

    /// Adds the next layer inward (counted in `omitted` once `capacity` are kept).
    @inline(__always)
    mutating func append(_ layer: TunnelLayer) {
        guard count < Self.capacity else { omitted += 1; return }
        count += 1
        self[count - 1] = layer
    }

    /// Adds a layer of `kind` carried by the IP packet the last IP step saw.
    @inline(__always)
    mutating func append(_ kind: TunnelKind, id: UInt32? = nil) {
        append(TunnelLayer(kind: kind, source: outerSource, destination: outerDestination, id: id ?? 0, hasID: id != nil))
    }

    /// Sets the ID of the innermost layer kept (ERSPAN's session, read after GRE's header).
    @inline(__always)
    mutating func setInnermostID(_ id: UInt32) {
        guard omitted == 0, count > 0 else { return }
        self[count - 1].id = id
        self[count - 1].hasID = true
    }

    /// The layers, outermost first.
    public var all: [TunnelLayer] { (0..<count).map { self[$0] } }

    /// What names the tunnel whichever way a packet goes through it: each layer's addresses in
    /// ascending order, and the IDs that differ by direction left out. Both directions of a
    /// connection have the same identity; connections in different tunnels have different ones.
    public var identity: TunnelPath {
        var key = self
        for i in 0..<count {
            var l = key[i]
            if l.destination < l.source { l = l.reversed }
            if l.kind.idIsPerDirection { l.id = 0; l.hasID = false }
            key[i] = l
        }
        return key
    }

    /// The path as the other direction sees it: each layer's addresses swapped.
    public var reversed: TunnelPath {
        var r = self
        for i in 0..<count { r[i] = r[i].reversed }
        return r
    }

    public static func == (a: TunnelPath, b: TunnelPath) -> Bool {
        guard a.count == b.count, a.omitted == b.omitted else { return false }
        for i in 0..<a.count where a[i] != b[i] { return false }
        return true
    }

    public func hash(into h: inout Hasher) {
        h.combine(count)
        h.combine(omitted)
        for i in 0..<count { h.combine(self[i]) }
    }
}

/// What a TCP segment says of the tunnels it came in: the number of its tunnel's identity
/// (`TunnelPath.identity`), which a connection's key includes, and the number of its route (the
/// path as this packet took it), which says what the tunnel is. Both are 0 for a segment that
/// came in no tunnel, so untunnelled traffic keys as it always did.
public struct TunnelIDs: Hashable, Sendable {
    public var identity: UInt32
    public var route: UInt32

    @inlinable
    public init(identity: UInt32, route: UInt32) {
        self.identity = identity
        self.route = route
    }

    /// No tunnel.
    @inlinable public static var none: TunnelIDs { TunnelIDs(identity: 0, route: 0) }
    /// A tunnel past `TunnelTable.maximumRoutes`: all such share one identity, and their routes
    /// are not kept.
    @inlinable public static var overflow: TunnelIDs { TunnelIDs(identity: .max, route: 0) }
}

/// What numbers the tunnel paths a reading stage decodes (`TunnelTable`, shared by the stages
/// of one input).
public protocol TunnelInterning: AnyObject {
    /// The numbers of `path`, which has at least one layer.
    func ids(for path: TunnelPath) -> TunnelIDs
}

/// The tunnel paths of one input, numbered from 1 in order of first sight: each route (a path
/// as one direction takes it) and each identity (`TunnelPath.identity`), which both directions
/// of a tunnel share.
///
/// Bounded: at most `maximumRoutes` routes are kept (a few hundred bytes each); a packet in a
/// further one gets `TunnelIDs.overflow`, and `overflowed` counts such packets.
public struct TunnelTable: Sendable {
    public static let maximumRoutes = 16_384

    private var routeIDs: [TunnelPath: UInt32] = [:]
    private var identityIDs: [TunnelPath: UInt32] = [:]
    /// Route `n` is `routes[n - 1]`, with its identity's number.
    private var routes: [(path: TunnelPath, identity: UInt32)] = []
    public private(set) var overflowed = 0

    public init() {}

    /// The numbers of `path`, numbering it (and its identity) if it is new.
    public mutating func ids(for path: TunnelPath) -> TunnelIDs {
        if let route = routeIDs[path] { return TunnelIDs(identity: routes[Int(route) - 1].identity, route: route) }
        guard routes.count < Self.maximumRoutes else {
            overflowed += 1
            return .overflow
        }
        let key = path.identity
        let identity: UInt32
        if let known = identityIDs[key] {
            identity = known
        } else {
            identity = UInt32(identityIDs.count + 1)
            identityIDs[key] = identity
        }
        routes.append((path, identity))
        let route = UInt32(routes.count)
        routeIDs[path] = route
        return TunnelIDs(identity: identity, route: route)
    }

    /// The path numbered `route`; nil for 0 (no tunnel, or one past the bound).
    public func path(route: UInt32) -> TunnelPath? {
        guard route > 0, Int(route) <= routes.count else { return nil }
        return routes[Int(route) - 1].path
    }
}
