#!/usr/bin/env python3
"""Writes every pcap under captures/ as a seed for the fuzz target (Fuzz/FuzzTarget.swift).

Usage: scripts/fuzz-corpus.py OUTDIR

Framing (see FuzzTarget.swift): byte 0 = index of the link type in FuzzInput.linkTypes,
byte 1 = configuration bits (0 here: the defaults), then per packet u16 BE captured length,
i16 BE time step in milliseconds (clamped), u8 extra wire length (clamped), the bytes.
A recording's socket calls (NAME.events.jsonl) are merged in as call records.
Each capture also gets a variant with all configuration bits set (tiny cap, short timeouts).
pcapng files and compressed files (.gz, .zst, .lz4) are written as they are: the target reads
an input that starts like one as a capture file (teardown's pcapng reader, the decompressors).

Kernel lane seeds (FuzzTarget.swift, bit 7 of byte 1; see Fuzz/KernelFuzz.swift): each format
file in Tests/TeardownKernelTests/Fixtures as text, and a record of each, for IPv4 and IPv6;
the ring-buffer page fixture (6.18-rst-unread.cpu1.raw) and this machine's header_page.

strace seeds (bit 6 of byte 1; see Fuzz/StraceFuzz.swift): each file in
Tests/TeardownStraceTests/Fixtures, the output `teardown trace` reads.
"""

import json
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools", "captures"))
import pcaplib  # noqa: E402

# Must match FuzzInput.linkTypes.
LINK_TYPES = [1, 113, 276, 0, 108, 101, 12, 14, 228, 229, 220, 9, 50, 104, 105, 127, 192, 129, 242, 239]


# Must match FuzzInput.calls: call-name prefix -> index.
CALLS = ["socket", "connect", "accept", "write", "send", "read", "recv", "close", "shutdown", "setsockopt"]


def call_record(ev: dict, last: pcaplib.TCPInfo | None) -> bytes:
    name = ev["call"].lstrip("… ")
    index = next((i for i, c in enumerate(CALLS) if name.startswith(c)), 0)
    extra = (ev.get("pid", 0) & 7) | (ev.get("fd", 0) & 7) << 3
    local = ev.get("local")
    if not local or last is None:
        extra |= 0x40
    elif local.endswith(f":{last.dport}") and local.rsplit(":", 1)[0].strip("[]") == last.dst:
        extra |= 0x80  # the call's socket is the last segment's destination
    return struct.pack(">HhBqq", 0xFF00 | index, 0, extra, ev.get("bytes", 0), ev.get("duration_ns", 0))


