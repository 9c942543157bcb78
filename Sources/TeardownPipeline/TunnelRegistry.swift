import Synchronization
import TeardownModel
import TeardownWire

/// The tunnel paths of one input (`TunnelTable`), shared by the stage that decodes its packets,
/// which numbers them, and the stage that prints its connections, which names them.
///
/// The decoding thread asks for numbers only when a packet came in a tunnel, and remembers the
/// last answer, so a run of packets in one tunnel takes the lock once; the printing thread
/// takes it once per tunnelled connection.
final class TunnelRegistry: TunnelInterning, @unchecked Sendable {
    private let table = Mutex(TunnelTable())
    /// The last path numbered and its numbers: touched by the decoding thread only.
    private var last: (path: TunnelPath, ids: TunnelIDs)?

    func ids(for path: TunnelPath) -> TunnelIDs {
        if let last, last.path == path { return last.ids }
        let ids = table.withLock { $0.ids(for: path) }
        last = (path, ids)
        return ids
    }

    /// Packets in tunnels past `TunnelTable.maximumRoutes`.
    var overflowed: Int { table.withLock { $0.overflowed } }

    /// `record` with its tunnel routes (`ConnectionRecord.tunnelRoutes`) named as paths.
    func named(_ record: consuming ConnectionRecord) -> ConnectionRecord {
        guard !record.tunnelRoutes.isEmpty else { return record }
        let routes = record.tunnelRoutes
        let paths = table.withLock { ($0.path(route: routes.orig), $0.path(route: routes.resp)) }
        if paths.0 != nil || paths.1 != nil { record.tunnel = ConnectionTunnel(orig: paths.0, resp: paths.1) }
        return record
    }
}
