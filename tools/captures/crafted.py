#!/usr/bin/env python3
"""Hand-built pcaps for teardown paths that loopback cannot produce on demand.

    python3 tools/captures/crafted.py              # writes captures/crafted/*.pcap, checks them
    python3 tools/captures/crafted.py --markdown   # also prints the packet tables for the README

Every file is Ethernet + IPv4 (or IPv6) + TCP with correct IP and TCP checksums,
microsecond pcap, starting at 2025-01-01T00:00:00Z. Addresses are from the documentation
prefixes (RFC 5737 192.0.2.0/24 and 198.51.100.0/24, RFC 3849 2001:db8::/32); MACs are
locally administered. Hosts: client 192.0.2.10:40000, server 198.51.100.20:80.

Each scenario is a table, one row per packet:
    (from, flags, relative seq, relative ack, payload length, ms after previous, note)
Relative numbers are offsets from the sender's / the acknowledged side's ISN, exactly as
tcpdump and Wireshark show them; the script checks that tshark decodes the same flags,
relative seq/ack and lengths, with no malformed packets and every checksum good.
"""

from __future__ import annotations

import ipaddress
import os
import struct
import subprocess
import sys
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pcaplib as pl  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "captures", "crafted")

T0_NS = 1735689600 * 1_000_000_000  # 2025-01-01T00:00:00Z
MAC_C, MAC_S = bytes.fromhex("020000000a0a"), bytes.fromhex("020000001414")
IP4_C, IP4_S = "192.0.2.10", "198.51.100.20"
IP6_C, IP6_S = "2001:db8::10", "2001:db8:1::20"
CPORT, SPORT = 40000, 80

# SYN options: MSS 1460, SACK permitted, padded to 32-bit words (RFC 9293 3.2, RFC 2018)
SYN_OPTS = struct.pack("!BBH", 2, 4, 1460) + bytes([1, 1, 4, 2])
WINDOW = 65535  # no window scaling negotiated, so the window field is the window

FLAG_BITS = {"S": pl.TCP_SYN, "F": pl.TCP_FIN, "P": pl.TCP_PSH, "R": pl.TCP_RST,
             "U": pl.TCP_URG, ".": pl.TCP_ACK}


@dataclass
class Scenario:
    name: str
    title: str
    rows: list[tuple]
    c_isn: int = 1_000_000
    s_isn: int = 5_000_000
    v6: bool = False
    ext_headers: bool = False  # client->server packets carry hop-by-hop + destination options
    midstream: bool = False    # relative numbers are from the first seen seq (as tshark does)


def flags_of(s: str) -> int:
    v = 0
    for ch in s:
        v |= FLAG_BITS[ch]
    return v


def ipv6_ext_chain() -> tuple[int, bytes]:
    """Hop-by-Hop options (RFC 8200 4.3) then Destination Options (4.6), each 8 bytes:
    next header, hdr ext len 0, and one PadN option (type 1, length 4, 4 zero bytes)."""
    padn = bytes([1, 4, 0, 0, 0, 0])
    hbh = bytes([60, 0]) + padn       # next: destination options
    dst = bytes([6, 0]) + padn        # next: TCP
    return 0, hbh + dst               # IPv6 next header = 0 (hop-by-hop)


