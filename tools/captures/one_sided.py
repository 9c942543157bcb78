#!/usr/bin/env python3
"""One-sided copies of real recordings: what a span port on one side, or asymmetric routing,
would have captured of the same connections.

    python3 tools/captures/one_sided.py     # writes captures/one-sided/NAME-client.pcap and NAME-server.pcap

For each recording listed below, `NAME-client.pcap` keeps only the packets sent by each
connection's client (the sender of its pure SYN) and `NAME-server.pcap` only those sent by the other
side; every other byte of each kept record (timestamps, link layer, checksums) is the
recording's. The source files are captures/real/NAME.pcap, recorded on this project's loopback
by tools/captures/record.py (captures/README.md describes each).
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pcaplib as pl  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SRC = os.path.join(REPO, "captures", "real")
OUT = os.path.join(REPO, "captures", "one-sided")

# A graceful close each way, a half-close, an abort with unsent data, an abort with unread data,
# a bare RST to data after close, and 50 connections of five endings (refusals among them).
RECORDINGS = ["graceful-client-close", "graceful-server-close", "half-close-then-data",
              "linger-zero-unsent", "close-unread-data", "write-after-close", "many-connections"]


def main() -> int:
    os.makedirs(OUT, exist_ok=True)
    for name in RECORDINGS:
        pf = pl.read_pcap(os.path.join(SRC, name + ".pcap"))
        parsed = [(r, pl.parse_tcp(pf.linktype, r)) for r in pf.records]
        # Each connection's client: the sender of its pure SYN.
        clients = {(t.src, t.sport, t.dst, t.dport) for _, t in parsed
                   if t and t.has(pl.TCP_SYN) and not t.has(pl.TCP_ACK)}

        def from_client(t: pl.TCPInfo) -> bool:
            return (t.src, t.sport, t.dst, t.dport) in clients

        for who, keep in (("client", from_client), ("server", lambda t: not from_client(t))):
            records = [r for r, t in parsed if t is not None and keep(t)]
            path = os.path.join(OUT, f"{name}-{who}.pcap")
            pl.write_pcap(path, pf.linktype, records, nanosecond=pf.nanosecond, snaplen=pf.snaplen,
                          big_endian=pf.big_endian)
            print(f"ok  captures/one-sided/{name}-{who}.pcap  {len(records)} of {len(pf.records)} packets",
                  file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
