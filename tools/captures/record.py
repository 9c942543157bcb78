#!/usr/bin/env python3
"""Record the real loopback captures in captures/real/ (run as root).

    sudo python3 tools/captures/record.py                 # every scenario
    sudo python3 tools/captures/record.py refused linger-zero-unsent

Each scenario runs in a private network namespace (`unshare --net`, so the capture holds
only that scenario's traffic; the namespace disappears when the inner process exits), with
real sockets making real calls, while `tcpdump -i lo` records it with nanosecond host
timestamps. Inside the namespace the loopback is set to MTU 1500 and `gso_max_segs 1` so
that segments look like they do on an Ethernet path (1448-byte data segments with
timestamps) instead of 64 kB GSO super-packets.

After each recording the script decodes the pcap itself and asserts the packets the
scenario name promises (FIN from the right side first, the RST and its shape, ...). It
fails loudly if they are not there, if tcpdump reports dropped packets, or if a socket
call did not return what the scenario needs in order to proceed.

The socket calls each scenario made and what they returned (errno names included) are
written to captures/real/calls.json with the kernel release, so tests can compare the
wire with the application's view.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import platform
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from typing import Callable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pcaplib  # noqa: E402
from pcaplib import TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT_DIR = os.path.join(REPO, "captures", "real")
TIMEOUT = 5.0
V4, V6 = "127.0.0.1", "::1"


# ------------------------------------------------------------------ socket-call log

class Calls:
    """Thread-safe log of socket calls: CLOCK_REALTIME ns, side, call, return, errno name."""

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self._lock = threading.Lock()

    def __call__(self, side: str, call: str, fn: Callable[[], object]):
        t = time.time_ns()
        try:
            r, err = fn(), None
        except OSError as e:
            r, err = None, (errno.errorcode.get(e.errno, str(e.errno)) if e.errno
                            else type(e).__name__)
        if isinstance(r, (bytes, bytearray)):
            ret: object = len(r)
        elif isinstance(r, (int, str)) or r is None:
            ret = r
        else:
            ret = type(r).__name__
        with self._lock:
            self.rows.append({"t_ns": t, "end_ns": time.time_ns(), "side": side, "call": call,
                              "ret": -1 if err else ret, "errno": err})
            self.rows.sort(key=lambda row: row["t_ns"])
        return r, err


def must(result):
    """Unwrap a Calls result that the scenario cannot continue without."""
    value, err = result
    if err:
        raise RuntimeError(f"socket call failed unexpectedly: {err}")
    return value


def recv_exact(s: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        d = s.recv(n - len(buf))
        if not d:
            break
        buf += d
    return buf


def recv_until_eof(s: socket.socket) -> bytes:
    buf = b""
    while True:
        d = s.recv(65536)
        if not d:
            return buf
        buf += d


def listener(family: int, addr: str, port: int, rcvbuf: int | None = None) -> socket.socket:
    ls = socket.socket(family, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if rcvbuf is not None:
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    ls.bind((addr, port))
    ls.listen(64)
    ls.settimeout(TIMEOUT)
    return ls


def client(family: int = socket.AF_INET) -> socket.socket:
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    return s


LINGER_ZERO = struct.pack("ii", 1, 0)
REQUEST = b"GET /teardown HTTP/1.0\r\n\r\n"
REPLY = b"HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nhello\n"


def run_threads(*fns: Callable[[], None]) -> None:
    errors: list[BaseException] = []

    def wrap(fn):
        def inner():
            try:
                fn()
            except BaseException as e:  # noqa: BLE001 - re-raised in the main thread
                errors.append(e)
        return inner

    ts = [threading.Thread(target=wrap(f)) for f in fns]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    if errors:
        raise errors[0]


# ------------------------------------------------------------------ scenarios

def sc_graceful_client_close(c: Calls, family=socket.AF_INET, addr=V4, port=8001) -> None:
    ls = listener(family, addr, port)

    def server():
        conn, _ = must(c("server", "accept()", ls.accept))
        conn.settimeout(TIMEOUT)
        must(c("server", f"recv_exact({len(REQUEST)})", lambda: recv_exact(conn, len(REQUEST))))
        must(c("server", f"send({len(REPLY)})", lambda: conn.send(REPLY)))
        c("server", "recv() -> expect EOF", lambda: conn.recv(4096))
        c("server", "close()", conn.close)

    def cli():
        s = client(family)
        must(c("client", f"connect([{addr}]:{port})", lambda: s.connect((addr, port))))
        must(c("client", f"send({len(REQUEST)})", lambda: s.send(REQUEST)))
        must(c("client", f"recv_exact({len(REPLY)})", lambda: recv_exact(s, len(REPLY))))
        c("client", "close()", s.close)

    run_threads(server, cli)
    ls.close()


def sc_graceful_server_close(c: Calls, port=8002) -> None:
    ls = listener(socket.AF_INET, V4, port)

    def server():
        conn, _ = must(c("server", "accept()", ls.accept))
        conn.settimeout(TIMEOUT)
        must(c("server", f"recv_exact({len(REQUEST)})", lambda: recv_exact(conn, len(REQUEST))))
        must(c("server", f"send({len(REPLY)})", lambda: conn.send(REPLY)))
        c("server", "close()", conn.close)

    def cli():
        s = client()
        must(c("client", f"connect({V4}:{port})", lambda: s.connect((V4, port))))
        must(c("client", f"send({len(REQUEST)})", lambda: s.send(REQUEST)))
        c("client", "recv until EOF", lambda: recv_until_eof(s))
        c("client", "close()", s.close)

    run_threads(server, cli)
    ls.close()


def sc_half_close_then_data(c: Calls, port=8003) -> None:
    ls = listener(socket.AF_INET, V4, port)
    body = bytes(range(256)) * 78 + b"\n" * 32  # 20,000 bytes

    def server():
        conn, _ = must(c("server", "accept()", ls.accept))
        conn.settimeout(TIMEOUT)
        c("server", "recv until EOF", lambda: recv_until_eof(conn))
        must(c("server", f"sendall({len(body)})", lambda: conn.sendall(body) or len(body)))
        c("server", "close()", conn.close)

    def cli():
        s = client()
        must(c("client", f"connect({V4}:{port})", lambda: s.connect((V4, port))))
        must(c("client", f"send({len(REQUEST)})", lambda: s.send(REQUEST)))
        c("client", "shutdown(SHUT_WR)", lambda: s.shutdown(socket.SHUT_WR))
        c("client", "recv until EOF", lambda: recv_until_eof(s))
        c("client", "close()", s.close)

    run_threads(server, cli)
    ls.close()


def sc_linger_zero_unsent(c: Calls, port=8004) -> None:
    # The small receive buffer is set on the listener before listen() so the accepted socket
    # inherits it and its window (and so the client's send window) stays small.
    ls = listener(socket.AF_INET, V4, port, rcvbuf=4096)
    closed = threading.Event()
    data = b"hel" * 10000

    def server():
        conn, _ = must(c("server", "accept()  [listener SO_RCVBUF=4096 before listen]", ls.accept))
        conn.settimeout(TIMEOUT)
        closed.wait(TIMEOUT)
        time.sleep(0.1)
        total = 0
        while True:  # read until error or EOF, logging every call
            d, err = c("server", "recv(65536) after client's close", lambda: conn.recv(65536))
            if err or not d:
                break
            total += len(d)
        c("server", "close()", conn.close)

    def cli():
        s = client()
        c("client", "setsockopt(SO_SNDBUF, 65536)",
          lambda: s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536))
        must(c("client", f"connect({V4}:{port})", lambda: s.connect((V4, port))))
        c("client", "setsockopt(SO_LINGER, {1, 0})",
          lambda: s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_ZERO))
        must(c("client", f"send({len(data)})", lambda: s.send(data)))
        time.sleep(0.5)  # let the peer's window fill; the rest stays in our send queue
        c("client", "ioctl(SIOCOUTQ) [unsent+unacked bytes]",
          lambda: struct.unpack("i", __import__("fcntl").ioctl(s.fileno(), 0x5411, b"\0" * 4))[0])
        c("client", "close()", s.close)
        closed.set()

    run_threads(server, cli)
    ls.close()


def sc_close_unread_data(c: Calls, port=8005) -> None:
    ls = listener(socket.AF_INET, V4, port)
    sent, closed = threading.Event(), threading.Event()
    data = b"x" * 1000

    def server():
        conn, _ = must(c("server", "accept()", ls.accept))
        sent.wait(TIMEOUT)
        time.sleep(0.1)
        c("server", "close() with 1000 unread bytes", conn.close)
        closed.set()

    def cli():
        s = client()
        must(c("client", f"connect({V4}:{port})", lambda: s.connect((V4, port))))
        must(c("client", f"send({len(data)})", lambda: s.send(data)))
        sent.set()
        closed.wait(TIMEOUT)
        time.sleep(0.1)
        c("client", "recv(4096)", lambda: s.recv(4096))
        c("client", "close()", s.close)

    run_threads(server, cli)
    ls.close()


def sc_refused(c: Calls, port=8006) -> None:
    s = client()
    c("client", f"connect({V4}:{port}) [no listener]", lambda: s.connect((V4, port)))
    c("client", "close()", s.close)


def sc_ipv6_graceful(c: Calls) -> None:
    sc_graceful_client_close(c, socket.AF_INET6, V6, 8007)


def sc_write_after_close(c: Calls, port=8008) -> None:
    ls = listener(socket.AF_INET, V4, port)

    def server():
        conn, _ = must(c("server", "accept()", ls.accept))
        conn.settimeout(TIMEOUT)
        must(c("server", f"recv_exact({len(REQUEST)})", lambda: recv_exact(conn, len(REQUEST))))
        c("server", "close()", conn.close)

    def cli():
        s = client()
        must(c("client", f"connect({V4}:{port})", lambda: s.connect((V4, port))))
        must(c("client", f"send({len(REQUEST)})", lambda: s.send(REQUEST)))
        c("client", "recv(4096) -> expect EOF", lambda: s.recv(4096))
        c("client", "send(10) #1 after peer's FIN", lambda: s.send(b"after-fin1"))
        time.sleep(0.2)
        c("client", "send(10) #2", lambda: s.send(b"after-fin2"))
        c("client", "recv(4096) after send #2", lambda: s.recv(4096))
        c("client", "close()", s.close)

    run_threads(server, cli)
    ls.close()


MANY_KINDS = ["gc", "gs", "rc", "rs", "ref"]


def sc_many_connections(c: Calls, port=8100, refused_port=8101) -> None:
    """50 connections: 40 sequential (kinds in rotation) and 10 started together.

    gc: client closes first (graceful)       gs: server closes first (graceful)
    rc: client aborts with SO_LINGER{1,0}     rs: server aborts with SO_LINGER{1,0}
    ref: connect to a port with no listener (RST,ACK)
    """
    ls = listener(socket.AF_INET, V4, port)
    ls.settimeout(0.1)
    stop = threading.Event()
    workers: list[threading.Thread] = []

    def handle(conn: socket.socket):
        conn.settimeout(TIMEOUT)
        kind = must(c("server", "recv_exact(2)", lambda: recv_exact(conn, 2))).decode()
        must(c("server", f"send(16) [{kind}]", lambda: conn.send(b"reply-for-%s...." % kind.encode()[:2])))
        if kind == "gc":
            c("server", "recv() -> expect EOF", lambda: conn.recv(100))
        elif kind == "rc":
            c("server", "recv() -> expect ECONNRESET", lambda: conn.recv(100))
        elif kind == "rs":
            must(c("server", "recv_exact(2)", lambda: recv_exact(conn, 2)))
            c("server", "setsockopt(SO_LINGER, {1, 0})",
              lambda: conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_ZERO))
        c("server", f"close() [{kind}]", conn.close)

    def server():
        while not stop.is_set():
            try:
                conn, _ = ls.accept()
            except TimeoutError:
                continue
            t = threading.Thread(target=handle, args=(conn,))
            t.start()
            workers.append(t)

    def one(kind: str):
        s = client()
        if kind == "ref":
            c("client", f"connect({V4}:{refused_port}) [ref]", lambda: s.connect((V4, refused_port)))
            s.close()
            return
        must(c("client", f"connect({V4}:{port}) [{kind}]", lambda: s.connect((V4, port))))
        must(c("client", f"send(2) [{kind}]", lambda: s.send(kind.encode())))
        if kind == "gs":
            c("client", "recv until EOF", lambda: recv_until_eof(s))
        else:
            must(c("client", "recv_exact(16)", lambda: recv_exact(s, 16)))
        if kind == "rc":
            c("client", "setsockopt(SO_LINGER, {1, 0})",
              lambda: s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_ZERO))
        if kind == "rs":
            must(c("client", "send(2)", lambda: s.send(b"go")))
            c("client", "recv() -> expect ECONNRESET", lambda: s.recv(100))
        c("client", f"close() [{kind}]", s.close)

    srv = threading.Thread(target=server)
    srv.start()
    try:
        for i in range(40):
            one(MANY_KINDS[i % len(MANY_KINDS)])
            time.sleep(0.01)
        barrier = threading.Barrier(10)
        kinds = MANY_KINDS * 2

        def together(k):
            return lambda: (barrier.wait(TIMEOUT), one(k))

        run_threads(*[together(k) for k in kinds])
        time.sleep(0.2)
    finally:
        stop.set()
        srv.join()
        for t in workers:
            t.join(TIMEOUT)
        ls.close()


def sc_graceful_no_timestamps(c: Calls) -> None:
    """graceful-client-close with net.ipv4.tcp_timestamps=0 in the namespace: pure ACK and
    FIN frames are 54 bytes, so fixtures.py can derive an Ethernet-padded copy from it."""
    sc_graceful_client_close(c, port=8009)


def sc_non_tcp(c: Calls, port=8010) -> None:
    """A UDP datagram, a 3000-byte UDP datagram (IPv4-fragmented at MTU 1500) and an ICMP
    echo request (raw socket) that the kernel answers with an echo reply."""
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r.bind((V4, port))
    c("client", f"sendto(udp {V4}:{port}, 16)", lambda: u.sendto(b"teardown-udp-16b", (V4, port)))
    c("client", f"sendto(udp {V4}:{port}, 3000)", lambda: u.sendto(b"F" * 3000, (V4, port)))
    icmp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    payload = b"teardown-ping"
    hdr = struct.pack("!BBHHH", 8, 0, 0, 0x7464, 1)
    csum = pcaplib.inet_checksum(hdr + payload)
    pkt = struct.pack("!BBHHH", 8, 0, csum, 0x7464, 1) + payload
    c("client", "sendto(icmp echo request)", lambda: icmp.sendto(pkt, (V4, 0)))
    time.sleep(0.1)
    for s in (u, r, icmp):
        s.close()


# ------------------------------------------------------------------ checks on the pcap

class CheckFailed(AssertionError):
    pass


def expect(cond: bool, msg: str) -> None:
    if not cond:
        raise CheckFailed(msg)


def single_conn(pkts, port):
    conns = pcaplib.connections(pkts)
    expect(len(conns) == 1, f"expected 1 connection, found {len(conns)}")
    conn = conns[0]
    expect(conn[0].has(TCP_SYN) and not conn[0].has(TCP_ACK) and conn[0].dport == port,
           "first packet is not the client's SYN")
    return conn


def side(p, port):
    return "server" if p.sport == port else "client"


def fins(conn, port):
    return [(i, side(p, port)) for i, p in enumerate(conn) if p.has(TCP_FIN)]


def rsts(conn, port):
    return [(i, side(p, port), p) for i, p in enumerate(conn) if p.has(TCP_RST)]


def check_graceful(first_closer: str):
    def check(pkts, port):
        conn = single_conn(pkts, port)
        expect(not rsts(conn, port), "unexpected RST")
        f = fins(conn, port)
        expect([s for _, s in f] == [first_closer, "client" if first_closer == "server" else "server"],
               f"expected FIN from {first_closer} first, then the other; got {f}")
        last = conn[-1]
        expect(last.has(TCP_ACK) and not last.has(TCP_FIN) and side(last, port) == first_closer,
               "the last packet is not the first closer's ACK of the second FIN")
        fin2 = conn[f[1][0]]
        expect(last.ack == (fin2.seq + fin2.payload_len + 1) & 0xFFFFFFFF, "second FIN not acked")
        return f"FIN {f[0][1]} (#{f[0][0] + 1}), FIN {f[1][1]} (#{f[1][0] + 1}), final ACK, no RST"
    return check


def check_half_close(pkts, port):
    conn = single_conn(pkts, port)
    expect(not rsts(conn, port), "unexpected RST")
    f = fins(conn, port)
    expect([s for _, s in f] == ["client", "server"], f"FIN order {f}")
    after = [p for p in conn[f[0][0] + 1:f[1][0] + 1] if side(p, port) == "server" and p.payload_len]
    expect(len(after) >= 2, f"server sent {len(after)} data segments after the client's FIN")
    total = sum(p.payload_len for p in after)
    expect(total == 20000, f"server sent {total} bytes after the client's FIN")
    return f"client FIN, then {len(after)} server data segments ({total} B), server FIN, ACK"


def check_linger(pkts, port):
    conn = single_conn(pkts, port)
    r = rsts(conn, port)
    expect(len(r) >= 1 and r[0][1] == "client", f"expected an RST from the client, got {r}")
    expect(not fins(conn, port), "unexpected FIN")
    sent = sum(p.payload_len for p in conn if side(p, port) == "client")
    # count unique sequence space (the persist timer's probes may repeat bytes)
    isn = conn[0].seq
    top = max((p.seq - isn - 1 + p.payload_len) & 0xFFFFFFFF for p in conn
              if side(p, port) == "client" and p.payload_len)
    expect(top < 30000, f"all 30000 bytes left the client ({top}); nothing was unsent")
    rst = r[0][2]
    shape = "R." if rst.has(TCP_ACK) else "R"
    return (f"client RST [{shape}] (#{r[0][0] + 1}) after {top} of 30000 bytes on the wire "
            f"({sent} B incl. repeats); {30000 - top} B never sent; no FIN")


def check_close_unread(pkts, port):
    conn = single_conn(pkts, port)
    r = rsts(conn, port)
    expect(len(r) >= 1 and r[0][1] == "server", f"expected an RST from the server, got {r}")
    expect(not any(s == "server" for _, s in fins(conn, port)), "server sent a FIN")
    data = sum(p.payload_len for p in conn[:r[0][0]] if side(p, port) == "client")
    expect(data == 1000, f"client sent {data} bytes before the RST")
    rst = r[0][2]
    return f"client 1000 B, server RST [{'R.' if rst.has(TCP_ACK) else 'R'}] instead of FIN"


def check_refused(pkts, port):
    conn = single_conn(pkts, port)
    expect(len(conn) == 2, f"expected SYN + RST, got {len(conn)} packets")
    expect(conn[1].has(TCP_RST) and conn[1].has(TCP_ACK) and side(conn[1], port) == "server",
           "second packet is not RST,ACK from the port")
    return "SYN, RST,ACK"


def check_ipv6(pkts, port):
    expect(all(":" in p.src for p in pkts), "non-IPv6 packet")
    return check_graceful("client")(pkts, port)


def check_write_after_close(pkts, port):
    conn = single_conn(pkts, port)
    f = fins(conn, port)
    expect(f and f[0][1] == "server", f"expected the server's FIN first, got {f}")
    data_after = [i for i, p in enumerate(conn) if i > f[0][0] and side(p, port) == "client"
                  and p.payload_len]
    expect(data_after, "client sent no data after the server's FIN")
    r = rsts(conn, port)
    expect(r and r[0][1] == "server" and r[0][0] > data_after[0],
           f"expected a server RST after the client's data, got {r}")
    rst = r[0][2]
    return (f"server FIN, client data ({len(data_after)} segment(s) after FIN), server RST "
            f"[{'R.' if rst.has(TCP_ACK) else 'R'}]; {len(r)} RST(s) in total")


def classify(conn, port):
    syn = conn[0]
    if not (syn.has(TCP_SYN) and not syn.has(TCP_ACK)):
        return "?"
    sp = syn.dport
    if len(conn) == 2 and conn[1].has(TCP_RST):
        return "ref"
    first = next((p for p in conn if p.has(TCP_FIN) or p.has(TCP_RST)), None)
    if first is None:
        return "open"
    who = "s" if first.sport == sp else "c"
    return ("g" if first.has(TCP_FIN) else "r") + who


def check_many(pkts, port):
    conns = pcaplib.connections(pkts)
    kinds = [classify(cn, port) for cn in conns]
    counts = {k: kinds.count(k) for k in sorted(set(kinds))}
    expect(len(conns) == 50, f"expected 50 connections, found {len(conns)}: {counts}")
    expect(all(counts.get(k) == 10 for k in MANY_KINDS), f"kind counts {counts}")
    spans = sorted((cn[0].ts_ns, cn[-1].ts_ns) for cn in conns)
    overlaps = sum(1 for a, b in zip(spans, spans[1:]) if b[0] < a[1])
    expect(overlaps >= 2, f"only {overlaps} overlapping connections")
    return f"50 connections, {counts}, {overlaps} start while the previous one is still open"


def check_no_ts(pkts, port):
    summary = check_graceful("client")(pkts, port)
    pf = pcaplib.read_pcap(os.environ["TD_CHECK_FILE"])
    small = [r for r in pf.records if len(r.data) < 60]
    expect(small, "no frame shorter than 60 bytes (timestamps still on?)")
    return summary + f"; {len(small)} frames shorter than 60 B"


def check_non_tcp(pkts, port):
    pf = pcaplib.read_pcap(os.environ["TD_CHECK_FILE"])
    protos, frags, icmp_types = [], 0, []
    for r in pf.records:
        et, ip = pcaplib.ip_payload_of(pf.linktype, r.data)
        if et != pcaplib.ETH_IPV4:
            continue
        protos.append(ip[9])
        ff = struct.unpack("!H", ip[6:8])[0]
        if ff & 0x2000 or ff & 0x1FFF:
            frags += 1
        if ip[9] == 1:
            icmp_types.append(ip[(ip[0] & 15) * 4])
    expect(not pkts, "unexpected TCP")
    expect(protos.count(17) >= 3 and frags >= 2, f"UDP/fragments missing: {protos}, {frags}")
    expect(sorted(icmp_types) == [0, 8], f"ICMP echo request/reply missing: {icmp_types}")
    return f"{len(pf.records)} frames: UDP, {frags} IPv4 fragments, ICMP echo request+reply"


# name -> (port, scenario, check, extra sysctls)
SCENARIOS: dict[str, tuple[int, Callable, Callable, dict[str, str]]] = {
    "graceful-client-close": (8001, sc_graceful_client_close, check_graceful("client"), {}),
    "graceful-server-close": (8002, sc_graceful_server_close, check_graceful("server"), {}),
    "half-close-then-data": (8003, sc_half_close_then_data, check_half_close, {}),
    "linger-zero-unsent": (8004, sc_linger_zero_unsent, check_linger, {}),
    "close-unread-data": (8005, sc_close_unread_data, check_close_unread, {}),
    "refused": (8006, sc_refused, check_refused, {}),
    "ipv6-graceful": (8007, sc_ipv6_graceful, check_ipv6, {}),
    "write-after-close": (8008, sc_write_after_close, check_write_after_close, {}),
    "many-connections": (8100, sc_many_connections, check_many, {}),
    "graceful-no-timestamps": (8009, sc_graceful_no_timestamps, check_no_ts,
                               {"net/ipv4/tcp_timestamps": "0"}),
    "non-tcp": (8010, sc_non_tcp, check_non_tcp, {}),
}


# ------------------------------------------------------------------ inner: inside the netns

def sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True)


def inner(name: str, out: str) -> None:
    _, fn, _, sysctls = SCENARIOS[name]
    sh("ip", "link", "set", "lo", "up")
    sh("ip", "link", "set", "lo", "mtu", "1500", "gso_max_segs", "1")
    for key, value in sysctls.items():
        with open(f"/proc/sys/{key}", "w") as f:
            f.write(value)
    td = subprocess.Popen(
        ["tcpdump", "-i", "lo", "-w", out, "-U", "--immediate-mode", "-s", "65535",
         "-B", "32768", "--time-stamp-precision=nano", "-j", "host", "-Z", "root"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 10
    err_lines = []
    assert td.stderr is not None
    while True:  # wait for "listening on lo"
        if time.monotonic() > deadline or td.poll() is not None:
            td.kill()
            raise SystemExit(f"tcpdump did not start: {''.join(err_lines)}")
        ready, _, _ = select.select([td.stderr], [], [], 0.1)
        if ready:
            line = td.stderr.readline()
            err_lines.append(line)
            if "listening on" in line:
                break
    while not (os.path.exists(out) and os.path.getsize(out) >= 24):
        time.sleep(0.01)
    time.sleep(0.1)
    calls = Calls()
    try:
        fn(calls)
    finally:
        time.sleep(0.3)
        td.send_signal(signal.SIGINT)
        _, rest = td.communicate(timeout=10)
    stats = rest
    m = re.search(r"(\d+) packets dropped by kernel", stats)
    if not m or int(m.group(1)) != 0:
        raise SystemExit(f"tcpdump dropped packets or did not report: {stats!r}")
    json.dump({"calls": calls.rows, "tcpdump": stats.strip().splitlines()}, sys.stdout)


# ------------------------------------------------------------------ outer

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenarios", nargs="*", help="scenario names (default: all)")
    ap.add_argument("--inner", nargs=2, metavar=("NAME", "OUT"), help=argparse.SUPPRESS)
    ap.add_argument("--out-dir", default=OUT_DIR)
    args = ap.parse_args()
    if args.inner:
        inner(*args.inner)
        return 0
    if os.geteuid() != 0:
        print("record.py needs root (network namespaces and tcpdump): sudo python3 "
              "tools/captures/record.py", file=sys.stderr)
        return 2
    names = args.scenarios or list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        print(f"unknown scenario(s): {unknown}; known: {list(SCENARIOS)}", file=sys.stderr)
        return 2
    os.makedirs(args.out_dir, exist_ok=True)
    calls_path = os.path.join(args.out_dir, "calls.json")
    all_calls = {}
    if os.path.exists(calls_path):
        with open(calls_path) as f:
            all_calls = json.load(f)
    kernel = platform.release()
    failed = []
    for name in names:
        port, _, check, _ = SCENARIOS[name]
        tmp = os.path.join(args.out_dir, f".{name}.tmp.pcap")
        print(f"=== {name} (port {port})", flush=True)
        proc = subprocess.run(["unshare", "--net", "--", sys.executable, os.path.abspath(__file__),
                               "--inner", name, tmp], capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            failed.append(name)
            continue
        result = json.loads(proc.stdout)
        listing = subprocess.run(["tcpdump", "-nn", "-r", tmp], capture_output=True, text=True).stdout
        print(listing if len(listing) < 6000 else listing[:3000] + "\n  ...\n" + listing[-2500:])
        for row in result["calls"]:
            print(f"    {row['side']:6} {row['call']:50} -> {row['ret']} {row['errno'] or ''}")
        try:
            os.environ["TD_CHECK_FILE"] = tmp
            summary = check(pcaplib.tcp_packets(tmp), port)
        except CheckFailed as e:
            print(f"!!! {name}: CHECK FAILED: {e}", file=sys.stderr)
            failed.append(name)
            os.replace(tmp, os.path.join(args.out_dir, f"{name}.FAILED.pcap"))
            continue
        os.replace(tmp, os.path.join(args.out_dir, f"{name}.pcap"))
        print(f"--- ok: {summary}")
        all_calls[name] = {"kernel": kernel, "recorded_at_ns": time.time_ns(), "check": summary,
                           "calls": result["calls"]}
    with open(calls_path, "w") as f:  # one call per line: small, diffable
        f.write("{\n")
        for i, (name, entry) in enumerate(sorted(all_calls.items())):
            head = {k: v for k, v in entry.items() if k != "calls"}
            f.write(f" {json.dumps(name)}: {json.dumps(head)[:-1]}, \"calls\": [\n")
            f.write(",\n".join("  " + json.dumps(r) for r in entry["calls"]))
            f.write("\n ]}" + ("," if i + 1 < len(all_calls) else "") + "\n")
        f.write("}\n")
    if failed:
        print(f"FAILED: {failed}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
