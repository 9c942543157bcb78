"""Minimal pcap reading/writing and IPv4/IPv6/TCP building/parsing, standard library only.

Shared by record.py (verification of real recordings), fixtures.py (link-header rewriting)
and crafted.py (hand-built packets).

File format: libpcap savefile, https://www.tcpdump.org/manpages/pcap-savefile.5.html
(magic 0xa1b2c3d4 = microsecond timestamps, 0xa1b23c4d = nanosecond timestamps, either
byte order). Link-type numbers: https://www.tcpdump.org/linktypes.html
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

MAGIC_USEC = 0xA1B2C3D4
MAGIC_NSEC = 0xA1B23C4D

# Link types (https://www.tcpdump.org/linktypes.html)
LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276

ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD
ETH_ARP = 0x0806
ETH_8021Q = 0x8100
ETH_8021AD = 0x88A8

TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK, TCP_URG, TCP_ECE, TCP_CWR = (
    0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80)


@dataclass
class Record:
    """One packet record: timestamp in integer nanoseconds, original length, captured bytes."""
    ts_ns: int
    orig_len: int
    data: bytes


@dataclass
class PcapFile:
    linktype: int
    snaplen: int
    nanosecond: bool
    big_endian: bool
    records: list[Record] = field(default_factory=list)


def read_pcap(path: str) -> PcapFile:
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 24:
        raise ValueError(f"{path}: too short for a pcap header")
    for endian in ("<", ">"):
        (magic,) = struct.unpack(endian + "I", raw[:4])
        if magic in (MAGIC_USEC, MAGIC_NSEC):
            break
    else:
        raise ValueError(f"{path}: not a pcap file (magic {raw[:4].hex()})")
    nano = magic == MAGIC_NSEC
    _, _, _, _, snaplen, linktype = struct.unpack(endian + "HHiIII", raw[4:24])
    pf = PcapFile(linktype & 0x0FFFFFFF, snaplen, nano, endian == ">")
    off = 24
    while off + 16 <= len(raw):
        sec, frac, caplen, origlen = struct.unpack(endian + "IIII", raw[off:off + 16])
        off += 16
        data = raw[off:off + caplen]
        if len(data) != caplen:
            raise ValueError(f"{path}: record cut short at offset {off}")
        off += caplen
        pf.records.append(Record(sec * 1_000_000_000 + (frac if nano else frac * 1000), origlen, data))
    if off != len(raw):
        raise ValueError(f"{path}: {len(raw) - off} trailing bytes")
    return pf


def write_pcap(path: str, linktype: int, records: list[Record], *, nanosecond: bool = True,
               snaplen: int = 262144, big_endian: bool = False) -> None:
    e = ">" if big_endian else "<"
    out = [struct.pack(e + "IHHiIII", MAGIC_NSEC if nanosecond else MAGIC_USEC, 2, 4, 0, 0,
                       snaplen, linktype)]
    for r in records:
        sec, ns = divmod(r.ts_ns, 1_000_000_000)
        frac = ns if nanosecond else ns // 1000
        data = r.data[:snaplen]
        out.append(struct.pack(e + "IIII", sec, frac, len(data), max(r.orig_len, len(data))))
        out.append(data)
    with open(path, "wb") as f:
        f.write(b"".join(out))


# ---------------------------------------------------------------- checksums and building

def inet_checksum(data: bytes) -> int:
    """RFC 1071 Internet checksum."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ipv4_header(src: bytes, dst: bytes, proto: int, payload_len: int, ident: int = 0,
                ttl: int = 64, df: bool = True, options: bytes = b"", frag: int = 0) -> bytes:
    """RFC 791 header with a correct header checksum."""
    assert len(options) % 4 == 0
    ihl = 5 + len(options) // 4
    flags_frag = (0x4000 if df else 0) | frag
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, ihl * 4 + payload_len, ident & 0xFFFF,
                      flags_frag, ttl, proto, 0, src, dst) + options
    csum = inet_checksum(hdr)
    return hdr[:10] + struct.pack("!H", csum) + hdr[12:]


def tcp_segment(src_ip: bytes, dst_ip: bytes, sport: int, dport: int, seq: int, ack: int,
                flags: int, window: int, payload: bytes = b"", options: bytes = b"",
                urg: int = 0) -> bytes:
    """RFC 9293 section 3.1 header + payload, checksum over the IPv4 or IPv6 pseudo-header."""
    if len(options) % 4:
        options += b"\x00" * (4 - len(options) % 4)  # pad with End-of-Option-List
    off = (20 + len(options)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      off << 4, flags, window, 0, urg) + options
    seg = hdr + payload
    if len(src_ip) == 4:
        pseudo = struct.pack("!4s4sBBH", src_ip, dst_ip, 0, 6, len(seg))
    else:
        pseudo = struct.pack("!16s16sIxxxB", src_ip, dst_ip, len(seg), 6)
    csum = inet_checksum(pseudo + seg)
    return seg[:16] + struct.pack("!H", csum) + seg[18:]


