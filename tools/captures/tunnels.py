#!/usr/bin/env python3
"""Wrap the real recordings' packets in every tunnel teardown opens.

    python3 tools/captures/tunnels.py        # needs tshark; no root needed

captures/tunnels/NAME.pcap holds the packets of real/graceful-client-close.pcap (IPv4) or
real/ipv6-graceful.pcap (IPv6), at their own times, each inner IP packet (or, for the tunnels
that carry Ethernet, the whole frame) wrapped in one encapsulation, both directions: the
client's packets from the tunnel endpoint A to B, the server's from B to A. Outer Ethernet
02:00:00:00:00:0a/0b, outer addresses 192.0.2.1 (A) and 198.51.100.1 (B), or 2001:db8::a and
2001:db8::b (RFC 5737, RFC 3849 documentation addresses). Outer IPv4 header checksums, UDP
checksums and GRE checksums are correct.

The script requires tshark's TCP rows (flags, raw seq, length) for each file to equal the
source recording's: tshark opens each of these by default (GRE and its protocol types, IP in
IP, AH, and the UDP tunnels on their registered ports), no decode-as needed; for CAPWAP's
native 802.11 frames it is told not to swap their frame control bytes (TSHARK_OPTIONS).

Two more files hold what must not decode whole:

  nested       the IPv4 conversation in plain GRE, plus a copy of its packet 3 (a pure ACK)
               nested in 40 GRE headers and one nested in 12 Teredo layers (an IPv6 ACK in UDP
               3544 in IPv6 in UDP 3544 ...): teardown warns about those two packets and reports
               the conversation whole; their flags add nothing to the SYN/FIN/RST counts
  same-tuple   the IPv4 conversation twice at once, in VXLAN VNI 100 and VNI 200 between the
               same endpoints: the same inner 4-tuple, two connections
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pcaplib as pl  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
REAL = os.path.join(REPO, "captures", "real")
OUT = os.path.join(REPO, "captures", "tunnels")
V4_SRC = os.path.join(REAL, "graceful-client-close.pcap")
V6_SRC = os.path.join(REAL, "ipv6-graceful.pcap")

ETH = 14
MAC_A = bytes.fromhex("02000000000a")
MAC_B = bytes.fromhex("02000000000b")
V4_A, V4_B = bytes([192, 0, 2, 1]), bytes([198, 51, 100, 1])
V6_A = bytes.fromhex("20010db800000000000000000000000a")
V6_B = bytes.fromhex("20010db800000000000000000000000b")

IPPROTO_IPIP, IPPROTO_UDP, IPPROTO_IPV6, IPPROTO_GRE, IPPROTO_AH = 4, 17, 41, 47, 51


# ------------------------------------------------------------------ outer layers

def ipv4(src: bytes, dst: bytes, proto: int, payload: bytes, ident: int) -> bytes:
    return pl.ipv4_header(src, dst, proto, len(payload), ident=ident) + payload


def ipv6(src: bytes, dst: bytes, nh: int, payload: bytes) -> bytes:
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, 64, src, dst) + payload


def udp(src: bytes, dst: bytes, sport: int, dport: int, payload: bytes) -> bytes:
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    if len(src) == 4:
        pseudo = struct.pack("!4s4sBBH", src, dst, 0, IPPROTO_UDP, len(seg))
    else:
        pseudo = struct.pack("!16s16sIxxxB", src, dst, len(seg), IPPROTO_UDP)
    csum = pl.inet_checksum(pseudo + seg) or 0xFFFF
    return seg[:6] + struct.pack("!H", csum) + seg[8:]


def gre(proto: int, payload: bytes, *, key: int | None = None, seq: int | None = None,
        checksum: bool = False) -> bytes:
    """RFC 2784 / RFC 2890 version 0."""
    flags = (0x8000 if checksum else 0) | (0x2000 if key is not None else 0) | (0x1000 if seq is not None else 0)
    opt = b""
    if checksum:
        opt += b"\0\0\0\0"
    if key is not None:
        opt += struct.pack("!I", key)
    if seq is not None:
        opt += struct.pack("!I", seq)
    hdr = struct.pack("!HH", flags, proto) + opt
    if checksum:
        c = pl.inet_checksum(hdr + payload)
        hdr = hdr[:4] + struct.pack("!H", c) + hdr[6:]
    return hdr + payload


def pptp_gre(call_id: int, seq: int, ppp: bytes) -> bytes:
    """RFC 2637 §4.1: K and S set, version 1, protocol 0x880B, key = payload length + call ID."""
    return struct.pack("!HHHHI", 0x3001, 0x880B, len(ppp), call_id, seq) + ppp


def frame(src_mac: bytes, dst_mac: bytes, ethertype: int, payload: bytes) -> bytes:
    return dst_mac + src_mac + struct.pack("!H", ethertype) + payload


# ------------------------------------------------------------------ the source packets

class Inner:
    def __init__(self, rec: pl.Record, from_client: bool):
        self.rec = rec
        self.from_client = from_client
        self.frame = rec.data          # the loopback Ethernet frame
        self.ip = rec.data[ETH:]       # the IP packet


def inner(src: str) -> list[Inner]:
    recs = pl.read_pcap(src).records
    first = recs[0].data[ETH:]
    v6 = first[0] >> 4 == 6
    client_port = struct.unpack("!H", first[(40 if v6 else (first[0] & 0x0F) * 4):][:2])[0]
    out = []
    for r in recs:
        ip = r.data[ETH:]
        off = 40 if v6 else (ip[0] & 0x0F) * 4
        out.append(Inner(r, struct.unpack("!H", ip[off:off + 2])[0] == client_port))
    return out


def wrap(packets: list[Inner], make, *, v6_outer: bool = False) -> list[pl.Record]:
    """Each packet through `make(p, i, src, dst) -> (ip proto, payload)` in an outer IP packet."""
    out = []
    for i, p in enumerate(packets):
        a, b = (V6_A, V6_B) if v6_outer else (V4_A, V4_B)
        src, dst = (a, b) if p.from_client else (b, a)
        smac, dmac = (MAC_A, MAC_B) if p.from_client else (MAC_B, MAC_A)
        proto, payload = make(p, i, src, dst)
        if v6_outer:
            data = frame(smac, dmac, pl.ETH_IPV6, ipv6(src, dst, proto, payload))
        else:
            data = frame(smac, dmac, pl.ETH_IPV4, ipv4(src, dst, proto, payload, 0x2000 + i))
        out.append(pl.Record(p.rec.ts_ns, len(data), data))
    return out


def ether_type(p: Inner) -> int:
    return pl.ETH_IPV6 if p.ip[0] >> 4 == 6 else pl.ETH_IPV4


def udp_tunnel(port: int, body, *, symmetric: bool = False, client_port: int = 49152):
    """UDP to `port` from the client side's `client_port`, and back from `port`; both ports are
    `port` when `symmetric` (GTP-U)."""
    def make(p: Inner, i: int, src: bytes, dst: bytes):
        if symmetric:
            sport = dport = port
        elif p.from_client:
            sport, dport = client_port, port
        else:
            sport, dport = port, client_port
        return IPPROTO_UDP, udp(src, dst, sport, dport, body(p, i))
    return make


def vxlan(vni: int):
    return lambda p, i: struct.pack("!B3xI", 0x08, vni << 8) + p.frame


def geneve(vni: int):
    # One option (class 0x0103, type 0x80, 4 bytes of data), so the options are skipped by length.
    option = struct.pack("!HBB", 0x0103, 0x80, 1) + b"\x01\x02\x03\x04"
    return lambda p, i: struct.pack("!BBHI", len(option) // 4, 0, 0x6558, vni << 8) + option + p.frame


def gtpu(p: Inner, i: int) -> bytes:
    teid = 0x00C0FFEE if p.from_client else 0x00BEEF01
    if p.from_client:
        # E set: sequence number, N-PDU number, then a PDU session container (0x85) of 4 bytes.
        ext = bytes([1, 0x10, 0x09, 0])
        body = struct.pack("!HBB", i, 0, 0x85) + ext + p.ip
        return struct.pack("!BBHI", 0x34, 0xFF, len(body), teid) + body
    return struct.pack("!BBHI", 0x30, 0xFF, len(p.ip), teid) + p.ip


def capwap(p: Inner, i: int) -> bytes:
    # Preamble 0; HLEN 2 words, RID 1, WBID 1 (802.11), T clear: an IEEE 802.3 frame follows.
    word = (2 << 19) | (1 << 14) | (1 << 9)
    return struct.pack("!IHH", word, 0, 0) + p.frame


MAC_STA = bytes.fromhex("02000000001a")     # the wireless client
MAC_BSSID = bytes.fromhex("02000000001b")   # the access point's radio (BSSID)
MAC_GW = bytes.fromhex("02000000001c")      # the router beyond the access controller


def wlan_data(p: Inner, i: int) -> bytes:
    """The IP packet as the 802.11 data frame that carried it (IEEE 802.11-2020 §9.3.2.1),
    without FCS, its body behind LLC/SNAP (RFC 1042): the client's packets as QoS data to the
    distribution system (ToDS: BSSID, STA, destination; QoS control TID 0), the server's as
    plain data from it (FromDS: STA, BSSID, source). Multi-byte fields are little-endian."""
    seq_ctrl = struct.pack("<H", (i & 0xFFF) << 4)
    if p.from_client:
        hdr = bytes([0x88, 0x01]) + struct.pack("<H", 44) + MAC_BSSID + MAC_STA + MAC_GW + seq_ctrl + b"\0\0"
    else:
        hdr = bytes([0x08, 0x02]) + struct.pack("<H", 44) + MAC_STA + MAC_BSSID + MAC_GW + seq_ctrl
    return hdr + b"\xaa\xaa\x03\0\0\0" + struct.pack("!H", ether_type(p)) + p.ip


def capwap_80211(p: Inner, i: int) -> bytes:
    """CAPWAP data with T set and WBID 1: a native IEEE 802.11 frame (RFC 5415 §4.3, RFC 5416).
    The client's packets (WTP to AC) also carry the optional Radio MAC Address (M: length 6,
    the BSSID) and Wireless Specific Information (W: length 4, RFC 5416's IEEE 802.11 Frame
    Info: RSSI -60 dBm, SNR 30 dB, data rate 54 Mbps in 0.1 Mbps), each padded to 4 bytes and
    counted in HLEN (6 words); the server's carry neither (HLEN 2)."""
    t_bit, w_bit, m_bit = 1 << 8, 1 << 5, 1 << 4
    if p.from_client:
        radio_mac = bytes([6]) + MAC_BSSID + b"\0"
        wsi = bytes([4]) + struct.pack("!bBH", -60, 30, 540) + b"\0\0\0"
        word = (6 << 19) | (1 << 14) | (1 << 9) | t_bit | w_bit | m_bit
        head = struct.pack("!IHH", word, 0, 0) + radio_mac + wsi
    else:
        head = struct.pack("!IHH", (2 << 19) | (1 << 14) | (1 << 9) | t_bit, 0, 0)
    return head + wlan_data(p, i)


