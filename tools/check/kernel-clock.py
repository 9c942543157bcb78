#!/usr/bin/env python3
"""Bounds the kernel lane's clock error from recordings with kernel sidecars.

    tools/check/kernel-clock.py captures/kernel/*.jsonl      (the JSON goldens: replay --format json)

The kernel's time of an event, moved to the packet clock, is k = k_true + e. Some events must
happen before the packet they cause, on the same host: the change to SYN-SENT before the SYN, to
FIN-WAIT-1 or LAST-ACK before the side's FIN (tcp_set_state precedes tcp_send_fin). Others must
happen after the packet that causes them: SYN-SENT -> ESTABLISHED after the SYN-ACK, ESTABLISHED
-> CLOSE-WAIT after the peer's FIN, RST accepted after the RST. On loopback the capture sees each
segment between the sender's transmit and the receiver's processing, so the first kind gives
e > k - p and the second e < k - p: e lies between the largest of the first and the smallest of
the second. Prints both bounds, and the distribution of each kind's k - p.
"""
import json, sys
from decimal import Decimal

before, after = [], []   # k - p of events that precede / follow their packet
for path in sys.argv[1:]:
    if path.endswith(".events.jsonl") or path.endswith(".kernel.jsonl"):
        continue
    for line in open(path):
        c = json.loads(line, parse_float=Decimal)
        if "kernel_events" not in c:
            continue
        ev = c["events"]
        ns = lambda t: int(t * 1_000_000_000)
        packets = [e for e in ev if e["type"] == "packet"]
        for k in c["kernel_events"]:
            side, kt = k["side"], ns(k["time"])
            other = "resp" if side == "orig" else "orig"
            def first_after(frm, flag):
                for p in packets:
                    if p["from"] == frm and flag in p["flags"] and ns(p["time"]) >= kt - 5_000_000:
                        return ns(p["time"])
            def last_before(frm, flag):
                best = None
                for p in packets:
                    if p["from"] == frm and flag in p["flags"] and ns(p["time"]) <= kt + 5_000_000:
                        best = ns(p["time"])
                return best
            if k["event"] == "state_change":
                f, t = k["from"], k["to"]
                if (f, t) == ("CLOSED", "SYN-SENT"):
                    p = first_after(side, "S")
                    if p: before.append(kt - p)
                elif t in ("FIN-WAIT-1", "LAST-ACK"):
                    p = first_after(side, "F")
                    if p: before.append(kt - p)
                elif (f, t) == ("SYN-SENT", "ESTABLISHED"):
                    p = last_before(other, "S")
                    if p: after.append(kt - p)
                elif (f, t) == ("ESTABLISHED", "CLOSE-WAIT"):
                    p = last_before(other, "F")
                    if p: after.append(kt - p)
            elif k["event"] == "receive_reset":
                p = last_before(other, "R")
                if p: after.append(kt - p)

def stats(xs):
    xs = sorted(xs)
    return f"n={len(xs)} min={xs[0]} median={xs[len(xs)//2]} max={xs[-1]} ns"

print("kernel event before its packet (k - p):", stats(before))
print("kernel event after its packet  (k - p):", stats(after))
lo, hi = max(before), min(after)
print(f"clock error e in ({lo}, {hi}) ns" + ("" if lo < hi else "  (INCONSISTENT: the bounds cross)"))
