#!/usr/bin/env python3
"""Generate a deterministic synthetic TCP capture for the teardown benchmark.

Writes FILE (classic pcap, Ethernet, microsecond timestamps) and FILE.truth.tsv (the true
ending of every connection). The packet work is done by gen_capture.c, which this script
compiles with `cc -O2` (cached under bench-out/bin/) because Python would take minutes
for the 5-million-packet capture.

    tools/captures/gen_capture.py --preset small
    tools/captures/gen_capture.py --preset large --out bench-out/large.pcap
    tools/captures/gen_capture.py --connections 618000 --concurrency 10000 --seed 1 --out x.pcap

Same arguments, same bytes, on any machine. See bench/README.md for the model.
"""

import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SOURCE = os.path.join(HERE, "gen_capture.c")

# small: about 190k packets and 107 MB, a few seconds for every tool.
# large: the reference size: about 4.9M packets, 309,000 connections, 10,000 open at once.
PRESETS = {
    "small": {"connections": 12_000, "concurrency": 500},
    "large": {"connections": 309_000, "concurrency": 10_000},
}


def compiled_generator(bin_dir):
    """Path to the compiled generator, rebuilt when gen_capture.c is newer than it."""
    os.makedirs(bin_dir, exist_ok=True)
    exe = os.path.join(bin_dir, "gen_capture")
    if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(SOURCE):
        cc = os.environ.get("CC", "cc")
        subprocess.run([cc, "-O2", "-Wall", "-o", exe, SOURCE], check=True)
    return exe


def default_out(connections, concurrency, seed):
    return os.path.join(ROOT, "bench-out", f"synth-n{connections}-k{concurrency}-s{seed}.pcap")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=sorted(PRESETS), default="small",
                    help="size preset (default: small); --connections/--concurrency override it")
    ap.add_argument("--connections", type=int, help="number of connections in the capture")
    ap.add_argument("--concurrency", type=int, help="at most this many connections open at once")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    ap.add_argument("--v6-percent", type=int, default=10, help="share of IPv6 connections (default: 10)")
    ap.add_argument("--out", help="output pcap (default: bench-out/synth-nN-kK-sS.pcap)")
    ap.add_argument("--print-path", action="store_true",
                    help="only print the output path these arguments select, generate nothing")
    a = ap.parse_args(argv)

    n = a.connections or PRESETS[a.preset]["connections"]
    k = a.concurrency or PRESETS[a.preset]["concurrency"]
    if n <= 0 or k <= 0:
        ap.error("--connections and --concurrency must be positive")
    out = a.out or default_out(n, k, a.seed)
    if a.print_path:
        print(out)
        return 0
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    exe = compiled_generator(os.path.join(ROOT, "bench-out", "bin"))
    cmd = [exe, "--connections", str(n), "--concurrency", str(k), "--seed", str(a.seed),
           "--v6-percent", str(a.v6_percent), "--out", out]
    return subprocess.run(cmd).returncode


if __name__ == "__main__":
    sys.exit(main())
