import TeardownModel
import TeardownWire

/// The byte ledger under a timeline: one row per ledger line, one column per direction, and
/// a warning line for each direction whose application rows do not add up.
extension Timeline {
    func ledger(_ c: inout ByteCursor) {
        let o = r.orig.bytes, s = r.resp.bytes
        c.write("   ")
        paint(Style.bold, &c) { $0.write("bytes                     ") }
        paint(Style.bold, &c) { $0.write("  client → server") }
        paint(Style.bold, &c) { $0.write("  server → client") }
        c.write(0x0a)
        Timeline.ledgerRow("sent                    ", o.sent, s.sent, &c, unknown: .sent, o, s)
        Timeline.ledgerRow("retransmitted           ", o.retransmitted, s.retransmitted, &c, unknown: .retransmitted, o, s)
        Timeline.ledgerRow("acked                   ", o.acked, s.acked, &c, unknown: .acked, o, s)
        if r.rst != nil || o.inFlightAtRST != nil || s.inFlightAtRST != nil {
            Timeline.ledgerRow("in flight at RST        ", o.inFlightAtRST, s.inFlightAtRST, &c, unknown: .inFlightAtRST, o, s)
        }
        if r.rst != nil || o.sentAfterRST != nil || s.sentAfterRST != nil {
            Timeline.ledgerRow("sent after RST          ", o.sentAfterRST, s.sentAfterRST, &c, unknown: .sentAfterRST, o, s)
        }
        if o.written != nil || s.written != nil { Timeline.ledgerRow("written by app          ", o.written, s.written, &c) }
        if o.readByPeer != nil || s.readByPeer != nil {
            Timeline.ledgerRow("read by peer app        ", o.readByPeer, s.readByPeer, &c)
        }
        if o.lost != nil || s.lost != nil { Timeline.ledgerRow("lost = written − read   ", o.lost, s.lost, &c) }
        if o.neverSent != nil || s.neverSent != nil { Timeline.ledgerRow("  = never sent          ", o.neverSent, s.neverSent, &c) }
        if o.unacked != nil || s.unacked != nil { Timeline.ledgerRow("  + unacked             ", o.unacked, s.unacked, &c) }
        if o.unread != nil || s.unread != nil { Timeline.ledgerRow("  + unread              ", o.unread, s.unread, &c) }
        for side in Side.allCases {
            let problems = r.side(side).bytes.problems
            if !problems.isEmpty {
                c.write("   ")
                paint(Style.boldRed, &c) { c in
                    c.write("!! ledger does not add up (")
                    c.write(side == .orig ? "client → server" : "server → client")
                    c.write("): ")
                    LedgerProblem.write(problems, to: &c)
                }
                c.write(0x0a)
            }
        }
    }

    /// `     sent                 1,234   5`: a label (padded to 24 columns by the caller),
    /// then one cell per direction right-aligned in 17 columns (`–` when absent).
    @inline(__always)
    static func ledgerRow(_ label: StaticString, _ a: UInt64?, _ b: UInt64?, _ c: inout ByteCursor) {
        c.write("     ")
        c.write(label)
        ledgerCell(a, &c)
        ledgerCell(b, &c)
        c.write(0x0a)
    }

    /// A packet row, each cell `unknown` where its direction's ledger marks `row` unknown
    /// (one direction not captured).
    @inline(__always)
    static func ledgerRow(_ label: StaticString, _ a: UInt64?, _ b: UInt64?, _ c: inout ByteCursor,
                          unknown row: LedgerRows, _ o: DirectionLedger, _ s: DirectionLedger) {
        c.write("     ")
        c.write(label)
        ledgerCell(a, unknown: o.unknown.contains(row), &c)
        ledgerCell(b, unknown: s.unknown.contains(row), &c)
        c.write(0x0a)
    }

    static func ledgerCell(_ v: UInt64?, unknown: Bool = false, _ c: inout ByteCursor) {
        if unknown {
            c.writeSpaces(10)
            c.write("unknown")
        } else if let v {
            c.writeSpaces(17 - Width.grouped(v))
            c.writeGrouped(v)
        } else {
            c.writeSpaces(16)
            c.write("–")
        }
    }
}
