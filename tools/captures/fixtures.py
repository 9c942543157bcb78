#!/usr/bin/env python3
"""Derive link-type and file-format fixtures from the real recordings in captures/real/.

    python3 tools/captures/fixtures.py        # needs editcap and tshark; no root needed

Every fixture is the same real conversation with only the link header (or the file
format) changed, so a decoder must produce the same TCP fields for each of them. The
script checks that with tshark (`frame.number tcp.flags.str tcp.seq_raw tcp.len` must be
identical to the source's rows) and fails loudly otherwise.

captures/linktypes/  one file per link-layer header (https://www.tcpdump.org/linktypes.html)
captures/fixtures/   file-format and packet-shape variants (pcapng, usec, byte-swapped,
                     snaplen-cut, Ethernet padding, non-TCP traffic mixed in)
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
LINK = os.path.join(REPO, "captures", "linktypes")
FIX = os.path.join(REPO, "captures", "fixtures")

V4_SRC = os.path.join(REAL, "graceful-client-close.pcap")
V6_SRC = os.path.join(REAL, "ipv6-graceful.pcap")
NO_TS_SRC = os.path.join(REAL, "graceful-no-timestamps.pcap")
NON_TCP_SRC = os.path.join(REAL, "non-tcp.pcap")

MAC_A = bytes.fromhex("020000000001")  # locally administered, made up
MAC_B = bytes.fromhex("020000000002")


def strip_ethernet(path: str) -> tuple[list[pl.Record], list[int]]:
    """Return (records holding the bare IP packet, ethertype per record) of an EN10MB file."""
    pf = pl.read_pcap(path)
    assert pf.linktype == pl.LINKTYPE_ETHERNET, path
    out, types = [], []
    for r in pf.records:
        et = struct.unpack("!H", r.data[12:14])[0]
        out.append(pl.Record(r.ts_ns, r.orig_len - 14, r.data[14:]))
        types.append(et)
    return out, types


def with_header(recs: list[pl.Record], header) -> list[pl.Record]:
    """Prefix every IP packet with header(ip_packet) and fix the lengths."""
    out = []
    for r in recs:
        h = header(r.data)
        out.append(pl.Record(r.ts_ns, r.orig_len + len(h), h + r.data))
    return out


def family_word(fam: int, endian: str):
    return lambda ip: struct.pack(endian + "I", fam)


def sll(et: int):
    # LINUX_SLL: packet type (0 = to us), ARPHRD_LOOPBACK (772), address length 6,
    # address padded to 8, protocol.  https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html
    return lambda ip: struct.pack("!HHH8sH", 0, 772, 6, b"\0" * 8, et)


def sll2(et: int):
    # LINUX_SLL2: protocol, reserved, interface index (1 = lo), ARPHRD_LOOPBACK, packet type,
    # address length, address.  https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html
    return lambda ip: struct.pack("!HHIHBB8s", et, 0, 1, 772, 0, 6, b"\0" * 8)


def vlan(et: int):
    # 802.1Q tag: TPID 0x8100, TCI = PCP 0, DEI 0, VID 100
    return lambda ip: MAC_B + MAC_A + struct.pack("!HHH", pl.ETH_8021Q, 100, et)


def qinq(et: int):
    # 802.1ad service tag (TPID 0x88a8, VID 200) outside an 802.1Q customer tag (VID 100)
    return lambda ip: MAC_B + MAC_A + struct.pack("!HHHHH", pl.ETH_8021AD, 200, pl.ETH_8021Q, 100, et)


def write(path: str, linktype: int, recs: list[pl.Record], **kw) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    pl.write_pcap(path, linktype, recs, **kw)
    return path


# ------------------------------------------------------------------ tshark verification

def tshark_rows(path: str, display_filter: str | None = None) -> list[tuple[str, ...]]:
    cmd = ["tshark", "-r", path, "-T", "fields", "-e", "frame.number", "-e", "tcp.flags.str",
           "-e", "tcp.seq_raw", "-e", "tcp.len"]
    if display_filter:
        cmd += ["-Y", display_filter]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return [tuple(line.split("\t")) for line in out.splitlines()]


def same_tcp(src: str, derived: str, *, display_filter: str | None = None,
             fields: slice = slice(0, None)) -> int:
    """Compare tshark's (frame.number, tcp.flags.str, tcp.seq_raw, tcp.len) rows, or the
    columns `fields` selects, between the source recording and a derived file."""
    a = [r[fields] for r in tshark_rows(src)]
    b = [r[fields] for r in tshark_rows(derived, display_filter)]
    if a != b or not a or any(not all(r) for r in a):
        raise SystemExit(f"!!! {os.path.relpath(derived, REPO)} differs from "
                         f"{os.path.relpath(src, REPO)}:\n  {a}\n  {b}")
    return len(b)


def check(src: str, derived: str, **kw) -> None:
    n = same_tcp(src, derived, **kw)
    print(f"ok  {os.path.relpath(derived, REPO):52} {n:3} TCP rows identical to "
          f"{os.path.basename(src)}")


# ------------------------------------------------------------------ main

def main() -> int:
    v4, v4t = strip_ethernet(V4_SRC)
    v6, v6t = strip_ethernet(V6_SRC)
    assert set(v4t) == {pl.ETH_IPV4} and set(v6t) == {pl.ETH_IPV6}
    E4, E6 = pl.ETH_IPV4, pl.ETH_IPV6

    link = {
        # name: (source, linktype, header builder)
        "linux-sll.pcap": (v4, pl.LINKTYPE_LINUX_SLL, sll(E4)),
        "linux-sll2.pcap": (v4, pl.LINKTYPE_LINUX_SLL2, sll2(E4)),
        "null-le.pcap": (v4, pl.LINKTYPE_NULL, family_word(2, "<")),
        "null-be.pcap": (v4, pl.LINKTYPE_NULL, family_word(2, ">")),
        "loop.pcap": (v4, pl.LINKTYPE_LOOP, family_word(2, ">")),
        "raw.pcap": (v4, pl.LINKTYPE_RAW, lambda ip: b""),
        "ipv4.pcap": (v4, pl.LINKTYPE_IPV4, lambda ip: b""),
        "ethernet-vlan.pcap": (v4, pl.LINKTYPE_ETHERNET, vlan(E4)),
        "ethernet-qinq.pcap": (v4, pl.LINKTYPE_ETHERNET, qinq(E4)),
        # IPv6 in the BSD loopback header: AF_INET6 is 24 (NetBSD/OpenBSD), 28 (FreeBSD),
        # 30 (macOS/Darwin); NULL's family word is in the capturing host's byte order.
        "null-ipv6-24.pcap": (v6, pl.LINKTYPE_NULL, family_word(24, "<")),
        "null-ipv6-28.pcap": (v6, pl.LINKTYPE_NULL, family_word(28, "<")),
        "null-ipv6-30.pcap": (v6, pl.LINKTYPE_NULL, family_word(30, "<")),
        "null-ipv6-30-be.pcap": (v6, pl.LINKTYPE_NULL, family_word(30, ">")),
        "loop-ipv6-24.pcap": (v6, pl.LINKTYPE_LOOP, family_word(24, ">")),
        "raw-ipv6.pcap": (v6, pl.LINKTYPE_RAW, lambda ip: b""),
        "ipv6.pcap": (v6, pl.LINKTYPE_IPV6, lambda ip: b""),
        "linux-sll2-ipv6.pcap": (v6, pl.LINKTYPE_LINUX_SLL2, sll2(E6)),
        "ethernet-vlan-ipv6.pcap": (v6, pl.LINKTYPE_ETHERNET, vlan(E6)),
    }
    for name, (recs, lt, hdr) in link.items():
        path = write(os.path.join(LINK, name), lt, with_header(recs, hdr))
        check(V6_SRC if recs is v6 else V4_SRC, path)

    # ---- file formats
    src = pl.read_pcap(V4_SRC)
    assert src.nanosecond, "record.py records with nanosecond timestamps"
    pcapng = os.path.join(FIX, "graceful-client-close.pcapng")
    os.makedirs(FIX, exist_ok=True)
    subprocess.run(["editcap", "-F", "pcapng", V4_SRC, pcapng], check=True)
    check(V4_SRC, pcapng)
    path = write(os.path.join(FIX, "graceful-client-close.usec.pcap"), src.linktype, src.records,
                 nanosecond=False)
    check(V4_SRC, path)
    path = write(os.path.join(FIX, "graceful-client-close.swapped.pcap"), src.linktype,
                 src.records, nanosecond=True, big_endian=True)
    check(V4_SRC, path)

    # ---- snaplen: 60 cuts into the 32-byte TCP header (20 + 12 bytes of timestamp option),
    # 80 keeps all headers and cuts the payload of the two data segments.
    for cut in (60, 80):
        path = os.path.join(FIX, f"snaplen-{cut}.pcap")
        subprocess.run(["editcap", "-F", "nsecpcap", "-s", str(cut), V4_SRC, path], check=True)
        cutf = pl.read_pcap(path)
        assert all(len(r.data) <= cut for r in cutf.records)
        assert [r.orig_len for r in cutf.records] == [r.orig_len for r in src.records]
        if cut == 80:
            check(V4_SRC, path)
        else:  # tshark still reads flags and seq from the first 14 bytes of TCP
            check(V4_SRC, path, fields=slice(0, 3))

    # ---- Ethernet padding: frames shorter than the 60-byte minimum (without FCS) are padded
    # with junk, as a NIC would; IPv4 total length says where the packet really ends.
    nots = pl.read_pcap(NO_TS_SRC)
    padded = []
    for r in nots.records:
        if len(r.data) < 60:
            junk = bytes((0xA5 ^ i) & 0xFF for i in range(60 - len(r.data)))
            padded.append(pl.Record(r.ts_ns, 60, r.data + junk))
        else:
            padded.append(r)
    path = write(os.path.join(FIX, "ethernet-padded.pcap"), nots.linktype, padded)
    assert sum(len(a.data) != len(b.data) for a, b in zip(padded, nots.records)) >= 4
    check(NO_TS_SRC, path)

    # ---- non-TCP traffic mixed into a TCP connection: the real UDP datagrams (one of them
    # IPv4-fragmented) and ICMP echo request/reply from non-tcp.pcap, moved in time to sit
    # after the connection's 4th packet, plus one crafted ARP request (broadcast).
    other = pl.read_pcap(NON_TCP_SRC)
    base = src.records[3].ts_ns + 1000
    shift = base - other.records[0].ts_ns
    moved = [pl.Record(r.ts_ns + shift, r.orig_len, r.data) for r in other.records]
    arp = pl.ethernet(b"\xff" * 6, MAC_A, pl.ETH_ARP, struct.pack(
        "!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, MAC_A, bytes([127, 0, 0, 1]), b"\0" * 6,
        bytes([127, 0, 0, 2]))) + b"\0" * 18
    moved.append(pl.Record(moved[-1].ts_ns + 1000, len(arp), arp))
    mixed = sorted(src.records + moved, key=lambda r: r.ts_ns)
    path = write(os.path.join(FIX, "mixed-non-tcp.pcap"), src.linktype, mixed)
    check(V4_SRC, path, display_filter="tcp", fields=slice(1, None))
    protos = subprocess.run(["tshark", "-r", path, "-T", "fields", "-e", "frame.protocols"],
                            capture_output=True, text=True, check=True).stdout.split()
    assert sum("udp" in p for p in protos) >= 2 and sum("icmp" in p for p in protos) == 2 \
        and sum(p.endswith("arp") for p in protos) == 1, protos
    print(f"ok  {os.path.relpath(path, REPO):52} protocols: {sorted(set(protos))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