def teredo(p: Inner, i: int) -> bytes:
    head = b""
    if i == 0:
        # Authentication indicator: no client ID, no value, an 8-byte nonce, confirmation 0.
        head += struct.pack("!HBB", 1, 0, 0) + bytes(range(8)) + b"\0"
    if not p.from_client:
        # Origin indication (the client's mapped port and address, obfuscated).
        head += struct.pack("!HH4s", 0, 49152 ^ 0xFFFF, bytes(x ^ 0xFF for x in V4_A))
    return head + p.ip


def ayiya(p: Inner, i: int) -> bytes:
    # Identity: 16 bytes (2^4), type 1; signature 5 words (SHA-1), hash 2; auth 2, op 1 (forward).
    identity = bytes.fromhex("20010db8000000000000000000000001")
    nh = IPPROTO_IPV6 if p.ip[0] >> 4 == 6 else IPPROTO_IPIP
    return struct.pack("!BBBBI", 0x41, 0x52, 0x21, nh, 1_700_000_000 + i) + identity + bytes(20) + p.ip


def erspan2(p: Inner, i: int) -> bytes:
    hdr = struct.pack("!HHI", (1 << 12) | 10, 0x0000 | 42, 7)       # version 1, VLAN 10, session 42, index 7
    return gre(0x88BE, hdr + p.frame, seq=i)