def frame(pf: pcaplib.PcapFile, bits: int, events: list[dict]) -> bytes:
    """Packets (and socket calls, merged by time) in the fuzz framing."""
    out = [bytes([LINK_TYPES.index(pf.linktype), bits])]
    items = [(r.ts_ns, 1, r) for r in pf.records] + [(e["time_ns"], 0, e) for e in events]
    items.sort(key=lambda x: (x[0], x[1]))
    last_time = items[0][0] if items else 0
    last_tcp = None
    for t, is_packet, item in items:
        step = max(-32767, min(32766, (t - last_time) // 1_000_000))
        last_time = t
        if not is_packet:
            rec = bytearray(call_record(item, last_tcp))
            rec[2:4] = struct.pack(">h", step)
            out.append(bytes(rec))
            continue
        r = item
        try:
            last_tcp = pcaplib.parse_tcp(pf.linktype, r) or last_tcp
        except ValueError:
            pass  # a link type pcaplib does not decode: calls then name no endpoints
        data = r.data[:65279]
        extra = max(0, min(255, r.orig_len - len(data)))
        out.append(struct.pack(">HhB", len(data), step, extra))
        out.append(data)
    return b"".join(out)


# Must match KernelFuzz.texts.
KERNEL_FORMATS = ["6.18-tcp_send_reset", "6.18-inet_sock_set_state", "6.18-tcp_receive_reset",
                  "6.18-inet_sk_error_report", "6.9-tcp_send_reset"]


def kernel_seeds(outdir: str) -> int:
    """Format texts and records (from after common_type) for the kernel lane."""
    folder = os.path.join(os.path.dirname(__file__), "..", "Tests", "TeardownKernelTests", "Fixtures")
    n = 0
    for index, name in enumerate(KERNEL_FORMATS):
        with open(os.path.join(folder, name + ".format"), "rb") as f:
            text = f.read()
        with open(os.path.join(outdir, "kernel_" + name + ".format"), "wb") as f:
            f.write(bytes([0, 0x80, 0]) + text)
        fields = {}
        for line in text.decode().splitlines():
            line = line.strip()
            if line.startswith("field:"):
                parts = [p.strip() for p in line.split(";")]
                fname = parts[0].split()[-1].split("[")[0].lstrip("*")
                fields[fname] = (int(parts[1].split(":")[1]), int(parts[2].split(":")[1]))
        length = max(o + s for o, s in fields.values())
        for family in (2, 10):
            record = bytearray(length)
            for key, value in (("common_pid", 1), ("skaddr", 0xFFFF888012345600), ("state", 8), ("reason", 11),
                               ("oldstate", 4), ("newstate", 11), ("error", 104), ("sport", 40000),
                               ("dport", 8080), ("family", family), ("protocol", 6)):
                if key in fields:
                    o, size = fields[key]
                    record[o:o + size] = value.to_bytes(size, "little")
            for key in ("saddr", "daddr"):
                o, size = fields[key]
                if size == 28:  # a sockaddr_in or sockaddr_in6
                    record[o:o + 4] = family.to_bytes(2, "little") + (8080).to_bytes(2, "big")
                    record[o + 4:o + 8] = bytes([127, 0, 0, 1])
                    record[o + 23] = 1
                else:
                    record[o:o + size] = bytes([127, 0, 0, 1])
            with open(os.path.join(outdir, f"kernel_{name}.record.{family}"), "wb") as f:
                f.write(bytes([0, 0x80, 2 * index + 1]) + bytes(record[2:]))
            n += 1
        n += 1
    for name, mode in (("6.18-rst-unread.cpu1.raw", 0x40), ("6.18-header_page", 0x42)):
        with open(os.path.join(folder, name), "rb") as f:
            body = f.read()
        with open(os.path.join(outdir, "kernel_" + name), "wb") as f:
            f.write(bytes([0, 0x80, mode]) + body)
        n += 1
    return n


def strace_seeds(outdir: str) -> int:
    """strace's output as `teardown trace` reads it (bit 6 of byte 1: Fuzz/StraceFuzz.swift)."""
    folder = os.path.join(os.path.dirname(__file__), "..", "Tests", "TeardownStraceTests", "Fixtures")
    n = 0
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as f:
            body = f.read()
        with open(os.path.join(outdir, "strace_" + name), "wb") as f:
            f.write(bytes([0, 0x40]) + body)
        n += 1
    return n


def main() -> None:
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    root = os.path.join(os.path.dirname(__file__), "..", "captures")
    n = 0
    for dirpath, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            if name.endswith((".pcapng", ".gz", ".zst", ".lz4")):
                path = os.path.join(dirpath, name)
                stem = os.path.relpath(path, root).replace(os.sep, "_")
                with open(path, "rb") as src, open(os.path.join(outdir, "file_" + stem), "wb") as f:
                    f.write(src.read())
                n += 1
                continue
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
            sidecar = path[:-len(".pcap")] + ".events.jsonl"
            events = []
            if os.path.exists(sidecar) and "malformed" not in path:
                with open(sidecar) as f:
                    events = [json.loads(line) for line in f if line.strip()]
            for bits, suffix in ((0, ""), (0x0F, ".quick")):
                with open(os.path.join(outdir, stem + suffix), "wb") as f:
                    f.write(frame(pf, bits, events))
                n += 1
    n += kernel_seeds(outdir)
    n += strace_seeds(outdir)
    print(f"{n} seeds in {outdir}", file=sys.stderr)


if __name__ == "__main__":
    main()
