#!/usr/bin/env python3
"""Rewrite the real recordings under other link types and layer-2 encapsulations.

    python3 tools/captures/links.py          # needs tshark; no root needed

Every file is a real conversation from captures/real/ with only what lies below IP changed:
another link-layer header (captures/linktypes/), or Ethernet with something between it and
IP (captures/encapsulations/). Both directions are rewritten, except in `mpls-half`, where
only the client's packets carry a label (as when a capture point sees one direction inside
an MPLS core and the other outside it). IP and TCP bytes and timestamps are untouched.

The script requires tshark's TCP rows (`frame.number tcp.flags.str tcp.seq_raw tcp.len`) of
each file to equal its source recording's, decoding as Wireshark does by default, and fails
loudly otherwise. Where tshark needs to be told what a header carries (a `-d` decode-as or a
preference), the table says so and captures/README.md lists it.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pcaplib as pl  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
REAL = os.path.join(REPO, "captures", "real")
LINK = os.path.join(REPO, "captures", "linktypes")
ENCAP = os.path.join(REPO, "captures", "encapsulations")

V4_SRC = os.path.join(REAL, "graceful-client-close.pcap")
V6_SRC = os.path.join(REAL, "ipv6-graceful.pcap")
MANY_SRC = os.path.join(REAL, "many-connections.pcap")

# Made-up, locally administered MAC addresses. The pseudowire files choose the first nibble
# of the inner destination on purpose (see mpls_pw).
CLIENT_MAC = bytes.fromhex("020000000001")
SERVER_MAC = bytes.fromhex("020000000002")
BACKBONE_A = bytes.fromhex("0a00000000a1")
BACKBONE_B = bytes.fromhex("0a00000000b2")

ETH_MPLS = 0x8847
ETH_PPPOE_SESSION = 0x8864
ETH_PBB_ITAG = 0x88E7
ETH_FABRICPATH = 0x8903
ETH_ETAG = 0x893F

PPP_IPV4, PPP_IPV6 = 0x0021, 0x0057


def strip_ethernet(path: str) -> list[tuple[pl.Record, bytes, bool]]:
    """(record, IP packet, sent by the client) for each packet of an EN10MB recording whose
    Ethernet header is bare; the client is the sender of the first packet (its SYN)."""
    pf = pl.read_pcap(path)
    assert pf.linktype == pl.LINKTYPE_ETHERNET, path
    first_src = None
    out = []
    for r in pf.records:
        et = struct.unpack("!H", r.data[12:14])[0]
        assert et in (pl.ETH_IPV4, pl.ETH_IPV6), (path, hex(et))
        ip = r.data[14:]
        v6 = ip[0] >> 4 == 6
        src = ip[8:24] if v6 else ip[12:16]
        sport = struct.unpack("!H", ip[40:42] if v6 else ip[20:22])[0]
        if first_src is None:
            first_src = (src, sport)
        out.append((r, ip, (src, sport) == first_src))
    return out


def rewrite(packets, frame) -> list[pl.Record]:
    """Each packet's IP bytes wrapped by frame(ip, from_client); wire lengths grow with it."""
    out = []
    for r, ip, from_client in packets:
        f = frame(ip, from_client)
        out.append(pl.Record(r.ts_ns, r.orig_len - 14 + len(f) - len(ip), f))
    return out


def ethertype_of(ip: bytes) -> int:
    return pl.ETH_IPV6 if ip[0] >> 4 == 6 else pl.ETH_IPV4


def ppp_protocol(ip: bytes) -> int:
    return PPP_IPV6 if ip[0] >> 4 == 6 else PPP_IPV4


def macs(from_client: bool) -> bytes:
    """Destination then source."""
    return SERVER_MAC + CLIENT_MAC if from_client else CLIENT_MAC + SERVER_MAC


# ------------------------------------------------------------------ link types

def ppp(*, hdlc: bool = False, compressed: bool = False):
    """LINKTYPE_PPP (9): the protocol field (RFC 1661 §2), one byte with Protocol-Field-
    Compression (RFC 1661 §6.5), behind FF 03 when the address and control bytes are there."""
    def frame(ip, _):
        proto = bytes([ppp_protocol(ip)]) if compressed else struct.pack("!H", ppp_protocol(ip))
        return (b"\xff\x03" if hdlc else b"") + proto + ip
    return frame