def erspan3(p: Inner, i: int) -> bytes:
    # Version 2, VLAN 10; session 43; timestamp; SGT; frame type 0 (Ethernet), hardware ID 1, O set
    # on the client's packets, with an 8-byte platform-specific subheader (platform 3).
    opt = p.from_client
    flags = (1 << 4) | (1 if opt else 0)
    hdr = struct.pack("!HHIHH", (2 << 12) | 10, 43, 123456 + i, 0, flags)
    if opt:
        hdr += struct.pack("!II", (3 << 26) | 5, 0)
    return gre(0x22EB, hdr + p.frame, seq=i)


def ah(p: Inner, i: int, src: bytes, dst: bytes):
    """The TCP segment behind an authentication header (transport mode): next header 6,
    length 4 (24 bytes: 12 fixed + a 12-byte ICV), SPI 0x100, sequence i + 1."""
    ihl = (p.ip[0] & 0x0F) * 4
    tcp = p.ip[ihl:]
    hdr = struct.pack("!BBHII", 6, 4, 0, 0x100, i + 1) + bytes(12)
    return hdr + tcp


def with_ah(packets: list[Inner]) -> list[pl.Record]:
    """The IPv4 packets themselves with an AH between IP and TCP (addresses kept)."""
    out = []
    for i, p in enumerate(packets):
        ihl = (p.ip[0] & 0x0F) * 4
        src, dst = p.ip[12:16], p.ip[16:20]
        body = ah(p, i, src, dst)
        ip = pl.ipv4_header(src, dst, IPPROTO_AH, len(body), ident=struct.unpack("!H", p.ip[4:6])[0], ttl=p.ip[8])
        data = p.frame[:ETH] + ip + body
        out.append(pl.Record(p.rec.ts_ns, len(data), data))
    return out


