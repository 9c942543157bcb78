#!/usr/bin/env python3
"""Fragment the real recordings' segments, and build hostile fragment captures.

    python3 tools/captures/fragments.py        # needs tshark; no root needed

captures/fragments/ holds, for IPv4 (real/graceful-client-close.pcap) and IPv6
(real/ipv6-graceful.pcap), the same conversation with every TCP segment sent as IP fragments
(RFC 791 §3.2; RFC 8200 §4.5 with a Fragment header), so that every SYN, FIN and data byte
lies in a fragmented datagram:

  *-in-order       fragments in order
  *-out-of-order   fragments of each datagram in another order (reversed, odd pieces first)
  *-duplicates     fragments sent again, and fragments wholly inside bytes already sent: Linux
                   keeps the datagram and drops the copy (IPFRAG_DUP), so the result stands

Each datagram's fragments are sent one after the other, the one that completes it at the
segment's own time and the others 1 ns apart before it, so the reassembled packets have the
recording's times. teardown must report exactly what it reports for the recording (the test
maps packet numbers), and tshark, which reassembles by default, must show the same TCP rows
(flags, raw seq, length) as for the recording.

Hostile captures (IPv4, the in-order conversation with other datagrams mixed in):

  flood            2,000 datagrams that never complete (one first fragment each, from
                   198.18.0.0/15 addresses): 1,000 of them 60 s before the conversation (they
                   time out), 1,000 during it (incomplete at the end); the conversation is whole
  oversize         a fragment at offset 65,528 carrying 16 bytes (ends past 65,535): dropped,
                   with a warning; the conversation is whole
  tiny-overlap     an extra datagram (a copy of the client's first ACK) in 8-byte fragments
                   whose second overlaps the first without lying inside it: Linux drops the
                   datagram (RFC 5722 for IPv6, the same rule for IPv4); the conversation is whole

Fragments carry correct IPv4 header checksums; the TCP checksum is the segment's own.
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
OUT = os.path.join(REPO, "captures", "fragments")
V4_SRC = os.path.join(REAL, "graceful-client-close.pcap")
V6_SRC = os.path.join(REAL, "ipv6-graceful.pcap")

ETH_HEADER = 14
FIRST_ID = 0x4100  # Identification of the first datagram; each next one adds 1


def ipv4_fragment(ip: bytes, ident: int, offset: int, data: bytes, more: bool) -> bytes:
    """The IPv4 header of `ip` (options kept) for a fragment holding `data` at `offset`."""
    ihl = (ip[0] & 0x0F) * 4
    hdr = bytearray(ip[:ihl])
    struct.pack_into("!HHH", hdr, 2, ihl + len(data), ident & 0xFFFF,
                     (0x2000 if more else 0) | (offset // 8))
    struct.pack_into("!H", hdr, 10, 0)
    struct.pack_into("!H", hdr, 10, pl.inet_checksum(bytes(hdr)))
    return bytes(hdr) + data


def ipv6_fragment(ip: bytes, ident: int, offset: int, data: bytes, more: bool) -> bytes:
    """The IPv6 header of `ip` (no extension headers) with a Fragment header for `data`."""
    assert ip[6] == 6, "the recordings' IPv6 packets carry TCP directly"
    frag = struct.pack("!BBHI", 6, 0, offset | (1 if more else 0), ident)
    hdr = bytearray(ip[:40])
    struct.pack_into("!H", hdr, 4, len(frag) + len(data))
    hdr[6] = 44
    return bytes(hdr) + frag + data


def pieces(length: int, first: int, size: int) -> list[tuple[int, int]]:
    """(offset, end) of the fragments of `length` bytes: the first `first` bytes, then `size`."""
    out, off = [], 0
    while off < length:
        end = min(length, off + (first if off == 0 else size))
        out.append((off, end))
        off = end
    return out


def fragmented(src: str, *, v6: bool, order: str) -> list[pl.Record]:
    """Every TCP packet of `src` (Ethernet) as fragments, in `order`: in-order, out-of-order,
    duplicates."""
    pf = pl.read_pcap(src)
    out: list[pl.Record] = []
    for i, r in enumerate(pf.records):
        eth, ip = r.data[:ETH_HEADER], r.data[ETH_HEADER:]
        if v6:
            payload = ip[40:]
            # The first fragment holds TCP's 20-byte header (RFC 8200 §4.5).
            parts = pieces(len(payload), 24, 16)
        else:
            ihl = (ip[0] & 0x0F) * 4
            payload = ip[ihl:]
            parts = pieces(len(payload), 16, 16)
        assert len(parts) >= 2, f"packet {i + 1} is too short to fragment"
        sends: list[tuple[int, int]] = list(parts)
        if order == "out-of-order":
            sends = parts[::-1] if i % 2 == 0 else parts[1::2] + parts[0::2]
        elif order == "duplicates":
            # All but the last, then copies lying inside what was sent, then the last.
            first = parts[0]
            # (A copy at offset 0 shorter than TCP's header would be dropped alone in IPv6.)
            inside = [first, (8, first[1])]
            if len(parts) >= 3:
                inside.append((8, 24))
            sends = parts[:-1] + inside + parts[-1:]
        ident = FIRST_ID + i
        make = ipv6_fragment if v6 else ipv4_fragment
        n = len(sends)
        for k, (off, end) in enumerate(sends):
            frag = make(ip, ident, off, payload[off:end], end < len(payload))
            out.append(pl.Record(r.ts_ns - (n - 1 - k), ETH_HEADER + len(frag), eth + frag))
    for a, b in zip(out, out[1:]):
        assert a.ts_ns < b.ts_ns, "fragments would not be in time order"
    return out


# ------------------------------------------------------------------ hostile

FLOOD_SRC = bytes([198, 18, 0, 0])


def flood_fragment(n: int, dst: bytes, ts_ns: int) -> pl.Record:
    """A first fragment (MF set) of a TCP datagram that never completes, from 198.18.x.y."""
    src = bytes([198, 18 + (n >> 16 & 1), n >> 8 & 0xFF, n & 0xFF])
    seg = pl.tcp_segment(src, dst, 1024 + n % 60000, 80, n * 7919, 0, pl.TCP_SYN, 1024)[:16]
    ip = pl.ipv4_header(src, dst, 6, len(seg), ident=n, df=False, frag=0x2000)
    return pl.Record(ts_ns, ETH_HEADER + len(ip) + len(seg), bytes(12) + b"\x08\x00" + ip + seg)


def ipv4_parts(rec: pl.Record) -> tuple[bytes, bytes, bytes]:
    ip = rec.data[ETH_HEADER:]
    ihl = (ip[0] & 0x0F) * 4
    return rec.data[:ETH_HEADER], ip, ip[ihl:]


def hostile_flood(conv: list[pl.Record]) -> list[pl.Record]:
    dst = conv[0].data[ETH_HEADER + 16:ETH_HEADER + 20]
    t0 = conv[0].ts_ns
    before = [flood_fragment(n, dst, t0 - 60_000_000_000 + n * 1000) for n in range(1000)]
    during: list[pl.Record] = []
    for k, r in enumerate(conv):
        during.append(r)
        if k + 1 < len(conv):
            gap = conv[k + 1].ts_ns - r.ts_ns
            per = 1000 // (len(conv) - 1) + (1 if k < 1000 % (len(conv) - 1) else 0)
            step = max(1, (gap - 1) // (per + 1))
            for j in range(per):
                during.append(flood_fragment(1000 + len(during), dst, r.ts_ns + (j + 1) * step))
    return before + during


def hostile_oversize(conv: list[pl.Record]) -> list[pl.Record]:
    eth, ip, _ = ipv4_parts(conv[0])
    src, dst = ip[12:16], ip[16:20]
    data = bytes(range(16))
    bad = pl.ipv4_header(src, dst, 6, len(data), ident=0x7777, df=False, frag=65528 // 8)
    rec = pl.Record(conv[2].ts_ns + 1, ETH_HEADER + len(bad) + len(data), eth + bad + data)
    return conv[:3] + [rec] + conv[3:]


def hostile_tiny_overlap(conv: list[pl.Record], source: list[pl.Record]) -> list[pl.Record]:
    """A copy of the client's ACK of the SYN-ACK (packet 3, 32 bytes of TCP) as a separate
    datagram: [0,8) then [4*2, 8*3) overlapping... [0,16) then [8,24) (not inside [0,16)),
    then [16,32): the datagram is dropped at the second."""
    eth, ip, tcp = ipv4_parts(source[2])
    ts = source[2].ts_ns
    out = []
    for k, (off, end, more) in enumerate([(0, 16, True), (8, 24, True), (16, len(tcp), False)]):
        frag = ipv4_fragment(ip, 0x6666, off, tcp[off:end], more)
        out.append(pl.Record(ts + 1000 + k, ETH_HEADER + len(frag), eth + frag))
    cut = next(i for i, r in enumerate(conv) if r.ts_ns > ts + 1000)
    return conv[:cut] + out + conv[cut:]


# ------------------------------------------------------------------ checks

def tshark_rows(path: str) -> list[tuple[str, ...]]:
    cmd = ["tshark", "-r", path, "-Y", "tcp", "-T", "fields", "-e", "tcp.flags.str", "-e", "tcp.seq_raw",
           "-e", "tcp.len"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return [tuple(line.split("\t")) for line in out.splitlines()]


def check(src: str, derived: str) -> None:
    a, b = tshark_rows(src), tshark_rows(derived)
    if a != b or not a:
        raise SystemExit(f"!!! {os.path.relpath(derived, REPO)}: tshark's TCP rows differ from "
                         f"{os.path.basename(src)}'s:\n  {a}\n  {b}")
    print(f"ok  {os.path.relpath(derived, REPO):44} {len(b):3} reassembled TCP rows identical to "
          f"{os.path.basename(src)}")


def write(name: str, recs: list[pl.Record]) -> str:
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name)
    pl.write_pcap(path, pl.LINKTYPE_ETHERNET, recs, snaplen=65535)
    return path


def main() -> int:
    for v6, src in ((False, V4_SRC), (True, V6_SRC)):
        for order in ("in-order", "out-of-order", "duplicates"):
            path = write(f"{'ipv6' if v6 else 'ipv4'}-{order}.pcap", fragmented(src, v6=v6, order=order))
            check(src, path)
    conv = fragmented(V4_SRC, v6=False, order="in-order")
    source = pl.read_pcap(V4_SRC).records
    for name, recs in (("flood.pcap", hostile_flood(conv)), ("oversize.pcap", hostile_oversize(conv)),
                       ("tiny-overlap.pcap", hostile_tiny_overlap(conv, source))):
        path = write(name, recs)
        print(f"ok  {os.path.relpath(path, REPO):44} {len(recs):5} packets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
