import TeardownModel
import TeardownWire

// The words of every diagnosis (`Diagnosis`): what happened, with the numbers measured, and
// what to change. The timeline prints them in its header, JSON writes them as `text` beside the
// code, the evidence and the confidence. docs/diagnoses.md gives each rule and its sources.

extension Diagnosis {
    /// The diagnosis in words.
    public var text: String { ByteCursor.string { write(to: &$0) } }

    /// Writes the diagnosis's words. They hold no quote, backslash or control character.
    func write(to c: inout ByteCursor) {
        switch finding {
        case let .keepaliveRace(closer, idle, requestBytes):
            c.write("the "); c.write(closer.roleText); c.write(" closed the connection after ")
            Diagnosis.writeSeconds(idle, &c)
            c.write(" idle (its FIN, packet "); c.writeInt(evidence.first ?? 0)
            c.write(") as the "); c.write(closer.other.roleText); c.write(" sent ")
            c.writeGrouped(UInt64(max(0, requestBytes)))
            c.write(" bytes of new data on it (packet "); c.writeInt(evidence.count > 1 ? evidence[1] : 0)
            c.write("); the "); c.write(closer.roleText); c.write("'s TCP answered with an RST (packet ")
            c.writeInt(evidence.last ?? 0)
            c.write("): the data is lost, and the "); c.write(closer.other.roleText)
            c.write(" sees ECONNRESET, or EOF and then EPIPE. ")
            Diagnosis.writeSeconds(idle, &c)
            if let known = Diagnosis.knownKeepAlive(idle) {
                c.write(" is close to the default keep-alive timeout of "); c.write(known)
            } else {
                c.write(" is the ")
                c.write(closer.roleText)
                c.write("'s keep-alive (idle) timeout")
            }
            c.write(": make the "); c.write(closer.other.roleText)
            c.write("'s pool retire idle connections sooner than that, or retry requests that are safe to retry")
        case let .idleTimeoutReset(resetter, silence, prompted, fromPath, probes):
            if prompted {
                c.write("the "); c.write(resetter.roleText); c.write("'s RST (packet "); c.writeInt(evidence.last ?? 0)
                c.write(") answered the "); c.write(resetter.other.roleText)
                if probes != nil {
                    c.write("'s keep-alive probe (packet "); c.writeInt(evidence.first ?? 0)
                    c.write("), its first segment after "); Diagnosis.writeSeconds(silence, &c)
                    c.write(" of silence")
                } else {
                    c.write("'s first segment after "); Diagnosis.writeSeconds(silence, &c)
                    c.write(" of silence (packet "); c.writeInt(evidence.first ?? 0); c.write(")")
                }
                c.write(": an idle timer had forgotten the connection")
            } else {
                c.write("the "); c.write(resetter.roleText); c.write(" sent an RST (packet "); c.writeInt(evidence.last ?? 0)
                c.write(") after "); Diagnosis.writeSeconds(silence, &c)
                c.write(" without a packet: an idle timer ended the connection")
            }
            if fromPath {
                c.write(", a NAT's, conntrack's or load balancer's between the two (AWS NLB 350 s, Azure 4 min, IPVS 900 s), which sent the RST itself (see middlebox-reset)")
            } else {
                c.write(", a NAT's, conntrack's or load balancer's between the two (AWS NLB 350 s, Azure 4 min, IPVS 900 s) or the ")
                c.write(resetter.roleText)
                c.write(" application's own; packets alone do not tell which sent the RST")
            }
            if let probes {
                c.write(". Keep-alive probes were seen (the "); c.write(probes.from.roleText); c.write("'s: ")
                c.writeInt(probes.count); c.write(", the first after "); Diagnosis.writeSeconds(probes.idle, &c)
                c.write(" idle")
                if probes.interval > 0 { c.write(", then every "); Diagnosis.writeSeconds(probes.interval, &c) }
                c.write("): probes every "); Diagnosis.writeSeconds(silence, &c)
                c.write(" did not keep the path's state; set TCP_KEEPIDLE and TCP_KEEPINTVL below that")
            } else {
                Diagnosis.writeNoProbes(&c)
            }
        case let .idleTimeoutDrop(sender, silence, segments, span, reset, keepAlive):
            c.write("the "); c.write(sender.roleText); c.write(" was silent for "); Diagnosis.writeSeconds(silence, &c)
            if keepAlive {
                c.write(", then sent "); c.writeInt(segments); c.write(segments == 1 ? " keep-alive probe" : " keep-alive probes")
                c.write(" (packets "); c.writeInt(evidence.first ?? 0); c.write("–"); c.writeInt(evidence.count > 1 ? evidence[1] : 0)
                c.write(") over "); Diagnosis.writeSeconds(span, &c)
                c.write(" and the "); c.write(sender.other.roleText); c.write(" answered none; then its TCP gave up and reset the connection (packet ")
                c.writeInt(evidence.last ?? 0); c.write(")")
            } else {
                c.write(", then sent again (packet "); c.writeInt(evidence.first ?? 0); c.write(") and the ")
                c.write(sender.other.roleText); c.write(" answered nothing: "); c.writeInt(segments)
                c.write(" transmissions of one segment, the last (packet "); c.writeInt(evidence.count > 1 ? evidence[1] : 0)
                c.write(") "); Diagnosis.writeSeconds(span, &c); c.write(" after the silence ended; then the ")
                c.write(sender.roleText)
                if reset {
                    c.write(" reset the connection (packet "); c.writeInt(evidence.last ?? 0); c.write(")")
                } else {
                    c.write(" sent nothing more")
                }
                c.write(" (see retransmission-give-up)")
            }
            c.write(": something on the path forgot the connection in the silence and drops what it no longer knows (conntrack's `ct state invalid drop`, a NAT mapping gone, a load balancer's idle timer), or the ")
            c.write(sender.other.roleText)
            c.write(" went away meanwhile; packets alone do not tell which")
            if keepAlive {
                c.write(". The probes found the connection gone, as they should, but came after ")
                Diagnosis.writeSeconds(silence, &c)
                c.write(" idle, too late to keep the path's state: set TCP_KEEPIDLE below the path's idle timer")
            } else {
                Diagnosis.writeNoProbes(&c)
            }
        case let .closeUnreadRequest(closer, unreadBytes, responseBytes, inFlight, kernelReason):
            c.write("the "); c.write(closer.roleText); c.write(" sent "); c.writeGrouped(responseBytes)
            c.write(" bytes (its response) and closed with ")
            if let unreadBytes {
                c.writeGrouped(unreadBytes); c.write(" bytes from the "); c.write(closer.other.roleText)
                c.write(kernelReason ? " unread (as its socket calls show, and the kernel's reason for the RST, TCP_ABORT_ON_CLOSE)"
                                     : " unread (as its socket calls show)")
            } else {
                c.write("data from the "); c.write(closer.other.roleText)
                c.write(" unread (the kernel's reason for the RST: TCP_ABORT_ON_CLOSE)")
            }
            c.write(", so its kernel sent an RST (packet "); c.writeInt(evidence.last ?? 0)
            c.write(") instead of a FIN: the "); c.write(closer.other.roleText)
            c.write("'s kernel discards what it has not yet read of the response")
            if let inFlight, inFlight > 0 {
                c.write(", and "); c.writeGrouped(inFlight); c.write(" of its bytes were still in flight")
            }
            c.write(" (RFC 9112 §9.6, the TCP reset problem). Read what the ")
            c.write(closer.other.roleText)
            c.write(" sent before closing, or close in two steps: shutdown(SHUT_WR), read until EOF, then close() (a lingering close, as Apache httpd and nginx do)")
        case let .closeWaitLeak(closer, silence, atEnd):
            c.write("the "); c.write(closer.roleText); c.write("'s FIN (packet "); c.writeInt(evidence.first ?? 0)
            c.write(") was acknowledged, and the "); c.write(closer.other.roleText)
            c.write(" sent nothing more and never closed for ")
            Diagnosis.writeSeconds(silence, &c)
            c.write(atEnd ? ", until the capture ended" : ", until the idle timeout reported it")
            c.write(": its socket sits in CLOSE-WAIT, which only the application's close() ends (a leaked socket: `ss -tan state close-wait` lists them). Close the socket when read() returns 0 (EOF), on every path, errors included")
        case let .middleboxReset(resetter, rstHopLimit, sideHopLimit, bytesAfter, notSentHere):
            c.write("the RST (packet "); c.writeInt(evidence.last ?? 0); c.write(") that claims to come from the ")
            c.write(resetter.roleText)
            if rstHopLimit == 0 && bytesAfter == 0 {
                c.write(" was not sent by it (the kernel lane traced the "); c.write(resetter.roleText)
                c.write("'s socket on this host, and no reset of this host accounts for it)")
            } else {
                c.write(" does not fit the "); c.write(resetter.roleText); c.write("'s own segments: ")
                if notSentHere {
                    c.write("the kernel lane traced its socket on this host, and no reset of this host accounts for it; ")
                }
            }
            if rstHopLimit != 0 {
                c.write("its TTL (hop limit) is "); c.writeInt(Int(rstHopLimit)); c.write(" where all the others had ")
                c.writeInt(Int(sideHopLimit)); c.write(" (it was sent from another distance)")
                if bytesAfter > 0 { c.write(", and ") }
            }
            if bytesAfter > 0 {
                c.write("the "); c.write(resetter.roleText); c.write(" sent "); c.writeGrouped(bytesAfter)
                c.write(" bytes after it, which a TCP that reset cannot")
            }
            c.write(": a firewall, load balancer, NAT or IDS between the two sent it (Weaver, Sommer and Paxson, NDSS 2009). Look on the path for the device that resets (its rules, its idle timeout, its logs); an IP ID of 0 alone proves nothing, as Linux's own socketless RSTs carry it")
        case let .zeroWindowAbort(receiver, resetter, duration, probes):
            c.write("the "); c.write(receiver.roleText); c.write(" advertised a zero window from packet ")
            c.writeInt(evidence.first ?? 0); c.write(" for "); Diagnosis.writeSeconds(duration, &c)
            c.write(" (its application stopped reading; the "); c.write(receiver.other.roleText)
            c.write(" sent "); c.writeInt(probes); c.write(probes == 1 ? " segment" : " segments")
            c.write(" into it), then ")
            if resetter == receiver {
                c.write("the "); c.write(resetter.roleText); c.write(" reset the connection itself (packet ")
                c.writeInt(evidence.last ?? 0)
                c.write("), closing with data unread: find why its application stopped reading (blocked, overloaded, or no longer servicing the socket)")
            } else {
                c.write("the "); c.write(resetter.roleText); c.write(" gave up and reset it (packet ")
                c.writeInt(evidence.last ?? 0)
                c.write("): find why the "); c.write(receiver.roleText)
                c.write("'s application stopped reading (blocked, overloaded, or no longer servicing the socket), or give the ")
                c.write(resetter.roleText); c.write(" a longer write timeout")
            }
        case let .peerRestarted(resetter, silence, bytes):
            c.write("a bare RST from the "); c.write(resetter.roleText); c.write(" (packet "); c.writeInt(evidence.last ?? 0)
            c.write("), which had sent no FIN, answered "); c.writeGrouped(UInt64(max(0, bytes)))
            c.write(" bytes from the "); c.write(resetter.other.roleText); c.write(" (packet "); c.writeInt(evidence.first ?? 0)
            c.write(", after "); Diagnosis.writeSeconds(silence, &c)
            c.write(" of silence): the "); c.write(resetter.roleText)
            c.write("'s TCP no longer knew the connection: its host or network namespace restarted, or the state was lost on the way (a NAT or load balancer that changed its mapping). The ")
            c.write(resetter.other.roleText)
            c.write(" sees ECONNRESET: reconnect, and retry what is safe to retry")
        case let .retransmissionGiveUp(sender, retransmissions, span, firstGap, lastGap, reset, timedOut):
            c.write("the "); c.write(sender.roleText); c.write(" sent one segment again ")
            c.writeInt(retransmissions); c.write(" times (packets "); c.writeInt(evidence.first ?? 0)
            c.write("–"); c.writeInt(evidence.count > 1 ? evidence[1] : 0); c.write(") over ")
            Diagnosis.writeSeconds(span, &c)
            c.write(", the gaps growing from "); Diagnosis.writeSeconds(firstGap, &c)
            c.write(" to "); Diagnosis.writeSeconds(lastGap, &c)
            c.write(", and the "); c.write(sender.other.roleText); c.write(" answered none of them; then the ")
            c.write(sender.roleText)
            if reset {
                c.write(" reset the connection (packet "); c.writeInt(evidence.last ?? 0); c.write(")")
            } else {
                c.write(" sent nothing more")
                if timedOut {
                    c.write(" (the kernel lane shows its socket closed with ETIMEDOUT: its TCP gave up)")
                }
            }
            c.write(": the "); c.write(sender.other.roleText)
            c.write(" or the path to it was gone (host down, a firewall dropping, a route lost). Linux gives up after net.ipv4.tcp_retries2 (15, about 15 minutes) or TCP_USER_TIMEOUT and reports ETIMEDOUT")
        case let .timeWaitRST(resetter, timeWaitSide):
            c.write("the "); c.write(resetter.roleText); c.write("'s RST (packet "); c.writeInt(evidence.last ?? 0)
            c.write(") ended the "); c.write(timeWaitSide.roleText)
            c.write("'s TIME-WAIT early (TIME-WAIT assassination, RFC 1337; Linux with net.ipv4.tcp_rfc1337=0): nothing of this connection was lost, but a new one on the same 4-tuple may now take its delayed segments; net.ipv4.tcp_rfc1337=1 makes TIME-WAIT ignore RSTs")
        case let .timeWaitSYN(previous, why):
            c.write("this connection's SYN (packet "); c.writeInt(evidence.first ?? 0)
            c.write(") reused the 4-tuple of connection "); c.writeInt(previous)
            c.write(" while it was in TIME-WAIT, accepted because its ")
            c.write(why == .newerTimestamp ? "timestamp was newer (RFC 6191)" : "sequence number was above the old connection's (RFC 9293 §3.10.7.4)")
            c.write(": the client reuses source ports within the TIME-WAIT period (60 s on Linux): a small ephemeral port range, or a fixed source port; old duplicates of the previous connection could reach this one")
        case let .harmlessReset(resetter, afterClose):
            c.write("the "); c.write(resetter.roleText); c.write("'s RST (packet "); c.writeInt(evidence.last ?? 0)
            if afterClose {
                c.write(") came after both FINs were acknowledged: the connection had closed and nothing was lost")
            } else {
                c.write(") came after its own FIN (packet "); c.writeInt(evidence.first ?? 0)
                c.write("), answering a segment without data, with every byte acknowledged both ways: nothing was lost")
            }
            c.write("; the RST is harmless (a late segment reached a socket already gone), no need to chase it")
        case let .listenOverflow(repeats):
            if repeats > 0 {
                c.write("the server sent its SYN-ACK again "); c.writeInt(repeats)
                c.write(repeats == 1 ? " time" : " times")
                c.write(" after the client had acknowledged it (from packet "); c.writeInt(evidence.first ?? 0)
                c.write("): the server's TCP did not take the handshake's last ACK, as Linux does when the listener's accept queue is full (or the ACK was lost after the capture point)")
            } else {
                c.write("the server answered the completed handshake with an RST (packet "); c.writeInt(evidence.last ?? 0)
                c.write("), having sent nothing but its SYN-ACK: Linux does so when the listener's accept queue is full and net.ipv4.tcp_abort_on_overflow=1")
            }
            c.write(". The application accepts too slowly: raise the listen() backlog and net.core.somaxconn, and watch TcpExtListenOverflows (nstat -az)")
        }
    }