def build(sc: Scenario) -> list[pl.Record]:
    recs: list[pl.Record] = []
    t = T0_NS
    ident = {"c": 0x1000, "s": 0x2000}
    isn = {"c": sc.c_isn, "s": sc.s_isn}
    other = {"c": "s", "s": "c"}
    for row in sc.rows:
        side, fl, rseq, rack, length, dt_ms, _note = row[:7]
        seg_isn = row[7] if len(row) > 7 else None  # a second connection's ISNs (syn-reuse)
        isns = seg_isn or isn
        t += int(dt_ms * 1_000_000)
        f = flags_of(fl)
        seq = (isns[side] + rseq) & 0xFFFFFFFF
        ack = (isns[other[side]] + rack) & 0xFFFFFFFF if f & pl.TCP_ACK else 0
        opts = SYN_OPTS if f & pl.TCP_SYN else b""
        payload = bytes((0x41 + (rseq + i) % 26) for i in range(length))  # A..Z by seq
        src_mac, dst_mac = (MAC_C, MAC_S) if side == "c" else (MAC_S, MAC_C)
        if sc.v6:
            src = ipaddress.IPv6Address(IP6_C if side == "c" else IP6_S).packed
            dst = ipaddress.IPv6Address(IP6_S if side == "c" else IP6_C).packed
        else:
            src = ipaddress.IPv4Address(IP4_C if side == "c" else IP4_S).packed
            dst = ipaddress.IPv4Address(IP4_S if side == "c" else IP4_C).packed
        sport, dport = (CPORT, SPORT) if side == "c" else (SPORT, CPORT)
        win = 0 if (f & pl.TCP_RST and not f & pl.TCP_ACK) else WINDOW
        tcp = pl.tcp_segment(src, dst, sport, dport, seq, ack, f, win, payload, opts)
        if sc.v6:
            nh, ext = ipv6_ext_chain() if (sc.ext_headers and side == "c") else (6, b"")
            ip = struct.pack("!IHBB16s16s", 0x60000000, len(ext) + len(tcp), nh, 64, src, dst)
            frame = pl.ethernet(dst_mac, src_mac, pl.ETH_IPV6, ip + ext + tcp)
        else:
            ip = pl.ipv4_header(src, dst, 6, len(tcp), ident=ident[side])
            ident[side] += 1
            frame = pl.ethernet(dst_mac, src_mac, pl.ETH_IPV4, ip + tcp)
        recs.append(pl.Record(t, len(frame), frame))
    return recs


# ------------------------------------------------------------------ the scenarios

def handshake_and_exchange(req: int = 100, resp: int = 200) -> list[tuple]:
    return [
        ("c", "S", 0, 0, 0, 0, "client SYN (SYN-SENT)"),
        ("s", "S.", 0, 1, 0, 0.05, "server SYN-ACK (SYN-RECEIVED)"),
        ("c", ".", 1, 1, 0, 0.05, "client ACK: both ESTABLISHED"),
        ("c", "P.", 1, 1, req, 0.2, f"request, {req} bytes"),
        ("s", ".", 1, 1 + req, 0, 0.05, "server ACKs the request"),
        ("s", "P.", 1, 1 + req, resp, 1, f"response, {resp} bytes"),
        ("c", ".", 1 + req, 1 + resp, 0, 0.05, "client ACKs the response"),
    ]


H = handshake_and_exchange()  # client next seq 101, server next seq 201