def cisco_hdlc(address: int = 0x0F):
    """Cisco HDLC: address (0x0F unicast, 0x8F broadcast), control 0, EtherType."""
    return lambda ip, _: struct.pack("!BBH", address, 0, ethertype_of(ip)) + ip


def ieee80211_data(ip: bytes, from_client: bool, *, qos: bool = False, wds: bool = False,
                   pad: bool = False) -> bytes:
    """An 802.11 data frame (IEEE 802.11-2020 §9.3.2.1) with LLC/SNAP (RFC 1042): the client
    is a station behind access point BSSID, the server on the distribution system; client
    frames go to the DS (ToDS), server frames come from it (FromDS). `wds` sets both bits and
    adds the fourth address; `qos` makes it a QoS Data frame (subtype 8) with QoS Control;
    `pad` adds the 2 bytes that bring a 26-byte header to a multiple of 4 (radiotap DATAPAD)."""
    bssid = bytes.fromhex("0200000000a0")
    subtype = 8 if qos else 0
    fc0 = (subtype << 4) | (2 << 2)          # type 2 = data, protocol version 0
    sa, da = (CLIENT_MAC, SERVER_MAC) if from_client else (SERVER_MAC, CLIENT_MAC)
    if wds:
        fc1 = 0x03                           # ToDS and FromDS: addr1 RA, addr2 TA, addr3 DA, addr4 SA
        ra, ta = (bytes.fromhex("0200000000b0"), bssid) if from_client else (bssid, bytes.fromhex("0200000000b0"))
        addrs = ra + ta + da + sa
    elif from_client:
        fc1 = 0x01                           # ToDS: addr1 BSSID, addr2 SA, addr3 DA
        addrs = bssid + sa + da
    else:
        fc1 = 0x02                           # FromDS: addr1 DA, addr2 BSSID, addr3 SA
        addrs = da + bssid + sa
    seq = struct.pack("<H", (len(ip) & 0xFFF) << 4)
    header = bytes([fc0, fc1]) + struct.pack("<H", 44) + addrs[:18] + seq + addrs[18:]
    if qos:
        header += struct.pack("<H", 0x0000)  # TID 0, no A-MSDU
    if pad:
        header += b"\0" * ((4 - len(header) % 4) % 4)
    snap = b"\xaa\xaa\x03\x00\x00\x00" + struct.pack("!H", ethertype_of(ip))
    return header + snap + ip


def ieee80211(**kw):
    return lambda ip, c: ieee80211_data(ip, c, **kw)


def radiotap(*, fcs: bool = False, pad: bool = False, extended: bool = False, qos: bool = False):
    """A radiotap header (radiotap.org): TSFT, Flags, Rate, Channel, antenna signal; with
    `extended`, a second presence word (bit 31 set in the first) naming nothing. Flags carry
    0x10 when an FCS ends the frame and 0x20 when the 802.11 header is padded."""
    def frame(ip, c):
        present = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 3) | (1 << 5)
        words = [present | (1 << 31), 0] if extended else [present]
        fixed_len = 4 + 4 * len(words)
        body = b""
        off = fixed_len
        pad8 = (8 - off % 8) % 8                 # TSFT is aligned to 8
        body += b"\0" * pad8 + struct.pack("<Q", 123456789)
        flags = (0x10 if fcs else 0) | (0x20 if pad else 0)
        body += bytes([flags, 12])               # flags, rate 6 Mb/s
        body += struct.pack("<HH", 2437, 0x00A0)  # channel 6, 2.4 GHz OFDM (2-aligned here)
        body += struct.pack("<b", -42)           # dBm antenna signal
        length = fixed_len + len(body)
        header = struct.pack("<BBH", 0, 0, length) + b"".join(struct.pack("<I", w) for w in words) + body
        wlan = ieee80211_data(ip, c, qos=qos or pad, pad=pad)
        if fcs:
            wlan += struct.pack("<I", zlib.crc32(wlan) & 0xFFFFFFFF)
        return header + wlan
    return frame