# ------------------------------------------------------------------ the captures

def tunnels() -> dict[str, tuple[str, list[pl.Record]]]:
    v4, v6 = inner(V4_SRC), inner(V6_SRC)
    ip_proto = lambda p: IPPROTO_IPV6 if p.ip[0] >> 4 == 6 else IPPROTO_IPIP  # noqa: E731
    files: dict[str, tuple[str, list[pl.Record]]] = {
        "gre": (V4_SRC, wrap(v4, lambda p, i, s, d: (IPPROTO_GRE, gre(ether_type(p), p.ip)))),
        "gre-key-seq-checksum": (V4_SRC, wrap(v4, lambda p, i, s, d: (
            IPPROTO_GRE, gre(ether_type(p), p.ip, key=0x1234, seq=i, checksum=True)))),
        "gre-ipv6": (V6_SRC, wrap(v6, lambda p, i, s, d: (IPPROTO_GRE, gre(ether_type(p), p.ip, key=7)),
                                  v6_outer=True)),
        "gre-ethernet": (V4_SRC, wrap(v4, lambda p, i, s, d: (IPPROTO_GRE, gre(0x6558, p.frame, key=99)))),
        "pptp": (V4_SRC, wrap(v4, lambda p, i, s, d: (
            IPPROTO_GRE, pptp_gre(0x4001 if p.from_client else 0x8002, i,
                                  b"\xff\x03\x00\x21" + p.ip)))),
        "erspan-1": (V4_SRC, wrap(v4, lambda p, i, s, d: (IPPROTO_GRE, gre(0x88BE, p.frame)))),
        "erspan-2": (V4_SRC, wrap(v4, lambda p, i, s, d: (IPPROTO_GRE, erspan2(p, i)))),
        "erspan-3": (V4_SRC, wrap(v4, lambda p, i, s, d: (IPPROTO_GRE, erspan3(p, i)))),
        "vxlan": (V4_SRC, wrap(v4, udp_tunnel(4789, vxlan(100)))),
        "geneve": (V4_SRC, wrap(v4, udp_tunnel(6081, geneve(5000)))),
        "gtpu": (V4_SRC, wrap(v4, udp_tunnel(2152, gtpu, symmetric=True))),
        "gtpu-ipv6": (V6_SRC, wrap(v6, udp_tunnel(2152, gtpu, symmetric=True), v6_outer=True)),
        "ipip-4in4": (V4_SRC, wrap(v4, lambda p, i, s, d: (ip_proto(p), p.ip))),
        "ipip-6in4": (V6_SRC, wrap(v6, lambda p, i, s, d: (ip_proto(p), p.ip))),
        "ipip-4in6": (V4_SRC, wrap(v4, lambda p, i, s, d: (ip_proto(p), p.ip), v6_outer=True)),
        "ipip-6in6": (V6_SRC, wrap(v6, lambda p, i, s, d: (ip_proto(p), p.ip), v6_outer=True)),
        "capwap": (V4_SRC, wrap(v4, udp_tunnel(5247, capwap, client_port=5250))),
        "capwap-80211": (V6_SRC, wrap(v6, udp_tunnel(5247, capwap_80211, client_port=5250))),
        "ah": (V4_SRC, with_ah(v4)),
        "teredo": (V6_SRC, wrap(v6, udp_tunnel(3544, teredo))),
        "ayiya": (V6_SRC, wrap(v6, udp_tunnel(5072, ayiya))),
    }
    return files