SCENARIOS = [
    Scenario("simultaneous-close", "Both sides close at once: the FINs cross, both go "
             "FIN-WAIT-1 -> CLOSING -> TIME-WAIT (RFC 9293 3.6, case 3).", H + [
                 ("c", "F.", 101, 201, 0, 10, "client FIN (FIN-WAIT-1)"),
                 ("s", "F.", 201, 101, 0, 0.01, "server FIN sent before the client's arrived "
                  "(FIN-WAIT-1); it does not ack the client's FIN"),
                 ("c", ".", 102, 202, 0, 0.05, "client ACKs the server's FIN (CLOSING)"),
                 ("s", ".", 202, 102, 0, 0.01, "server ACKs the client's FIN (CLOSING); "
                  "each ACK then moves its receiver to TIME-WAIT"),
             ]),
    Scenario("fin-retransmit", "The client's FIN is lost twice: sent, retransmitted at +200 ms "
             "and +600 ms (RTO backoff), then acknowledged; normal close follows.", H + [
                 ("c", "F.", 101, 201, 0, 10, "client FIN (FIN-WAIT-1)"),
                 ("c", "F.", 101, 201, 0, 200, "FIN retransmission #1 (same seq)"),
                 ("c", "F.", 101, 201, 0, 400, "FIN retransmission #2"),
                 ("s", ".", 201, 102, 0, 0.05, "server ACKs the FIN (CLOSE-WAIT); client "
                  "FIN-WAIT-2"),
                 ("s", "F.", 201, 102, 0, 5, "server FIN (LAST-ACK)"),
                 ("c", ".", 102, 202, 0, 0.05, "client ACK (TIME-WAIT); server CLOSED"),
             ]),
    Scenario("fin-with-data", "The server's FIN rides on the segment carrying its last 100 "
             "bytes ([FP.]); the client acks data and FIN at once, then closes.",
             H[:5] + [
                 ("s", ".", 1, 101, 1000, 1, "response part 1, 1000 bytes"),
                 ("s", "FP.", 1001, 101, 100, 0.01, "last 100 bytes + FIN (FIN-WAIT-1)"),
                 ("c", ".", 101, 1102, 0, 0.05, "client ACKs 1100 bytes + FIN (CLOSE-WAIT); "
                  "server FIN-WAIT-2"),
                 ("c", "F.", 101, 1102, 0, 2, "client FIN (LAST-ACK)"),
                 ("s", ".", 1102, 102, 0, 0.05, "server ACK (TIME-WAIT); client CLOSED"),
             ]),
    Scenario("fin-rst", "A single segment with FIN, RST and ACK set ([FR.]) ends an open "
             "connection; RST wins (RFC 9293 3.10.7.4: the RST is checked before the FIN).",
             H + [
                 ("c", "FR.", 101, 201, 0, 10, "client FIN+RST+ACK, exact seq: connection "
                  "aborted, nothing follows"),
             ]),
    Scenario("rst-in-time-wait", "Graceful close (client first, so the client ends in "
             "TIME-WAIT), then 1 s later a bare RST from the server side hits the TIME-WAIT "
             "socket (RFC 1337 TIME-WAIT assassination; Linux accepts it unless "
             "net.ipv4.tcp_rfc1337=1).", H + [
                 ("c", "F.", 101, 201, 0, 10, "client FIN (FIN-WAIT-1)"),
                 ("s", "F.", 201, 102, 0, 0.05, "server ACK+FIN in one segment (LAST-ACK); "
                  "client FIN-WAIT-1 -> TIME-WAIT"),
                 ("c", ".", 102, 202, 0, 0.05, "client ACK (TIME-WAIT); server CLOSED"),
                 ("s", "R", 202, 0, 0, 1000, "bare RST, seq = client's rcv_nxt: the "
                  "TIME-WAIT socket is killed"),
             ]),
    Scenario("rst-out-of-window", "An RST whose seq is 2^30 beyond the receiver's window is "
             "ignored (RFC 5961 3.2: silently dropped); the connection carries on and closes "
             "gracefully.", H + [
                 ("s", "R.", 201 + (1 << 30), 101, 0, 10, "RST with seq far outside the "
                  "window: dropped, no reply"),
                 ("c", "P.", 101, 201, 50, 5, "client sends 50 more bytes"),
                 ("s", ".", 201, 151, 0, 0.05, "server ACKs: still ESTABLISHED"),
                 ("c", "F.", 151, 201, 0, 2, "client FIN (FIN-WAIT-1)"),
                 ("s", "F.", 201, 152, 0, 0.05, "server ACK+FIN (LAST-ACK)"),
                 ("c", ".", 152, 202, 0, 0.05, "client ACK (TIME-WAIT)"),
             ]),
    Scenario("rst-in-window", "An RST inside the window but not at rcv_nxt draws a challenge "
             "ACK (RFC 5961 3.2); the real server never reset, so the connection continues and "
             "closes gracefully.", H + [
                 ("s", "R.", 1201, 101, 0, 10, "RST seq = rcv_nxt + 1000: in window, not "
                  "exact"),
                 ("c", ".", 101, 201, 0, 0.05, "client challenge ACK (seq/ack unchanged)"),
                 ("s", "P.", 201, 101, 100, 1, "server sends 100 more bytes: it is alive"),
                 ("c", ".", 101, 301, 0, 0.05, "client ACK"),
                 ("c", "F.", 101, 301, 0, 2, "client FIN (FIN-WAIT-1)"),
                 ("s", "F.", 301, 102, 0, 0.05, "server ACK+FIN (LAST-ACK)"),
                 ("c", ".", 102, 302, 0, 0.05, "client ACK (TIME-WAIT)"),
             ]),
    Scenario("syn-reuse", "A complete connection (client closes first), then 2 s later a new "
             "SYN on the same 4-tuple with a higher ISN starts a second complete connection "
             "(server closes first). Two records expected.", H + [
                 ("c", "F.", 101, 201, 0, 10, "client FIN (FIN-WAIT-1)"),
                 ("s", "F.", 201, 102, 0, 0.05, "server ACK+FIN (LAST-ACK)"),
                 ("c", ".", 102, 202, 0, 0.05, "client ACK (TIME-WAIT): connection 1 done"),
             ] + [r + ({"c": 1_900_000, "s": 7_000_000},) for r in [
                      ("c", "S", 0, 0, 0, 2000, "2 s later: new SYN, same 4-tuple, ISN "
                       "1900000 > the old connection's (connection 2)")]
                  + handshake_and_exchange(40, 60)[1:] + [
                      ("s", "F.", 61, 41, 0, 10, "connection 2: server FIN first (FIN-WAIT-1)"),
                      ("c", ".", 41, 62, 0, 0.05, "client ACK (CLOSE-WAIT)"),
                      ("c", "F.", 41, 62, 0, 3, "client FIN (LAST-ACK)"),
                      ("s", ".", 62, 42, 0, 0.05, "server ACK (TIME-WAIT)"),
                  ]]),
    Scenario("midstream", "Capture starts in the middle of a connection: data segments, no "
             "handshake, then a graceful close (client FIN first).", [
                 ("c", "P.", 1, 1, 300, 0, "first packet seen: client data (relative 1 = "
                  "first seen seq)"),
                 ("s", ".", 1, 301, 0, 0.05, "server ACK"),
                 ("s", "P.", 1, 301, 500, 1, "server data"),
                 ("c", ".", 301, 501, 0, 0.05, "client ACK"),
                 ("c", "F.", 301, 501, 0, 10, "client FIN"),
                 ("s", "F.", 501, 302, 0, 0.05, "server ACK+FIN"),
                 ("c", ".", 302, 502, 0, 0.05, "client ACK"),
             ], c_isn=123_456_789 - 1, s_isn=987_654_321 - 1, midstream=True),
    Scenario("seq-wrap", "ISNs just below 2^32 (client 0xfffffc00, server 0xffffff00): both "
             "sequence spaces wrap through 0 during the data phase; graceful close.", [
                 ("c", "S", 0, 0, 0, 0, "client SYN, ISN 0xfffffc00"),
                 ("s", "S.", 0, 1, 0, 0.05, "server SYN-ACK, ISN 0xffffff00"),
                 ("c", ".", 1, 1, 0, 0.05, "ACK"),
                 ("c", ".", 1, 1, 1000, 0.2, "client data 1..1000: raw seq 0xfffffc01.."),
                 ("c", "P.", 1001, 1, 1000, 0.01, "client data 1001..2000: wraps (raw "
                  "0xffffffe9 -> 0x000003d0)"),
                 ("s", ".", 1, 2001, 0, 0.05, "server ACK, raw ack 0x000003d1"),
                 ("s", "P.", 1, 2001, 1000, 1, "server data: raw seq 0xffffff01, wraps inside "
                  "the segment"),
                 ("c", ".", 2001, 1001, 0, 0.05, "client ACK"),
                 ("c", "F.", 2001, 1001, 0, 10, "client FIN"),
                 ("s", "F.", 1001, 2002, 0, 0.05, "server ACK+FIN"),
                 ("c", ".", 2002, 1002, 0, 0.05, "client ACK (TIME-WAIT)"),
             ], c_isn=0xFFFFFC00, s_isn=0xFFFFFF00),
    Scenario("unanswered", "A SYN and 3 retransmissions (1 s, 2 s, 4 s backoff), never "
             "answered (a filtered port).", [
                 ("c", "S", 0, 0, 0, 0, "SYN"),
                 ("c", "S", 0, 0, 0, 1000, "retransmission #1 (+1 s)"),
                 ("c", "S", 0, 0, 0, 2000, "retransmission #2 (+2 s)"),
                 ("c", "S", 0, 0, 0, 4000, "retransmission #3 (+4 s)"),
             ]),
    Scenario("refused-retry", "A SYN refused with RST-ACK, then the same SYN (same ISN) "
             "sent again twice, refused each time. The server is CLOSED after each refusal, so "
             "each SYN is a new attempt: three refused connections, and three REJ lines to Zeek "
             "(IsReuse: once a connection was reset, any SYN starts a new one). The repeated ISN "
             "says the client's TCP retransmitted its SYN, so the RST had not reached it: a client "
             "in SYN-SENT accepts an RST that acknowledges its SYN and closes (RFC 9293 3.10.7.3), "
             "and a new connect() picks a new ISN.", [
                 ("c", "S", 0, 0, 0, 0, "SYN"),
                 ("s", "R.", 1, 1, 0, 0.05, "RST-ACK: refused"),
                 ("c", "S", 0, 0, 0, 1000, "the same SYN again, 1 s later"),
                 ("s", "R.", 1, 1, 0, 0.05, "refused again"),
                 ("c", "S", 0, 0, 0, 3000, "and again, 3 s later"),
                 ("s", "R.", 1, 1, 0, 0.05, "refused"),
             ]),
    Scenario("late-fin", "Graceful close (client first), then 8 s later the server "
             "retransmits its FIN (as if the last ACK was lost) and the client, in TIME-WAIT, "
             "acknowledges it again. Zeek lets a closed connection go 5 s after its last "
             "packet (tcp_close_delay), so the late pair is a second Zeek connection, oriented "
             "by the server's port (^).", H + [
                 ("c", "F.", 101, 201, 0, 10, "client FIN (FIN-WAIT-1)"),
                 ("s", "F.", 201, 102, 0, 0.05, "server ACK+FIN (LAST-ACK)"),
                 ("c", ".", 102, 202, 0, 0.05, "client ACK (TIME-WAIT)"),
                 ("s", "F.", 201, 102, 0, 8000, "8 s later: the server's FIN again"),
                 ("c", ".", 102, 202, 0, 0.05, "TIME-WAIT acknowledges it again"),
             ]),
    Scenario("one-sided-client", "Only the client's direction of a graceful close (a span port "
             "on the client's side, asymmetric routing): the client acknowledges the server's "
             "SYN-ACK, its 200 bytes and its FIN, none of which were captured. The client closes "
             "first; its last ACK moves by one, the server's FIN.", [
                 ("c", "S", 0, 0, 0, 0, "client SYN"),
                 ("c", ".", 1, 1, 0, 0.1, "client ACK of the SYN-ACK (not captured)"),
                 ("c", "P.", 1, 1, 100, 0.2, "request, 100 bytes"),
                 ("c", ".", 101, 201, 0, 1.1, "client ACKs the 200-byte response (not captured)"),
                 ("c", "F.", 101, 201, 0, 10, "client FIN"),
                 ("c", ".", 102, 202, 0, 0.1, "client ACKs the server's FIN (not captured)"),
             ]),
    Scenario("one-sided-server", "Only the server's direction: its SYN-ACK, its ACK of the "
             "request, the response, then the server closes first and acknowledges the "
             "client's FIN (the client's packets were not captured).", [
                 ("s", "S.", 0, 1, 0, 0, "server SYN-ACK"),
                 ("s", ".", 1, 101, 0, 0.3, "server ACKs the 100-byte request (not captured)"),
                 ("s", "P.", 1, 101, 200, 1, "response, 200 bytes"),
                 ("s", "F.", 201, 101, 0, 10, "server FIN"),
                 ("s", ".", 202, 102, 0, 0.1, "server ACKs the client's FIN (not captured)"),
             ]),
    Scenario("one-sided-fin", "Only the client's direction, ending with the client's FIN: "
             "whether the server closed is not in the capture.", [
                 ("c", "S", 0, 0, 0, 0, "client SYN"),
                 ("c", ".", 1, 1, 0, 0.1, "client ACK of the SYN-ACK (not captured)"),
                 ("c", "P.", 1, 1, 100, 0.2, "request, 100 bytes"),
                 ("c", ".", 101, 201, 0, 1.1, "client ACKs the response (not captured)"),
                 ("c", "F.", 101, 201, 0, 10, "client FIN; nothing after it"),
             ]),
    Scenario("one-sided-rst", "Only the client's direction, ending with the client's RST "
             "(an abort while the response was still arriving).", [
                 ("c", "S", 0, 0, 0, 0, "client SYN"),
                 ("c", ".", 1, 1, 0, 0.1, "client ACK of the SYN-ACK (not captured)"),
                 ("c", "P.", 1, 1, 100, 0.2, "request, 100 bytes"),
                 ("c", ".", 101, 1001, 0, 1.1, "client ACKs 1000 bytes of the response (not captured)"),
                 ("c", "R.", 101, 1001, 0, 5, "client RST with ACK: it aborted"),
             ]),
    Scenario("syn-fin", "A single SYN+FIN probe ([SF], scanner style). Linux discards SYN+FIN "
             "in LISTEN, so no answer.", [
                 ("c", "SF", 0, 0, 0, 0, "SYN+FIN, no reply"),
             ]),
    Scenario("mixed-ipv6-ext", "IPv6 graceful close in which every client->server packet "
             "carries a Hop-by-Hop and a Destination Options header (PadN) before TCP.", H + [
                 ("c", "F.", 101, 201, 0, 10, "client FIN (FIN-WAIT-1)"),
                 ("s", ".", 201, 102, 0, 0.05, "server ACK (CLOSE-WAIT)"),
                 ("s", "F.", 201, 102, 0, 2, "server FIN (LAST-ACK)"),
                 ("c", ".", 102, 202, 0, 0.05, "client ACK (TIME-WAIT)"),
             ], v6=True, ext_headers=True),
]


