#!/usr/bin/env python3
"""Capture files as Wireshark reads them: pcapng beyond what libpcap reads, compressed files, a
clock that goes back. Written into captures/files/ (and hostile variants into captures/malformed/).

    python3 tools/captures/files.py        # needs tshark, gzip, zstd, lz4 (Debian packages); no root needed

Every file holds real packets from captures/real/; only the file around them changes. The script
checks each file with tshark where tshark reads it (the TCP rows `frame.number tcp.flags.str
tcp.seq_raw tcp.len`, and the packet times `frame.time_epoch`) and fails loudly otherwise.

pcapng: draft-ietf-opsawg-pcapng (Section Header Block 0x0A0D0D0A, Interface Description Block 1
with if_tsresol (9) and if_tsoffset (14), Enhanced Packet Block 6, Simple Packet Block 3, the
obsolete Packet Block 2, Name Resolution 4, Interface Statistics 5, Decryption Secrets 0x0A,
Custom 0x0BAD).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pcaplib as pl  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
REAL = os.path.join(REPO, "captures", "real")
OUT = os.path.join(REPO, "captures", "files")
BAD = os.path.join(REPO, "captures", "malformed")


def real(name: str) -> pl.PcapFile:
    return pl.read_pcap(os.path.join(REAL, name))


def rel(path: str) -> str:
    return os.path.relpath(path, REPO)


def fail(msg: str) -> None:
    print(f"!!! {msg}", file=sys.stderr)
    sys.exit(1)


# ------------------------------------------------------------------ tshark checks

def tshark(path: str, *fields: str) -> list[tuple[str, ...]]:
    # Packets only: Wireshark shows a pcapng custom block as a frame of its own (tcpdump and
    # teardown number packets only), so frames are picked by having an encapsulation.
    cmd = ["tshark", "-n", "-r", path, "-Y", "frame.encap_type", "-T", "fields"]
    for f in fields:
        cmd += ["-e", f]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"tshark cannot read {rel(path)}: {r.stderr.strip()}")
    return [tuple(line.split("\t")) for line in r.stdout.splitlines()]


TCP_ROW = ("tcp.flags.str", "tcp.seq_raw", "tcp.len")


def same_tcp(a: str, b: str) -> None:
    """tshark shows the same TCP rows (flags, raw seq, length) in `a` and `b`."""
    ra, rb = tshark(a, *TCP_ROW), tshark(b, *TCP_ROW)
    if ra != rb:
        fail(f"tshark's TCP rows of {rel(b)} differ from {rel(a)}")
    print(f"ok  {rel(b):52} {len(rb)} TCP rows as in {rel(a)}")


def times(path: str) -> list[int]:
    """tshark's packet times in nanoseconds (frame.time_epoch has nine decimals)."""
    out = []
    for (t,) in tshark(path, "frame.time_epoch"):
        sec, _, frac = t.partition(".")
        out.append(int(sec) * 1_000_000_000 + int((frac + "000000000")[:9]))
    return out


# ------------------------------------------------------------------ the clock goes back

def clock_back() -> None:
    """graceful-client-close with packets 6-10 stamped 2 s earlier, as when NTP steps the
    capturing host's clock back mid-capture: the connection's last packets are earlier than its
    first."""
    src = real("graceful-client-close.pcap")
    recs = [pl.Record(r.ts_ns - (2_000_000_000 if i >= 5 else 0), r.orig_len, r.data)
            for i, r in enumerate(src.records)]
    path = os.path.join(OUT, "clock-back.pcap")
    pl.write_pcap(path, src.linktype, recs)
    same_tcp(os.path.join(REAL, "graceful-client-close.pcap"), path)
    t = times(path)
    if not (t[5] < t[0] and t == [r.ts_ns for r in recs]):
        fail(f"{rel(path)}: tshark's times do not go back at packet 6")


# ------------------------------------------------------------------ pcapng writing