def nested(v4: list[Inner], v6: list[Inner]) -> list[pl.Record]:
    conv = wrap(v4, lambda p, i, s, d: (IPPROTO_GRE, gre(ether_type(p), p.ip)))
    ack = v4[2]
    payload = ack.ip
    for _ in range(39):
        payload = ipv4(V4_A, V4_B, IPPROTO_GRE, gre(pl.ETH_IPV4, payload), 0x3000)
    deep = wrap([ack], lambda p, i, s, d: (IPPROTO_GRE, gre(pl.ETH_IPV4, payload)))[0]
    deep.ts_ns += 1000
    ack6 = v6[2]
    ip = ack6.ip
    for _ in range(11):
        ip = ipv6(V6_A, V6_B, IPPROTO_UDP, udp(V6_A, V6_B, 49152, 3544, ip))
    self_ref = wrap([ack6], udp_tunnel(3544, lambda p, i: ip))[0]
    self_ref.ts_ns = deep.ts_ns + 1000
    return conv[:3] + [deep, self_ref] + conv[3:]


def same_tuple(v4: list[Inner]) -> list[pl.Record]:
    a = wrap(v4, udp_tunnel(4789, vxlan(100)))
    b = wrap(v4, udp_tunnel(4789, vxlan(200), client_port=49153))
    for r in b:
        r.ts_ns += 500
    return sorted(a + b, key=lambda r: r.ts_ns)


# ------------------------------------------------------------------ checks

# What tshark must be told to read a file as the RFCs lay it out, where its defaults do not
# (Tests/TeardownCLITests/ReplayGoldenTests.swift tells it the same): Wireshark swaps the two
# bytes of the 802.11 frame control field in CAPWAP by default (capwap.swap_fc, for APs that
# send them swapped); RFC 5416 sends the frame as it is on the air.
TSHARK_OPTIONS = {
    "capwap-80211.pcap": ["-o", "capwap.swap_fc:FALSE"],
}


def tshark_rows(path: str) -> list[tuple[str, ...]]:
    cmd = ["tshark", "-n", "-r", path] + TSHARK_OPTIONS.get(os.path.basename(path), []) + [
           "-Y", "tcp", "-T", "fields", "-e", "tcp.flags.str", "-e", "tcp.seq_raw", "-e", "tcp.len"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return [tuple(line.split("\t")) for line in out.splitlines()]


def check(src: str, derived: str, *, repeat: int = 1) -> None:
    a, b = tshark_rows(src), tshark_rows(derived)
    want = [row for row in a for _ in range(repeat)] if repeat > 1 else a
    if sorted(want) != sorted(b) or not a or (repeat == 1 and a != b):
        raise SystemExit(f"!!! {os.path.relpath(derived, REPO)}: tshark's TCP rows differ from "
                         f"{os.path.basename(src)}'s:\n  {a}\n  {b}")
    print(f"ok  {os.path.relpath(derived, REPO):40} {len(b):3} TCP rows identical to {os.path.basename(src)}")


def write(name: str, recs: list[pl.Record]) -> str:
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name + ".pcap")
    pl.write_pcap(path, pl.LINKTYPE_ETHERNET, recs, snaplen=65535)
    return path


def main() -> int:
    for name, (src, recs) in tunnels().items():
        check(src, write(name, recs))
    v4, v6 = inner(V4_SRC), inner(V6_SRC)
    path = write("nested", nested(v4, v6))
    print(f"ok  {os.path.relpath(path, REPO):40} {len(pl.read_pcap(path).records):3} packets")
    check(V4_SRC, write("same-tuple", same_tuple(v4)), repeat=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