# ------------------------------------------------------------------ checking with tshark

def tshark(path: str, *fields: str) -> list[list[str]]:
    cmd = ["tshark", "-r", path, "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE",
           "-o", "tcp.relative_sequence_numbers:TRUE", "-T", "fields"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines()]


def check(sc: Scenario, path: str) -> None:
    rows = tshark(path, "tcp.flags", "tcp.seq", "tcp.ack", "tcp.len", "tcp.checksum.status",
                  "ip.checksum.status", "_ws.malformed", "_ws.expert.severity")
    assert len(rows) == len(sc.rows), (sc.name, len(rows))
    for i, (got, want) in enumerate(zip(rows, sc.rows), 1):
        fl, seq, ack, ln, tcs, ics, malformed, _ = got
        side, wfl, wseq, wack, wlen = want[:5]
        wflags = flags_of(wfl)
        problems = []
        if int(fl, 16) != wflags:
            problems.append(f"flags {fl} != {wflags:#x}")
        if int(seq) != wseq:
            problems.append(f"seq {seq} != {wseq}")
        if wflags & pl.TCP_ACK and int(ack) != wack:
            problems.append(f"ack {ack} != {wack}")
        if int(ln) != wlen:
            problems.append(f"len {ln} != {wlen}")
        if malformed:
            problems.append("malformed")
        if problems:
            raise SystemExit(f"!!! {sc.name} packet {i}: {problems}")
    # checksum status: PROTO_CHECKSUM_E_GOOD is 1 in Wireshark's expert API
    bad = [i for i, r in enumerate(rows, 1) if r[4] != "1" or (not sc.v6 and r[5] != "1")]
    if bad:
        raise SystemExit(f"!!! {sc.name}: checksum not good in packets {bad}: {rows}")


def markdown(sc: Scenario) -> str:
    out = [f"#### crafted/{sc.name}.pcap\n", sc.title + "\n", "| # | dir | flags | seq | ack | len | note |",
           "|---|---|---|---|---|---|---|"]
    for i, r in enumerate(sc.rows, 1):
        side, fl, seq, ack, ln, _, note = r[:7]
        arrow = "C→S" if side == "c" else "S→C"
        out.append(f"| {i} | {arrow} | [{fl}] | {seq} | {ack if '.' in fl else ''} | {ln} | {note} |")
    return "\n".join(out) + "\n"


def main() -> int:
    os.makedirs(OUT, exist_ok=True)
    md = "--markdown" in sys.argv
    for sc in SCENARIOS:
        path = os.path.join(OUT, f"{sc.name}.pcap")
        pl.write_pcap(path, pl.LINKTYPE_ETHERNET, build(sc), nanosecond=False, snaplen=65535)
        check(sc, path)
        print(f"ok  captures/crafted/{sc.name}.pcap  {len(sc.rows)} packets, tshark agrees, "
              "checksums good", file=sys.stderr)
        if md:
            print(markdown(sc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