class Pcapng:
    """A pcapng file built block by block in one byte order (a new section may change it)."""

    def __init__(self) -> None:
        self.out: list[bytes] = []
        self.e = "<"

    @staticmethod
    def pad(b: bytes) -> bytes:
        return b + b"\0" * (-len(b) % 4)

    def option(self, code: int, value: bytes) -> bytes:
        return struct.pack(self.e + "HH", code, len(value)) + self.pad(value)

    def end_of_options(self) -> bytes:
        return struct.pack(self.e + "HH", 0, 0)

    def block(self, btype: int, body: bytes) -> None:
        body = self.pad(body)
        n = 12 + len(body)
        self.out.append(struct.pack(self.e + "II", btype, n) + body + struct.pack(self.e + "I", n))

    def section(self, big_endian: bool) -> None:
        self.e = ">" if big_endian else "<"
        opts = self.option(4, b"tools/captures/files.py") + self.end_of_options()   # shb_userappl
        self.block(0x0A0D0D0A, struct.pack(self.e + "IHHq", 0x1A2B3C4D, 1, 0, -1) + opts)

    def interface(self, linktype: int, snaplen: int, tsresol: int, tsoffset: int = 0) -> None:
        opts = self.option(9, bytes([tsresol]))
        if tsoffset:
            opts += self.option(14, struct.pack(self.e + "q", tsoffset))
        self.block(1, struct.pack(self.e + "HHI", linktype, 0, snaplen) + opts + self.end_of_options())

    def packet(self, iface: int, units: int, data: bytes, orig_len: int, obsolete: bool = False) -> None:
        hi, lo = units >> 32, units & 0xFFFFFFFF
        if obsolete:   # Packet Block (type 2): 16-bit interface ID, 16-bit drops count
            head = struct.pack(self.e + "HHIIII", iface, 0, hi, lo, len(data), orig_len)
            self.block(2, head + self.pad(data))
        else:
            head = struct.pack(self.e + "IIIII", iface, hi, lo, len(data), orig_len)
            self.block(6, head + self.pad(data))

    def name_resolution(self) -> None:
        rec = struct.pack(self.e + "HH", 1, 14) + bytes([127, 0, 0, 1]) + b"localhost\0"
        self.block(4, self.pad(rec) + struct.pack(self.e + "HH", 0, 0))

    def statistics(self, iface: int, units: int) -> None:
        self.block(5, struct.pack(self.e + "III", iface, units >> 32, units & 0xFFFFFFFF)
                   + self.option(4, struct.pack(self.e + "Q", 0)) + self.end_of_options())   # isb_ifrecv

    def custom(self) -> None:
        self.block(0x00000BAD, struct.pack(self.e + "I", 32473) + b"teardown test")   # PEN 32473: documentation

    def secrets(self) -> None:
        self.block(0x0000000A, struct.pack(self.e + "II", 0x544C534B, 0))   # TLS key log, empty

    def write(self, path: str) -> None:
        with open(path, "wb") as f:
            f.write(b"".join(self.out))


def units(ts_ns: int, tsresol: int, tsoffset: int) -> int:
    """A timestamp in an interface's units (if_tsresol), cut as a writer cuts it."""
    t = ts_ns - tsoffset * 1_000_000_000
    if tsresol & 0x80:
        return (t << (tsresol & 0x7F)) // 1_000_000_000
    n = tsresol
    return t * 10 ** n // 10 ** 9


def read_back(u: int, tsresol: int, tsoffset: int) -> int:
    """What a reader makes of it: seconds, and the fraction cut to nanoseconds."""
    per_second = 1 << (tsresol & 0x7F) if tsresol & 0x80 else 10 ** tsresol
    sec, frac = divmod(u, per_second)
    return (sec + tsoffset) * 1_000_000_000 + frac * 1_000_000_000 // per_second


def strip_ethernet(pf: pl.PcapFile) -> list[pl.Record]:
    return [pl.Record(r.ts_ns, r.orig_len - 14, r.data[14:]) for r in pf.records]


