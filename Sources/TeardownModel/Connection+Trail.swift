import TeardownWire

/// What the diagnoses measure (`EndingTrail`), taken from a packet after `apply` judged it.
/// Only the moments that matter come here (`process` tests for them in one condition), so the
/// common data and ACK segments pay one test.
extension Connection {
    /// The trail, made on first use.
    mutating func trail() -> EndingTrail.Box {
        if let box = trailBox { return box }
        let box = EndingTrail.Box()
        trailBox = box
        return box
    }

    /// The first FIN, the first SYN-ACK, a SYN-ACK repeated after the handshake, the first
    /// accepted RST and the packet before it (`previousNumber`, 0 for none, at `previousTime`),
    /// an RST after the close, new data after the peer's FIN, a retransmission, a zero window
    /// opened or closed, a keep-alive probe (and, at a retransmission, the long silence before
    /// the segment it repeats). Out of line: it is rare.
    @inline(never)
    mutating func noteMoment(_ seg: TCPSegment, from side: Side, time: Timestamp, packetNumber: Int,
                             retransmission: Bool, keepAlive: Bool, previousNumber: Int, previousTime: Int64) {
        let flags = seg.flags
        let mark = EndingTrail.Mark(number: packetNumber, time: time, from: side, payloadLength: seg.payloadLength)
        let peerPackets = side == .orig ? resp.packets : orig.packets
        let silence = previousNumber > 0 ? time.nanoseconds &- previousTime : 0
        // A long silence and the segment that ended it, noted at that segment's first
        // retransmission: the silent form of idle-timeout-reset needs it only then, and noting
        // every long silence as it ends boxed the trail of most idle connections (a million
        // open at once took 89 bytes more each). The previous packet is that segment when it is
        // this side's, came after the silence (`facts.previousGap`, not yet this packet's), and
        // was no retransmission itself (a run's backoff may wait longer than the threshold).
        if retransmission && previousNumber > 0 && facts.previousFrom == side
            && facts.previousGap >= Diagnosis.Threshold.idleReset
            && trailBox?.trail.run(of: side)?.last.number != previousNumber {
            let end = EndingTrail.Mark(number: previousNumber, time: Timestamp(nanoseconds: previousTime), from: side,
                                       payloadLength: Int(facts.previousLength))
            trail().trail.lastSilence = EndingTrail.Silence(length: facts.previousGap, end: end, peerPackets: peerPackets)
        }
        if keepAlive {
            trail().trail.probed(mark, silence: silence, senderPackets: side == .orig ? orig.packets : resp.packets,
                                 peerPackets: peerPackets)
        }
        if facts.firstFINNumber == 0 && facts.firstFIN != nil {
            facts.firstFINNumber = packetNumber
            facts.firstFINTime = time.nanoseconds
            facts.silenceBeforeFirstFIN = silence
        }
        if facts.synACKDelay == 0 && facts.respSentSYNACK && facts.origSentSYN {
            facts.synACKDelay = max(1, time.nanoseconds &- start.nanoseconds)   // the originator's SYN came first
        }
        // A SYN-ACK again after the originator acknowledged one (RFC 9293 §3.10.7.4: that ACK
        // should have moved the responder to ESTABLISHED).
        if flags.contains(.syn) && flags.contains(.ack) && side == .resp && retransmission
            && orig.hasAcked && orig.highestAck > resp.isn {
            let t = trail()
            t.trail.synACKsAfterHandshake += 1
            if t.trail.firstSYNACKAfterHandshake == nil { t.trail.firstSYNACKAfterHandshake = mark }
        }
        if flags.contains(.rst) {
            if let late = facts.lateRST, late.packetNumber == packetNumber, trailBox?.trail.rstAfterClose == nil {
                let t = trail()
                t.trail.rstAfterClose = mark
                if facts.lateRSTIntoTimeWait { t.trail.rstIntoTimeWait = side.other }
            }
            if let rst = facts.endingRST ?? facts.lateRST, rst.packetNumber == packetNumber,
               trailBox?.trail.beforeRSTTaken != true {
                let t = trail()
                t.trail.beforeRSTTaken = true
                let sender = side == .orig ? orig : resp
                t.trail.rstHopLimit = seg.hopLimit
                t.trail.senderHopLimit = sender.hopLimitVaries ? 0 : sender.hopLimit
                if previousNumber > 0 {
                    t.trail.beforeRST = EndingTrail.Mark(number: previousNumber, time: Timestamp(nanoseconds: previousTime),
                                                         from: facts.previousFrom, payloadLength: Int(facts.previousLength))
                    t.trail.silenceBeforeThat = facts.previousGap
                }
            }
            return
        }
        // New data from a side after its peer's FIN was captured (a request crossing the close,
        // or written after EOF).
        if seg.payloadLength > 0 && !retransmission && (side == .orig ? resp.fin : orig.fin) != .unsent
            && trailBox?.trail.dataAfterPeerFIN == nil {
            trail().trail.dataAfterPeerFIN = mark
        }
        if retransmission && !flags.contains(.syn) {
            trail().trail.retransmitted(mark, sequence: seg.sequenceNumber, peerPackets: peerPackets)
        }
        if seg.window == 0 {
            let t = trail()
            if t.trail.zeroWindow(of: side) == nil {
                let z = EndingTrail.ZeroWindow(since: mark, peerPacketsAtStart: peerPackets)
                if side == .orig { t.trail.origZeroWindow = z } else { t.trail.respZeroWindow = z }
                facts.zeroWindowHeld = true
            }
        } else if facts.zeroWindowHeld, let t = trailBox {
            if side == .orig { t.trail.origZeroWindow = nil } else { t.trail.respZeroWindow = nil }
            facts.zeroWindowHeld = t.trail.origZeroWindow != nil || t.trail.respZeroWindow != nil
        }
    }
}