def ppi(*, fcs: bool = False):
    """A PPI header (PPI spec v1.0.10): version 0, flags 0, length, DLT 105, then one
    802.11-Common field (type 2, 20 bytes) whose flags' bit 0 says an FCS ends the frame."""
    def frame(ip, c):
        common = struct.pack("<QHHHHBBbb", 123456789, 0x0001 if fcs else 0, 12, 2437, 0x00A0, 0, 0, -42, -90)
        field = struct.pack("<HH", 2, len(common)) + common
        header = struct.pack("<BBHI", 0, 0, 8 + len(field), 105) + field
        wlan = ieee80211_data(ip, c)
        if fcs:
            wlan += struct.pack("<I", zlib.crc32(wlan) & 0xFFFFFFFF)
        return header + wlan
    return frame


def arcnet_linux(proto: int):
    """Linux ARCNET (tcpdump's print-arcnet.c, arc_linux_header): source, destination, a
    2-byte offset, the protocol ID; RFC 1201 protocols (212 = IPv4) add a split flag and a
    sequence number, RFC 1051's (240 = IPv4) do not."""
    def frame(ip, c):
        src, dst = (1, 2) if c else (2, 1)
        h = struct.pack("!BBHB", src, dst, 0, proto)
        if proto != 240:
            h += struct.pack("!BH", 0, 0x1234)
        return h + ip
    return frame


def ipoib(ip: bytes, c: bool) -> bytes:
    """IP over InfiniBand as Linux hands it to libpcap (LINKTYPE_IPOIB, as Wireshark's
    packet-ipoib.c reads it): a 40-byte pseudo-header (first two bytes 0: only the destination
    address, QPN and GID, is set), then RFC 4391 §6's type and reserved fields."""
    daddr = struct.pack("!I", 0x00000048 if c else 0x00000049) + bytes.fromhex("fe800000000000000002c90300000001")
    pseudo = b"\0" * 20 + daddr
    return pseudo + struct.pack("!HH", ethertype_of(ip), 0) + ip


def nflog(ip: bytes, c: bool) -> bytes:
    """Linux NFLOG (libpcap's pcap/nflog.h): family, version 0, resource ID (big-endian),
    then TLVs whose length and type are in the capturing host's byte order (little-endian
    here) and which are padded to 4 bytes: the packet header (hardware protocol, hook), a
    prefix, the payload (type 9)."""
    family = 10 if ip[0] >> 4 == 6 else 2

    def tlv(kind: int, value: bytes) -> bytes:
        raw = struct.pack("<HH", 4 + len(value), kind) + value
        return raw + b"\0" * ((4 - len(raw) % 4) % 4)

    return struct.pack("!BBH", family, 0, 7) \
        + tlv(1, struct.pack("!HBB", ethertype_of(ip), 3, 0)) \
        + tlv(10, b"teardown\0") \
        + tlv(9, ip)


# ------------------------------------------------------------------ encapsulations over Ethernet

def vlan_tag(vid: int, tpid: int = pl.ETH_8021Q) -> bytes:
    return struct.pack("!HH", tpid, vid)


def mpls_label(label: int, bottom: bool, ttl: int = 64) -> bytes:
    return struct.pack("!I", (label << 12) | (0x100 if bottom else 0) | ttl)


def pppoe(*, tags: bytes = b""):
    """A PPPoE session packet (RFC 2516 §4): 0x8864, version/type 0x11, code 0, session ID,
    length of the PPP payload, then PPP's protocol field (no address/control bytes)."""
    def frame(ip, c):
        payload = struct.pack("!H", ppp_protocol(ip)) + ip
        return macs(c) + tags + struct.pack("!HBBHH", ETH_PPPOE_SESSION, 0x11, 0, 0x2A2A, len(payload)) + payload
    return frame


def mpls(labels: list[int], *, tags: bytes = b"", only_client: bool = False):
    def frame(ip, c):
        if only_client and not c:
            return macs(c) + struct.pack("!H", ethertype_of(ip)) + ip
        stack = b"".join(mpls_label(l, i == len(labels) - 1) for i, l in enumerate(labels))
        return macs(c) + tags + struct.pack("!H", ETH_MPLS) + stack + ip
    return frame