# ------------------------------------------------------------------ the pcapng files

def multi_interface() -> None:
    """Two interfaces libpcap will not read together: Ethernet (snaplen 65535, nanoseconds,
    offset 1,700,000,000 s) carrying real/graceful-client-close, and raw IP (snaplen 128,
    2^-20 s, offset 1,795,000,000 s) carrying real/ipv6-graceful, moved in time to interleave
    with it; a name resolution block, a custom block and a decryption secrets block before the
    packets, interface statistics after them."""
    v4 = real("graceful-client-close.pcap")
    v6 = real("ipv6-graceful.pcap")
    raw6 = strip_ethernet(v6)
    shift = v4.records[2].ts_ns + 1_000 - raw6[0].ts_ns   # the IPv6 handshake after packet 3 of the IPv4 one
    raw6 = [pl.Record(r.ts_ns + shift, r.orig_len, r.data) for r in raw6]
    ifaces = [(pl.LINKTYPE_ETHERNET, 65535, 9, 1_700_000_000), (pl.LINKTYPE_RAW, 128, 0x80 | 20, 1_795_000_000)]
    items = sorted([(r.ts_ns, 0, r) for r in v4.records] + [(r.ts_ns, 1, r) for r in raw6], key=lambda x: (x[0], x[1]))
    f = Pcapng()
    f.section(big_endian=False)
    f.name_resolution()
    for lt, snap, res, off in ifaces:
        f.interface(lt, snap, res, off)
    f.custom()    # Wireshark shows it as a frame of its own; a reader of packets skips it
    f.secrets()
    expected = []
    for ts, i, r in items:
        _, snap, res, off = ifaces[i]
        u = units(ts, res, off)
        f.packet(i, u, r.data[:snap], r.orig_len)
        expected.append(read_back(u, res, off))
    for i, (_, _, res, off) in enumerate(ifaces):
        f.statistics(i, units(items[-1][0], res, off))
    path = os.path.join(OUT, "multi-interface.pcapng")
    f.write(path)
    # tshark reads it whole: 20 TCP rows, the two conversations' rows in the merged order,
    # and the times a reader must make of each interface's units.
    rows = tshark(path, "frame.interface_id", *TCP_ROW)
    want = [(str(i),) + row for (_, i, _), row in zip(items, merged_rows(items))]
    if rows != want:
        fail(f"{rel(path)}: tshark's rows differ from the two recordings'")
    if times(path) != expected:
        fail(f"{rel(path)}: tshark's times are not those if_tsresol and if_tsoffset give")
    if not any(t != r[0] for t, r in zip(expected, items)):
        fail(f"{rel(path)}: the 2^-20 resolution should cut some times")
    print(f"ok  {rel(path):52} {len(rows)} rows on 2 interfaces, tshark's times as read back")


def merged_rows(items) -> list[tuple[str, ...]]:
    """tshark's TCP rows of the two source recordings, in the merged order."""
    rows = {0: iter(tshark(os.path.join(REAL, "graceful-client-close.pcap"), *TCP_ROW)),
            1: iter(tshark(os.path.join(REAL, "ipv6-graceful.pcap"), *TCP_ROW))}
    return [next(rows[i]) for _, i, _ in items]


def big_endian() -> None:
    """real/graceful-server-close as a big-endian pcapng (nanoseconds, an offset), times exact."""
    src = real("graceful-server-close.pcap")
    f = Pcapng()
    f.section(big_endian=True)
    f.interface(src.linktype, 262144, 9, 1_000_000_000)
    for r in src.records:
        f.packet(0, units(r.ts_ns, 9, 1_000_000_000), r.data, r.orig_len)
    path = os.path.join(OUT, "big-endian.pcapng")
    f.write(path)
    same_tcp(os.path.join(REAL, "graceful-server-close.pcap"), path)
    if times(path) != [r.ts_ns for r in src.records]:
        fail(f"{rel(path)}: times differ from the recording's")


