#!/usr/bin/env python3
"""Capture files as Wireshark reads them: pcapng beyond what libpcap reads, compressed files, a
clock that goes back. Written into captures/files/ (and hostile variants into captures/malformed/).

    python3 tools/captures/files.py        # needs tshark, gzip, zstd, lz4; no root needed

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
    cmd = ["tshark", "-n", "-r", path, "-T", "fields"]
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


def main() -> int:
    os.makedirs(OUT, exist_ok=True)
    for tool in ("tshark",):
        if shutil.which(tool) is None:
            fail(f"{tool} is needed (apt-get install tshark)")
    clock_back()
    return 0


if __name__ == "__main__":
    sys.exit(main())