    /// What to change when no keep-alive probe was seen in an idle timeout's silence.
    static func writeNoProbes(_ c: inout ByteCursor) {
        c.write(". No keep-alive probe was seen in the silence: enable TCP keep-alive (SO_KEEPALIVE, with TCP_KEEPIDLE and TCP_KEEPINTVL) shorter than the path's idle timer, or send application pings, or reconnect after idle periods")
    }

    /// `5.0 s`, `0.250 s`: one decimal from a second up, milliseconds below.
    static func writeSeconds(_ ns: Int64, _ c: inout ByteCursor) {
        c.writeSeconds(nanoseconds: ns, decimals: ns.magnitude >= 1_000_000_000 ? 1 : 3)
        c.write(" s")
    }

    /// The servers whose default keep-alive (idle) timeout is within 10 % of `idle`.
    static func knownKeepAlive(_ idle: Int64) -> StaticString? {
        let table: [(Int64, StaticString)] = [
            (2, "gunicorn (2 s)"),
            (5, "Node.js's http server and Apache httpd (5 s)"),
            (60, "AWS ALB (60 s)"),
            (75, "nginx (75 s)"),
        ]
        for (seconds, name) in table {
            let ns = seconds * 1_000_000_000
            if idle >= ns - ns / 10 && idle <= ns + ns / 10 { return name }
        }
        return nil
    }
}