def two_sections() -> None:
    """real/half-close-then-data in two sections: the first little-endian (Enhanced Packet
    Blocks and the obsolete Packet Block in turn, a name resolution and a custom block), the
    second big-endian with its own interface (interface IDs start again at 0)."""
    src = real("half-close-then-data.pcap")
    f = Pcapng()
    half = len(src.records) // 2
    f.section(big_endian=False)
    f.name_resolution()
    f.interface(src.linktype, 262144, 9)
    for k, r in enumerate(src.records[:half]):
        f.packet(0, units(r.ts_ns, 9, 0), r.data, r.orig_len, obsolete=k % 2 == 1)
        if k == 3:
            f.custom()
    f.statistics(0, units(src.records[half - 1].ts_ns, 9, 0))
    f.section(big_endian=True)
    f.interface(src.linktype, 65535, 9, 1_700_000_000)   # counted from an offset here
    f.interface(pl.LINKTYPE_RAW, 0, 6)                  # described, never used
    for r in src.records[half:]:
        f.packet(0, units(r.ts_ns, 9, 1_700_000_000), r.data, r.orig_len)
    path = os.path.join(OUT, "two-sections.pcapng")
    f.write(path)
    same_tcp(os.path.join(REAL, "half-close-then-data.pcap"), path)
    if times(path) != [r.ts_ns for r in src.records]:
        fail(f"{rel(path)}: times differ from the recording's")


def unsupported_interface() -> None:
    """An interface of a link type teardown does not read (USER0, 147) beside an Ethernet one
    carrying real/graceful-client-close: the Ethernet packets are read, the others counted."""
    src = real("graceful-client-close.pcap")
    f = Pcapng()
    f.section(big_endian=False)
    f.interface(147, 0, 9)
    f.interface(src.linktype, 262144, 9)
    for k, r in enumerate(src.records):
        if k in (0, 4, 9):
            f.packet(0, r.ts_ns, bytes([0xAB] * 20 + [k]), 21)   # a private link layer's frame
        f.packet(1, r.ts_ns, r.data, r.orig_len)
    path = os.path.join(OUT, "unsupported-interface.pcapng")
    f.write(path)
    rows = tshark(path, "frame.interface_id", *TCP_ROW)
    tcp = [row[1:] for row in rows if row[0] == "1"]
    if tcp != tshark(os.path.join(REAL, "graceful-client-close.pcap"), *TCP_ROW) or len(rows) != 13:
        fail(f"{rel(path)}: tshark does not read it as 10 TCP rows on interface 1 and 3 others")
    print(f"ok  {rel(path):52} 10 TCP rows on interface 1, 3 frames of USER0 on interface 0")


# ------------------------------------------------------------------ compressed files

COMPRESSORS = {
    # Deterministic: gzip -n leaves out the name and time; zstd and lz4 write checksums of the
    # content by default (zstd --check, lz4 content checksum).
    ".gz": ["gzip", "-9", "-n", "-c"],
    ".zst": ["zstd", "-19", "-q", "-c"],
    ".lz4": ["lz4", "-9", "-q", "-c"],
}


def compress(src: str, suffix: str, dest: str) -> bytes:
    with open(src, "rb") as f:
        data = f.read()
    out = subprocess.run(COMPRESSORS[suffix], input=data, capture_output=True, check=True).stdout
    with open(dest, "wb") as f:
        f.write(out)
    return out