def ethernet(dst: bytes, src: bytes, ethertype: int, payload: bytes) -> bytes:
    return dst + src + struct.pack("!H", ethertype) + payload


# ---------------------------------------------------------------- parsing

@dataclass
class TCPInfo:
    ts_ns: int
    src: str
    dst: str
    sport: int
    dport: int
    seq: int
    ack: int
    flags: int
    window: int
    payload_len: int

    @property
    def flag_str(self) -> str:
        """tcpdump's flag notation: S F P R U E W, '.' for ACK."""
        s = ""
        for bit, ch in ((TCP_SYN, "S"), (TCP_FIN, "F"), (TCP_PSH, "P"), (TCP_RST, "R"),
                        (TCP_URG, "U"), (TCP_ECE, "E"), (TCP_CWR, "W")):
            if self.flags & bit:
                s += ch
        if self.flags & TCP_ACK:
            s += "."
        return s or "none"

    def has(self, bit: int) -> bool:
        return bool(self.flags & bit)


def _fmt_ip(b: bytes) -> str:
    import ipaddress
    return str(ipaddress.ip_address(b))


def ip_payload_of(linktype: int, frame: bytes) -> tuple[int, bytes] | None:
    """Return (ethertype, network-layer bytes) for the link types used in this corpus."""
    if linktype == LINKTYPE_ETHERNET:
        if len(frame) < 14:
            return None
        et = struct.unpack("!H", frame[12:14])[0]
        off = 14
        while et in (ETH_8021Q, ETH_8021AD) and len(frame) >= off + 4:
            et = struct.unpack("!H", frame[off + 2:off + 4])[0]
            off += 4
        return et, frame[off:]
    if linktype in (LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6):
        v = frame[0] >> 4 if frame else 0
        return (ETH_IPV4 if v == 4 else ETH_IPV6), frame
    if linktype in (LINKTYPE_NULL, LINKTYPE_LOOP):
        fam_le = struct.unpack("<I", frame[:4])[0]
        fam_be = struct.unpack(">I", frame[:4])[0]
        fam = fam_le if fam_le < 0x10000 else fam_be
        return (ETH_IPV4 if fam == 2 else ETH_IPV6), frame[4:]
    if linktype == LINKTYPE_LINUX_SLL:
        return struct.unpack("!H", frame[14:16])[0], frame[16:]
    if linktype == LINKTYPE_LINUX_SLL2:
        return struct.unpack("!H", frame[0:2])[0], frame[20:]
    raise ValueError(f"unsupported link type {linktype}")


def parse_tcp(linktype: int, rec: Record) -> TCPInfo | None:
    """Decode a TCP segment (IPv4 or IPv6 with extension headers); None for anything else."""
    got = ip_payload_of(linktype, rec.data)
    if got is None:
        return None
    et, ip = got
    if et == ETH_IPV4 and len(ip) >= 20 and ip[0] >> 4 == 4:
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        if ip[9] != 6 or struct.unpack("!H", ip[6:8])[0] & 0x1FFF:
            return None
        src, dst = _fmt_ip(ip[12:16]), _fmt_ip(ip[16:20])
        tcp, tcp_len = ip[ihl:total], total - ihl
    elif et == ETH_IPV6 and len(ip) >= 40 and ip[0] >> 4 == 6:
        plen = struct.unpack("!H", ip[4:6])[0]
        nh, off = ip[6], 40
        while nh in (0, 43, 60) and len(ip) >= off + 2:  # hop-by-hop, routing, dest options
            nh, off = ip[off], off + (ip[off + 1] + 1) * 8
        if nh != 6:
            return None
        src, dst = _fmt_ip(ip[8:24]), _fmt_ip(ip[24:40])
        tcp, tcp_len = ip[off:40 + plen], 40 + plen - off
    else:
        return None
    if len(tcp) < 20:
        return None
    sport, dport, seq, ack, offb, flags, win = struct.unpack("!HHIIBBH", tcp[:16])
    return TCPInfo(rec.ts_ns, src, dst, sport, dport, seq, ack, flags, win,
                   tcp_len - (offb >> 4) * 4)


def tcp_packets(path: str) -> list[TCPInfo]:
    pf = read_pcap(path)
    return [t for r in pf.records if (t := parse_tcp(pf.linktype, r)) is not None]


def connections(pkts: list[TCPInfo]) -> list[list[TCPInfo]]:
    """Group segments by 4-tuple; a SYN without ACK on a tuple whose connection already saw
    FIN or RST starts a new connection. Order is by first packet."""
    open_: dict[tuple, list[TCPInfo]] = {}
    out: list[list[TCPInfo]] = []
    for p in pkts:
        key = tuple(sorted(((p.src, p.sport), (p.dst, p.dport))))
        cur = open_.get(key)
        if cur is not None and p.has(TCP_SYN) and not p.has(TCP_ACK) and any(
                q.has(TCP_FIN) or q.has(TCP_RST) for q in cur):
            cur = None
        if cur is None:
            cur = []
            open_[key] = cur
            out.append(cur)
        cur.append(p)
    return out