def mpls_pw(*, control_word: bool):
    """An Ethernet pseudowire (RFC 4448) under two labels. The inner destination MAC starts
    with nibble 0 when a control word (RFC 4385: 0000, flags, length, sequence) is there, and
    with 2 without one, so the first nibble after the stack is neither 4 nor 6. (Wireshark 4.0
    takes a nibble-0 payload for a frame without control word when the vendor prefixes at
    bytes 0 and 6 are both known: with the control word 0000 0007 the first is Xerox's
    00:00:00, so the inner addresses are chosen to put an unknown prefix at byte 6.)"""
    def frame(ip, c):
        inner_dst, inner_src = (bytes.fromhex("220000000002"), bytes.fromhex("220000000001"))
        if control_word:
            inner_dst, inner_src = bytes.fromhex("0242ac110003"), bytes.fromhex("0242ac110002")
        if not c:
            inner_dst, inner_src = inner_src, inner_dst
        inner = inner_dst + inner_src + struct.pack("!H", ethertype_of(ip)) + ip
        cw = struct.pack("!HH", 0, 7) if control_word else b""
        outer = (BACKBONE_B + BACKBONE_A) if c else (BACKBONE_A + BACKBONE_B)
        return outer + struct.pack("!H", ETH_MPLS) + mpls_label(16001, False) + mpls_label(24, True) + cw + inner
    return frame


def pbb(ip, c):
    """IEEE 802.1ah: backbone addresses, a B-tag (802.1ad, VID 300), the I-tag (0x88E7, I-SID
    0x0A0B0C), then the customer's Ethernet frame."""
    outer = (BACKBONE_B + BACKBONE_A) if c else (BACKBONE_A + BACKBONE_B)
    return outer + vlan_tag(300, pl.ETH_8021AD) + struct.pack("!HI", ETH_PBB_ITAG, 0x000A0B0C) \
        + macs(c) + struct.pack("!H", ethertype_of(ip)) + ip


def fabricpath(ip, c):
    """Cisco FabricPath: a 16-byte outer header (outer destination and source switch
    addresses, EtherType 0x8903, FTag 1 and TTL 32), then the classical Ethernet frame, then
    the frame check sequence, which FabricPath frames keep (Wireshark's packet-cfp.c takes
    the last 4 bytes for it)."""
    outer = (BACKBONE_B + BACKBONE_A) if c else (BACKBONE_A + BACKBONE_B)
    frame = outer + struct.pack("!HH", ETH_FABRICPATH, (1 << 6) | 32) + macs(c) \
        + struct.pack("!H", ethertype_of(ip)) + ip
    return frame + struct.pack("<I", zlib.crc32(frame) & 0xFFFFFFFF)


def etag(ip, c):
    """IEEE 802.1BR: an E-Tag (0x893F; PCP 0, GRP 0, E-CID base 0x123) before the EtherType."""
    return macs(c) + struct.pack("!HHHH", ETH_ETAG, 0x0000, 0x0123, 0x0000) \
        + struct.pack("!H", ethertype_of(ip)) + ip


# ------------------------------------------------------------------ the files