def compressed() -> None:
    """real/many-connections compressed three ways, two-sections.pcapng with gzip: the same
    packets once decompressed (checked by decompressing with the same tools)."""
    jobs = [(os.path.join(REAL, "many-connections.pcap"), s) for s in COMPRESSORS] + \
           [(os.path.join(OUT, "two-sections.pcapng"), ".gz")]
    for src, suffix in jobs:
        dest = os.path.join(OUT, os.path.basename(src) + suffix)
        compress(src, suffix, dest)
        back = subprocess.run(COMPRESSORS[suffix][:1] + ["-d", "-c"], stdin=open(dest, "rb"), capture_output=True, check=True).stdout
        if back != open(src, "rb").read():
            fail(f"{rel(dest)} does not decompress to {rel(src)}")
        r = subprocess.run(["tshark", "-n", "-r", dest, "-Y", "frame.encap_type", "-T", "fields", *sum((["-e", f] for f in TCP_ROW), [])],
                           capture_output=True, text=True)
        if r.returncode == 0:   # tshark 4.0 reads gzip; zstd and LZ4 from 4.2 on
            if [tuple(x.split("\t")) for x in r.stdout.splitlines()] != tshark(src, *TCP_ROW):
                fail(f"tshark reads {rel(dest)} differently from {rel(src)}")
            print(f"ok  {rel(dest):52} decompresses to {rel(src)}; tshark reads it alike")
        else:
            print(f"ok  {rel(dest):52} decompresses to {rel(src)}; this tshark does not read it")


def malformed() -> None:
    """Broken compressed files, for captures/malformed/: cut short, and damaged inside. A damaged
    file is two members or frames (as `cat a.gz b.gz` makes), the damage in the second, so that
    the packets of the first are read before the error."""
    src = open(os.path.join(REAL, "many-connections.pcap"), "rb").read()
    half = len(src) // 2

    def two_frames(suffix: str) -> bytes:
        a = subprocess.run(COMPRESSORS[suffix], input=src[:half], capture_output=True, check=True).stdout
        b = bytearray(subprocess.run(COMPRESSORS[suffix], input=src[half:], capture_output=True, check=True).stdout)
        b[len(b) // 2] ^= 0x10
        return a + bytes(b)

    gz = open(os.path.join(OUT, "many-connections.pcap.gz"), "rb").read()
    png = open(os.path.join(OUT, "two-sections.pcapng.gz"), "rb").read()
    png_src = open(os.path.join(OUT, "two-sections.pcapng"), "rb").read()
    files = {   # name: (bytes, what they hold once decompressed)
        "gzip-cut.pcap.gz": (gz[: len(gz) // 2], src),
        "gzip-cut.pcapng.gz": (png[: len(png) * 2 // 3], png_src),
        "gzip-damaged.pcap.gz": (two_frames(".gz"), src),
        "zstd-damaged.pcap.zst": (two_frames(".zst"), src),
        "lz4-damaged.pcap.lz4": (two_frames(".lz4"), src),
    }
    for name, (data, original) in files.items():
        path = os.path.join(BAD, name)
        with open(path, "wb") as f:
            f.write(data)
        tool = {"gz": "gzip", "zst": "zstd", "lz4": "lz4"}[name.rsplit(".", 1)[1]]
        r = subprocess.run([tool, "-d", "-c"], stdin=open(path, "rb"), capture_output=True)
        if r.returncode == 0:
            fail(f"{rel(path)}: {tool} -d reads it without an error; it should be broken")
        if not r.stdout or not original.startswith(r.stdout[: len(r.stdout) // 2]):
            fail(f"{rel(path)}: {tool} -d gives nothing of the recording before the error")
        print(f"ok  {rel(path):52} {tool} -d fails after {len(r.stdout)} bytes: {r.stderr.decode().strip().splitlines()[0][:50]}")


def main() -> int:
    os.makedirs(OUT, exist_ok=True)
    for tool in ("tshark", "gzip", "zstd", "lz4"):
        if shutil.which(tool) is None:
            fail(f"{tool} is needed (apt-get install tshark gzip zstd lz4)")
    clock_back()
    multi_interface()
    big_endian()
    two_sections()
    unsupported_interface()
    compressed()
    malformed()
    return 0


if __name__ == "__main__":
    sys.exit(main())
