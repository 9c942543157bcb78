#!/usr/bin/env python3
"""Writes every pcap under captures/ as a seed for the fuzz target (Fuzz/FuzzTarget.swift).

Usage: scripts/fuzz-corpus.py OUTDIR

Framing (see FuzzTarget.swift): byte 0 = index of the link type in FuzzInput.linkTypes,
byte 1 = configuration bits (0 here: the defaults), then per packet u16 BE captured length,
i16 BE time step in milliseconds (clamped), u8 extra wire length (clamped), the bytes.
Each capture also gets a variant with all configuration bits set (tiny cap, short timeouts).
pcapng files are skipped: each has a pcap twin under captures/.
"""

import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools", "captures"))
import pcaplib  # noqa: E402

# Must match FuzzInput.linkTypes.
LINK_TYPES = [1, 113, 276, 0, 108, 101, 12, 14, 228, 229, 9]


def frame(pf: pcaplib.PcapFile, bits: int) -> bytes:
    out = [bytes([LINK_TYPES.index(pf.linktype), bits])]
    last = pf.records[0].ts_ns if pf.records else 0
    for r in pf.records:
        step = max(-32768, min(32767, (r.ts_ns - last) // 1_000_000))
        last = r.ts_ns
        data = r.data[:65535]
        extra = max(0, min(255, r.orig_len - len(data)))
        out.append(struct.pack(">HhB", len(data), step, extra))
        out.append(data)
    return b"".join(out)


def main() -> None:
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    root = os.path.join(os.path.dirname(__file__), "..", "captures")
    n = 0
    for dirpath, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            if not name.endswith(".pcap"):
                continue
            path = os.path.join(dirpath, name)
            try:
                pf = pcaplib.read_pcap(path)
            except ValueError:
                continue  # captures/malformed: not readable as a whole, by design
            if pf.linktype not in LINK_TYPES:
                continue
            stem = os.path.relpath(path, root).replace(os.sep, "_")[:-len(".pcap")]
            for bits, suffix in ((0, ""), (0x0F, ".quick")):
                with open(os.path.join(outdir, stem + suffix), "wb") as f:
                    f.write(frame(pf, bits))
                n += 1
    print(f"{n} seeds in {outdir}", file=sys.stderr)


if __name__ == "__main__":
    main()
