#!/usr/bin/env python3
"""Builds the hostile capture files in captures/malformed/ (see its README.md).

Usage:
  tools/captures/malformed.py                       (re)write the hand-made edge cases
  tools/captures/malformed.py from-fuzz INPUT NAME  turn a fuzzer input (Fuzz/FuzzTarget.swift framing)
                                                    into captures/malformed/NAME.pcap

Each edge case starts from captures/real/graceful-client-close.pcap (10 packets, one graceful
connection; pcap, nanosecond, little-endian) or its pcapng twin in captures/fixtures/.
File formats: pcap-savefile(5); pcapng, draft-ietf-opsawg-pcapng §3-4.
"""

import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
OUT = os.path.join(ROOT, "captures", "malformed")
sys.path.insert(0, HERE)
import pcaplib  # noqa: E402

# Must match FuzzInput.linkTypes in Fuzz/FuzzTarget.swift.
FUZZ_LINK_TYPES = [1, 113, 276, 0, 108, 101, 12, 14, 228, 229, 9]


def records(d: bytes) -> list[int]:
    """Offsets of the pcap record headers (little-endian file)."""
    off, out = 24, []
    while off + 16 <= len(d):
        out.append(off)
        off += 16 + struct.unpack("<I", d[off + 8:off + 12])[0]
    return out


def blocks(d: bytes) -> list[bytes]:
    off, out = 0, []
    while off + 12 <= len(d):
        length = struct.unpack("<I", d[off + 4:off + 8])[0]
        out.append(d[off:off + length])
        off += length
    return out


def write(name: str, data: bytes) -> None:
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def edge_cases() -> None:
    pcap = open(os.path.join(ROOT, "captures/real/graceful-client-close.pcap"), "rb").read()
    ng = open(os.path.join(ROOT, "captures/fixtures/graceful-client-close.pcapng"), "rb").read()
    recs = records(pcap)
    assert len(recs) == 10, len(recs)
    fifth = recs[4]
    caplen5 = struct.unpack("<I", pcap[fifth + 8:fifth + 12])[0]

    write("empty.pcap", b"")
    # 10 of the 24 header bytes.
    write("header-cut.pcap", pcap[:10])
    # Packet 5's record header and half of its bytes.
    write("record-cut.pcap", pcap[:fifth + 16 + caplen5 // 2])
    # Packet 5 claims 300,000 captured bytes: more than libpcap accepts for any file
    # (its maximum snapshot length, 262,144), so reading stops there.
    b = bytearray(pcap)
    b[fifth + 8:fifth + 12] = struct.pack("<I", 300_000)
    write("caplen-over-maximum.pcap", bytes(b))
    # The file header says snaplen 60 but the records hold up to 110 bytes: libpcap (like
    # tcpdump) keeps the first 60 bytes of each and reads on.
    b = bytearray(pcap)
    b[16:20] = struct.pack("<I", 60)
    write("caplen-over-snaplen.pcap", bytes(b))
    # A block of an unknown type (0x0BAD0BAD) after the third packet: pcapng readers skip
    # blocks they do not know (§3.1), so all 10 packets are read.
    bl = blocks(ng)
    assert [struct.unpack("<I", x[:4])[0] for x in bl[:3]] == [0x0A0D0D0A, 1, 6]
    unknown = struct.pack("<II", 0x0BAD0BAD, 16) + b"abcd" + struct.pack("<I", 16)
    write("unknown-block.pcapng", b"".join(bl[:5]) + unknown + b"".join(bl[5:]))
    # The same block with a trailer length that disagrees with its header: corrupt.
    bad = struct.pack("<II", 0x0BAD0BAD, 16) + b"abcd" + struct.pack("<I", 20)
    write("block-length-mismatch.pcapng", b"".join(bl[:5]) + bad + b"".join(bl[5:]))


def sidecar_overflow() -> None:
    """A recording whose socket-call sidecar (NAME.events.jsonl, read by replay) claims reads of
    2^63 - 1 bytes each: their sum overflowed Int64 in CallCorrelation.attach (a trap)."""
    src = os.path.join(ROOT, "captures/experiments/linger-off")
    with open(src + ".pcap", "rb") as f:
        write("sidecar-read-overflow.pcap", f.read())
    with open(src + ".events.jsonl") as f:
        events = f.read()
    assert events.count('"bytes":4096,') == 7
    write("sidecar-read-overflow.events.jsonl",
          events.replace('"bytes":4096,', '"bytes":9223372036854775807,').encode())


def from_fuzz(path: str, name: str) -> None:
    """Decodes the fuzz framing (FuzzTarget.swift) into a pcap of the same packets."""
    d = open(path, "rb").read()
    if len(d) < 2:
        raise SystemExit("input shorter than the 2-byte preamble")
    linktype = FUZZ_LINK_TYPES[d[0] % len(FUZZ_LINK_TYPES)]
    t = 1_700_000_000_000_000_000
    off, recs = 2, []
    while off + 5 <= len(d):
        length, step, extra = struct.unpack(">HhB", d[off:off + 5])
        off += 5
        data = d[off:off + length]
        off += len(data)
        t += step * 1_000_000
        recs.append(pcaplib.Record(t, len(data) + extra, data))
    pcaplib.write_pcap(os.path.join(OUT, name + ".pcap"), linktype, recs)
    print(f"captures/malformed/{name}.pcap: link type {linktype}, {len(recs)} packets, "
          f"configuration bits {d[1]:#04x}", file=sys.stderr)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    if len(sys.argv) == 4 and sys.argv[1] == "from-fuzz":
        from_fuzz(sys.argv[2], sys.argv[3])
    else:
        edge_cases()
        sidecar_overflow()