# name: (directory, source, link type, frame builder, tshark options needed to decode it)
FILES = {
    "ppp.pcap": (LINK, V4_SRC, 9, ppp(), []),
    "ppp-ipv6.pcap": (LINK, V6_SRC, 9, ppp(), []),
    "ppp-hdlc-bytes.pcap": (LINK, V4_SRC, 9, ppp(hdlc=True), []),
    "ppp-compressed-protocol.pcap": (LINK, V4_SRC, 9, ppp(compressed=True), []),
    "ppp-serial.pcap": (LINK, V4_SRC, 50, ppp(hdlc=True), []),
    "ppp-serial-cisco.pcap": (LINK, V4_SRC, 50, cisco_hdlc(), []),
    "cisco-hdlc.pcap": (LINK, V4_SRC, 104, cisco_hdlc(), []),
    "cisco-hdlc-ipv6.pcap": (LINK, V6_SRC, 104, cisco_hdlc(0x8F), []),
    "ieee80211.pcap": (LINK, V4_SRC, 105, ieee80211(), []),
    "ieee80211-qos-wds-ipv6.pcap": (LINK, V6_SRC, 105, ieee80211(qos=True, wds=True), []),
    "radiotap.pcap": (LINK, V4_SRC, 127, radiotap(), []),
    "radiotap-fcs.pcap": (LINK, V4_SRC, 127, radiotap(fcs=True), []),
    "radiotap-datapad-ipv6.pcap": (LINK, V6_SRC, 127, radiotap(pad=True, extended=True), []),
    "ppi.pcap": (LINK, V4_SRC, 192, ppi(), []),
    "ppi-fcs.pcap": (LINK, V4_SRC, 192, ppi(fcs=True), []),
    "arcnet-linux.pcap": (LINK, V4_SRC, 129, arcnet_linux(212), []),
    "arcnet-linux-rfc1051.pcap": (LINK, V4_SRC, 129, arcnet_linux(240), []),
    "ipoib.pcap": (LINK, V4_SRC, 242, ipoib, []),
    "ipoib-ipv6.pcap": (LINK, V6_SRC, 242, ipoib, []),
    "nflog.pcap": (LINK, V4_SRC, 239, nflog, []),
    "nflog-ipv6.pcap": (LINK, V6_SRC, 239, nflog, []),
    "pppoe.pcap": (ENCAP, V4_SRC, 1, pppoe(), []),
    "pppoe-ipv6.pcap": (ENCAP, V6_SRC, 1, pppoe(), []),
    "pppoe-qinq.pcap": (ENCAP, V4_SRC, 1, pppoe(tags=vlan_tag(200, pl.ETH_8021AD) + vlan_tag(100)), []),
    "mpls.pcap": (ENCAP, V4_SRC, 1, mpls([1000]), []),
    "mpls-ipv6.pcap": (ENCAP, V6_SRC, 1, mpls([2000]), []),
    "mpls-stack.pcap": (ENCAP, V4_SRC, 1, mpls([16001, 24005, 3000]), []),
    "mpls-vlan.pcap": (ENCAP, V4_SRC, 1, mpls([1000], tags=vlan_tag(100)), []),
    "mpls-half.pcap": (ENCAP, V4_SRC, 1, mpls([1000], only_client=True), []),
    "mpls-many.pcap": (ENCAP, MANY_SRC, 1, mpls([16001, 3000]), []),
    "mpls-pw.pcap": (ENCAP, V4_SRC, 1, mpls_pw(control_word=False), ["-d", "mpls.label==24,pwethnocw"]),
    "mpls-pw-control-word.pcap": (ENCAP, V4_SRC, 1, mpls_pw(control_word=True), []),
    "pbb.pcap": (ENCAP, V4_SRC, 1, pbb, []),
    "fabricpath.pcap": (ENCAP, V4_SRC, 1, fabricpath, []),
    "etag-ipv6.pcap": (ENCAP, V6_SRC, 1, etag, []),
}


# ------------------------------------------------------------------ tshark verification

def tshark_rows(path: str, options: list[str]) -> list[tuple[str, ...]]:
    cmd = ["tshark", "-n", "-r", path] + options + ["-T", "fields", "-e", "frame.number", "-e", "tcp.flags.str",
                                                    "-e", "tcp.seq_raw", "-e", "tcp.len"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return [tuple(line.split("\t")) for line in out.splitlines()]


def main(names: list[str]) -> int:
    sources: dict[str, list] = {}
    for name, (directory, src, linktype, frame, options) in FILES.items():
        if names and name not in names:
            continue
        packets = sources.setdefault(src, strip_ethernet(src))
        path = os.path.join(directory, name)
        os.makedirs(directory, exist_ok=True)
        pl.write_pcap(path, linktype, rewrite(packets, frame))
        want = tshark_rows(src, [])
        got = tshark_rows(path, options)
        if want != got or not want or any(not all(r) for r in want):
            raise SystemExit(f"!!! {os.path.relpath(path, REPO)} differs from {os.path.basename(src)} "
                             f"in tshark {' '.join(options)}:\n  {want[:3]}\n  {got[:3]}")
        how = f" (tshark {' '.join(options)})" if options else ""
        print(f"ok  {os.path.relpath(path, REPO):48} {len(got):3} TCP rows identical to {os.path.basename(src)}{how}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
