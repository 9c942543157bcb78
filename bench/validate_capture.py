#!/usr/bin/env python3
"""Check a generated capture and its truth file with independent tools.

    bench/validate_capture.py CAPTURE.pcap

1. tshark finds no malformed packet and no bad IPv4/TCP checksum.
2. `tshark -q -z conv,tcp` lists exactly as many TCP conversations as the truth has rows
   (and `tcptrace -n`, when installed, is reported; it splits a few IPv6 connections, a known
   weakness of its hashing, so its count is informative only).
3. Every connection's ending, re-derived here from tshark's dissection of the packets (flags,
   raw seq/ack, payload length; not from the generator's code), matches the truth row:
   who sent the SYN, teardown, closed_by, half_close, and the Zeek conn_state by Zeek's rules
   for these shapes. This is how the truth file itself is tested.

Slow on big captures (tshark): meant for the small preset.
"""

import collections
import ipaddress
import shutil
import subprocess
import sys

FIN, SYN, RST, ACK = 0x01, 0x02, 0x04, 0x10


def tshark(*args):
    r = subprocess.run(["tshark", *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"tshark failed: {r.stderr.strip()}")
    return r.stdout


def derive(pkts, orig):
    """Ending of one connection from its packets [(src endpoint, flags, seq, ack, len)]."""
    d = lambda p: "orig" if p[0] == orig else "resp"
    has_synack = any(p[1] & SYN and p[1] & ACK for p in pkts)
    rsts = [p for p in pkts if p[1] & RST]
    fins = {}   # side -> (index, seq of the FIN)
    for i, p in enumerate(pkts):
        if p[1] & FIN and d(p) not in fins:
            fins[d(p)] = (i, (p[2] + p[4]) & 0xFFFFFFFF)
    if not has_synack:
        if rsts and d(rsts[0]) == "resp":
            return "refused", "resp", "REJ", "false"
        if all(d(p) == "orig" and p[1] & SYN for p in pkts):
            return "unanswered", "-", "S0", "false"
        return "?", "?", "?", "?"
    if rsts:
        first_rst = pkts.index(rsts[0])
        if not fins or min(i for i, _ in fins.values()) > first_rst:
            who = d(rsts[0])
            return ("abort-by-originator" if who == "orig" else "abort-by-responder", who,
                    "RSTO" if who == "orig" else "RSTR", "false")
        return "?", "?", "?", "?"
    if not fins:
        return "open", "-", "S1", "false"
    first = min(fins, key=lambda s: fins[s][0])
    other = "resp" if first == "orig" else "orig"
    if other not in fins:
        return "half-closed", first, "S2" if first == "orig" else "S3", "false"
    fi, fseq = fins[first]
    oi, _ = fins[other]
    second_fin = pkts[oi]
    acked = lambda side, seq: any(d(p) == side and p[1] & ACK and p[3] == (seq + 1) & 0xFFFFFFFF for p in pkts)
    if not (acked(other, fseq) and acked(first, fins[other][1])):
        return "?", "?", "?", "?"          # a FIN never acknowledged: not a finished ending
    if second_fin[3] != (fseq + 1) & 0xFFFFFFFF:
        return "simultaneous-close", "both", "SF", "false"
    data_after = any(d(p) == other and p[4] > 0 for p in pkts[fi + 1:])
    return "graceful", first, "SF", "true" if data_after else "false"


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    cap = sys.argv[1]
    truth = {}
    with open(cap + ".truth.tsv") as f:
        next(f)
        for line in f:
            r = line.rstrip("\n").split("\t")
            truth[(str(ipaddress.ip_address(r[0])), int(r[1]), str(ipaddress.ip_address(r[2])), int(r[3]))] = r[4:9]
    failures = 0

    bad = tshark("-r", cap, "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
                 "-Y", '_ws.malformed || _ws.expert.severity >= error || ip.checksum.status == "Bad"'
                       ' || tcp.checksum.status == "Bad"').splitlines()
    print(f"tshark: malformed packets, errors or bad checksums: {len(bad)}")
    for line in bad[:5]:
        print("   ", line)
    failures += len(bad) > 0

    conv = sum(1 for line in tshark("-r", cap, "-q", "-z", "conv,tcp").splitlines() if "<->" in line)
    print(f"tshark conv,tcp: {conv} conversations; truth: {len(truth)} connections")
    failures += conv != len(truth)

    if shutil.which("tcptrace"):
        out = subprocess.run(["tcptrace", "-n", cap], capture_output=True, text=True).stdout
        n = sum(1 for line in out.splitlines() if line.strip()[:1].isdigit() and ": " in line and " - " in line)
        print(f"tcptrace -n: {n} connections (informative: tcptrace splits some IPv6 connections)")

    fields = tshark("-r", cap, "-T", "fields", "-E", "separator=\t",
                    "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport",
                    "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport",
                    "-e", "tcp.flags", "-e", "tcp.seq_raw", "-e", "tcp.ack_raw", "-e", "tcp.len")
    conns = collections.defaultdict(list)
    for line in fields.splitlines():
        s4, s6, sp, d4, d6, dp, fl, seq, ack, ln = line.split("\t")
        src = (str(ipaddress.ip_address(s4 or s6)), int(sp))
        dst = (str(ipaddress.ip_address(d4 or d6)), int(dp))
        conns[tuple(sorted([src, dst]))].append((src, int(fl, 16), int(seq), int(ack), int(ln)))

    agree, shown = 0, 0
    seen = set()
    for key, pkts in conns.items():
        syn = next((p for p in pkts if p[1] & SYN and not p[1] & ACK), None)
        orig = syn[0] if syn else pkts[0][0]
        resp = key[1] if key[0] == orig else key[0]
        tkey = (orig[0], orig[1], resp[0], resp[1])
        seen.add(tkey)
        want = truth.get(tkey)
        got = derive(pkts, orig)
        if want and tuple(want[:4]) == got:
            agree += 1
        elif shown < 10:
            shown += 1
            print(f"   mismatch {tkey}: truth {want}, packets say {got}")
    missing = len(set(truth) - seen)
    print(f"endings re-derived from tshark's dissection: {agree}/{len(truth)} agree with the truth"
          + (f"; {missing} truth rows have no packets" if missing else ""))
    failures += agree != len(truth) or missing > 0
    print("OK" if not failures else "FAILED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
