/*
 * gen_capture.c: deterministic synthetic TCP capture for the teardown benchmark.
 *
 * Writes a classic pcap file (microsecond timestamps, LINKTYPE_ETHERNET) holding
 * N TCP connections, at most K of them open at once, interleaved in time, plus
 * FILE.truth.tsv with the true ending of every connection.
 *
 * Usually run through gen_capture.py, which compiles this file and picks presets.
 *
 *   gen_capture --connections N --concurrency K --seed S --out FILE
 *
 * Model: K "lanes". Each lane runs its share of the connections one after another
 * (a short gap between them); the lanes are merged by packet time with a heap, so
 * at most K connections are open at any moment. The last connection of every lane
 * never ends (it is still open, or half-closed, when the capture stops). Every
 * connection has its own 4-tuple (no port reuse), so the truth is unambiguous.
 *
 * All randomness is integer arithmetic on a xoshiro256** generator seeded by
 * splitmix64: the same seed gives the same bytes on every machine.
 *
 * Payload bytes are zeros; lengths, IPv4 header checksums and TCP checksums are
 * right (a zero payload adds nothing to the one's-complement sum).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------- random numbers ---------- */

static uint64_t rs[4];

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rnd(void) {
    uint64_t result = rotl(rs[1] * 5, 7) * 9;
    uint64_t t = rs[1] << 17;
    rs[2] ^= rs[0]; rs[3] ^= rs[1]; rs[1] ^= rs[2]; rs[0] ^= rs[3];
    rs[2] ^= t; rs[3] = rotl(rs[3], 45);
    return result;
}

/* uniform integer in [lo, hi] */
static int64_t between(int64_t lo, int64_t hi) {
    if (hi <= lo) return lo;
    uint64_t span = (uint64_t)(hi - lo) + 1;
    return lo + (int64_t)(rnd() % span);
}

/* true with probability pct/100 */
static int chance(int pct) { return (int)(rnd() % 100) < pct; }

/* ---------- connection kinds and their truth ---------- */

enum kind {
    GRACEFUL_O, GRACEFUL_R, SIMULTANEOUS, HALFDATA_O, HALFDATA_R,
    ABORT_O, ABORT_R, REFUSED, UNANSWERED, OPEN, HALFCLOSED_O, HALFCLOSED_R,
    NKINDS
};

static const struct {
    const char *name, *teardown, *closed_by, *conn_state, *half_close;
} truth[NKINDS] = {
    [GRACEFUL_O]   = {"graceful-by-orig",      "graceful",            "orig", "SF",   "false"},
    [GRACEFUL_R]   = {"graceful-by-resp",      "graceful",            "resp", "SF",   "false"},
    [SIMULTANEOUS] = {"simultaneous-close",    "simultaneous-close",  "both", "SF",   "false"},
    [HALFDATA_O]   = {"half-close+data-orig",  "graceful",            "orig", "SF",   "true"},
    [HALFDATA_R]   = {"half-close+data-resp",  "graceful",            "resp", "SF",   "true"},
    [ABORT_O]      = {"rst-by-orig",           "abort-by-originator", "orig", "RSTO", "false"},
    [ABORT_R]      = {"rst-by-resp",           "abort-by-responder",  "resp", "RSTR", "false"},
    [REFUSED]      = {"refused",               "refused",             "resp", "REJ",  "false"},
    [UNANSWERED]   = {"unanswered",            "unanswered",          "-",    "S0",   "false"},
    [OPEN]         = {"open-at-end",           "open",                "-",    "S1",   "false"},
    [HALFCLOSED_O] = {"half-closed-orig",      "half-closed",         "orig", "S2",   "false"},
    [HALFCLOSED_R] = {"half-closed-resp",      "half-closed",         "resp", "S3",   "false"},
};

/* Mix of endings for connections that end before the capture does (weights, sum 1000). */
static const struct { enum kind k; int w; } mix[] = {
    {GRACEFUL_O, 360}, {GRACEFUL_R, 290}, {SIMULTANEOUS, 30},
    {HALFDATA_O, 60},  {HALFDATA_R, 20},
    {ABORT_O, 80},     {ABORT_R, 90},
    {REFUSED, 50},     {UNANSWERED, 20},
};

static enum kind pick_ending(void) {
    int r = (int)between(0, 999);
    for (size_t i = 0; i < sizeof mix / sizeof mix[0]; i++) {
        if (r < mix[i].w) return mix[i].k;
        r -= mix[i].w;
    }
    return GRACEFUL_O;
}

/* ---------- packets ---------- */

enum { F_FIN = 0x01, F_SYN = 0x02, F_RST = 0x04, F_PSH = 0x08, F_ACK = 0x10 };
enum { O = 0, R = 1 };

typedef struct {
    int64_t t;        /* microseconds since capture start */
    uint32_t seq, ack;
    uint16_t len;
    uint8_t flags, dir;
} pkt_t;

typedef struct {
    int v6;
    uint8_t addr[2][16];
    uint16_t port[2];
    uint32_t isn[2], ts_base[2], last_ts[2];
    uint16_t ipid[2];
    uint16_t mss;            /* max payload per segment (1448 IPv4, 1428 IPv6, with timestamps) */
} conn_t;

typedef struct {
    conn_t c;
    pkt_t *p;
    int n, cap, next;        /* packets of the current connection, next one to write */
    int remaining;           /* connections still to start in this lane, current excluded */
    int64_t t;               /* builder clock */
    uint32_t nxt[2];         /* builder: SND.NXT of each side */
    uint32_t acked[2];       /* builder: last ACK value each side sent */
    int rtt, srv;            /* builder: client turnaround and server delay, microseconds */
    enum kind kind;
} lane_t;

static void push(lane_t *L, int dir, uint8_t flags, int len, int64_t dt, uint32_t seq, uint32_t ack) {
    if (L->n == L->cap) {
        L->cap = L->cap ? L->cap * 2 : 64;
        L->p = realloc(L->p, (size_t)L->cap * sizeof *L->p);
        if (!L->p) { perror("realloc"); exit(1); }
    }
    L->t += dt < 1 ? 1 : dt;
    pkt_t *q = &L->p[L->n++];
    q->t = L->t; q->seq = seq; q->ack = ack; q->len = (uint16_t)len; q->flags = flags; q->dir = (uint8_t)dir;
}

/* Send from dir with SEG.SEQ = SND.NXT, acknowledging ackv (if ACK is set). */
static void sendx(lane_t *L, int dir, uint8_t flags, int len, int64_t dt, uint32_t ackv) {
    uint32_t ack = (flags & F_ACK) ? ackv : 0;
    push(L, dir, flags, len, dt, L->nxt[dir], ack);
    if (flags & F_ACK) L->acked[dir] = ackv;
    L->nxt[dir] += (uint32_t)len + ((flags & F_SYN) ? 1 : 0) + ((flags & F_FIN) ? 1 : 0);
}

/* Send from dir acknowledging everything the other side has sent. */
static void send_(lane_t *L, int dir, uint8_t flags, int len, int64_t dt) {
    sendx(L, dir, flags, len, dt, L->nxt[!dir]);
}

static int64_t tiny(void) { return between(5, 120); }                 /* back-to-back segments */
static int64_t delay_of(lane_t *L, int dir) { return dir == O ? L->rtt : L->srv; }

/* Data from dir: total bytes in MSS-sized segments, the receiver ACKing every second one
 * and the last one (delayed ACK). */
static void transfer(lane_t *L, int dir, int bytes, int64_t first_dt) {
    int seg = 0;
    int64_t dt = first_dt;
    while (bytes > 0) {
        int len = bytes > L->c.mss ? L->c.mss : bytes;
        bytes -= len;
        send_(L, dir, F_ACK | (bytes == 0 ? F_PSH : 0), len, dt);
        dt = tiny();
        if (++seg % 2 == 0 && bytes > 0) send_(L, !dir, F_ACK, 0, delay_of(L, !dir) / 4 + tiny());
    }
}

static int request_size(void) {
    int r = (int)between(0, 99);
    if (r < 85) return (int)between(40, 600);
    if (r < 95) return (int)between(600, 1448);
    return (int)between(1449, 6000);
}

static int response_size(void) {
    int r = (int)between(0, 99);
    if (r < 66) return (int)between(60, 1448);
    if (r < 95) return (int)between(1449, 4500);
    return (int)between(6000, 24000);
}

/* One request/response exchange, ending with everything acknowledged. */
static void exchange(lane_t *L, int64_t think) {
    transfer(L, O, request_size(), think);
    if (chance(25)) send_(L, R, F_ACK, 0, 40000);   /* slow server: delayed ACK of the request first */
    transfer(L, R, response_size(), L->srv);
    send_(L, O, F_ACK, 0, L->rtt);
}

static void handshake(lane_t *L) {
    L->nxt[O] = L->c.isn[O]; L->nxt[R] = L->c.isn[R];
    sendx(L, O, F_SYN, 0, 0, 0);
    sendx(L, R, F_SYN | F_ACK, 0, L->srv, L->nxt[O]);
    send_(L, O, F_ACK, 0, L->rtt);
}

static int64_t think_time(void) {
    int r = (int)between(0, 99);
    if (r < 50) return between(1000, 500000);
    if (r < 85) return between(500000, 5000000);
    return between(5000000, 20000000);
}

/* Abort: `sender` is transferring data, `aborter` sends R. while some of it is unacknowledged. */
static void abort_with_data(lane_t *L, int aborter, int sender) {
    int recv = !sender;
    int nseg = (int)between(3, 12);
    uint32_t bound[16];
    int acked_seg = 0;
    for (int i = 1; i <= nseg; i++) {
        send_(L, sender, F_ACK | (i == nseg ? F_PSH : 0), L->c.mss, i == 1 ? L->srv : tiny());
        bound[i] = L->nxt[sender];
        if (i % 2 == 0 && i < nseg) { send_(L, recv, F_ACK, 0, tiny()); acked_seg = i; }
    }
    if (aborter == recv) {
        /* The receiver aborts (e.g. close() with unread data): its RST acknowledges what it had
         * received when it reset; the later segments were still in flight past the capture point. */
        int j = (int)between(acked_seg > 0 ? acked_seg : 1, nseg - 1);
        sendx(L, recv, F_RST | F_ACK, 0, tiny(), bound[j]);
        if (chance(25)) { /* one more data segment was already on its way: it crosses the RST */
            send_(L, sender, F_ACK, L->c.mss, tiny());
            if (chance(50)) /* and hits a socket that is gone: bare RST, SEG.SEQ = that SEG.ACK */
                push(L, recv, F_RST, 0, delay_of(L, recv), L->nxt[recv], 0);
        }
    } else {
        /* The sender aborts (SO_LINGER {1,0}) with its last segments unacknowledged. */
        sendx(L, sender, F_RST | F_ACK, 0, tiny(), L->nxt[recv]);
        if (chance(25)) { /* the receiver's ACK crosses the RST */
            send_(L, recv, F_ACK, 0, tiny());
            if (chance(50))
                push(L, sender, F_RST, 0, delay_of(L, sender), L->nxt[sender], 0);
        }
    }
}

/* Build all packets of one connection of the given kind, starting at L->t. */
static void build(lane_t *L, enum kind k) {
    L->n = 0; L->next = 0; L->kind = k;
    int b = (int)between(0, 99);
    L->rtt = (int)(b < 30 ? between(100, 1000) : b < 80 ? between(1000, 20000) : between(20000, 150000));
    L->srv = (int)between(20, 2000);

    if (k == REFUSED) {
        L->nxt[O] = L->c.isn[O];
        sendx(L, O, F_SYN, 0, 0, 0);
        push(L, R, F_RST | F_ACK, 0, L->srv, 0, L->nxt[O]);   /* RFC 9293 3.10.7.1: SEQ 0, ACK SEG.SEQ+1 */
        return;
    }
    if (k == UNANSWERED) {
        L->nxt[O] = L->c.isn[O];
        sendx(L, O, F_SYN, 0, 0, 0);
        push(L, O, F_SYN, 0, 1000000, L->c.isn[O], 0);        /* RTO 1 s (RFC 6298), then doubled */
        if (chance(60)) push(L, O, F_SYN, 0, 2000000, L->c.isn[O], 0);
        return;
    }

    handshake(L);
    int r = (int)between(0, 99);
    int nex = r < 52 ? 1 : r < 90 ? (int)between(2, 3) : (int)between(4, 8);
    if (k == ABORT_O || k == ABORT_R || k == HALFDATA_O || k == HALFDATA_R) nex--;
    for (int i = 0; i < nex; i++) exchange(L, i == 0 ? L->rtt : think_time());

    int x = (k == GRACEFUL_R || k == HALFDATA_R || k == HALFCLOSED_R) ? R : O;  /* first closer */
    int y = !x;
    switch (k) {
    case GRACEFUL_O: case GRACEFUL_R:
        send_(L, x, F_FIN | F_ACK, 0, x == O ? between(100, 200000) : between(100, 5000000));
        if (chance(50)) {
            send_(L, y, F_FIN | F_ACK, 0, delay_of(L, y));
        } else {
            send_(L, y, F_ACK, 0, delay_of(L, y));
            send_(L, y, F_FIN | F_ACK, 0, between(50, 100000));
        }
        send_(L, x, F_ACK, 0, delay_of(L, x));
        break;
    case SIMULTANEOUS:
        send_(L, O, F_FIN | F_ACK, 0, between(100, 200000));
        sendx(L, R, F_FIN | F_ACK, 0, tiny(), L->nxt[O] - 1);   /* crosses: does not ACK the FIN */
        if (chance(50)) { send_(L, O, F_ACK, 0, L->rtt); send_(L, R, F_ACK, 0, tiny()); }
        else            { send_(L, R, F_ACK, 0, tiny()); send_(L, O, F_ACK, 0, L->rtt); }
        break;
    case HALFDATA_O: case HALFDATA_R: {
        /* shutdown(SHUT_WR) by x after its data; y keeps sending, then closes. */
        transfer(L, x, x == O ? request_size() : response_size(), think_time() / 8);
        send_(L, x, F_FIN | F_ACK, 0, tiny());
        send_(L, y, F_ACK, 0, delay_of(L, y));
        transfer(L, y, y == R ? response_size() : request_size(), delay_of(L, y));
        send_(L, x, F_ACK, 0, delay_of(L, x));
        send_(L, y, F_FIN | F_ACK, 0, between(50, 100000));
        send_(L, x, F_ACK, 0, delay_of(L, x));
        break;
    }
    case ABORT_O: case ABORT_R: {
        int aborter = k == ABORT_O ? O : R;
        /* Usually the aborter is the receiver of the data in flight (unread data, or the client
         * giving up on a download); sometimes it resets its own unacknowledged data. */
        int sender = chance(70) ? !aborter : aborter;
        transfer(L, O, request_size(), nex == 0 ? L->rtt : think_time());
        abort_with_data(L, aborter, sender);
        break;
    }
    case OPEN:
        if (chance(30)) transfer(L, O, request_size(), think_time());   /* request not yet answered */
        break;
    case HALFCLOSED_O: case HALFCLOSED_R:
        send_(L, x, F_FIN | F_ACK, 0, between(100, 2000000));
        send_(L, y, F_ACK, 0, delay_of(L, y));
        break;
    default:
        break;
    }
}

/* ---------- addresses and ports ---------- */

typedef struct { uint16_t next; uint16_t used; } client_t;
static client_t *clients[2];
static uint32_t nclients[2];

static void pick_endpoints(conn_t *c, int v6) {
    memset(c->addr, 0, sizeof c->addr);
    uint32_t ci = (uint32_t)between(0, nclients[v6] - 1);
    while (clients[v6][ci].used >= 64000) ci = (ci + 1) % nclients[v6];
    client_t *cl = &clients[v6][ci];
    if (cl->used == 0) cl->next = (uint16_t)between(32768, 60999);
    c->port[O] = cl->next;
    cl->next = cl->next == 65535 ? 1024 : (uint16_t)(cl->next + 1);
    cl->used++;

    uint32_t si = (uint32_t)between(0, 399);
    int pr = (int)between(0, 99);
    c->port[R] = pr < 60 ? 443 : pr < 85 ? 80 : pr < 90 ? 3000 : pr < 94 ? 8080 : pr < 97 ? 5432 : 6379;
    uint32_t cn = ci + 1;
    if (!v6) {
        uint8_t *a = c->addr[O];
        a[0] = 10; a[1] = (uint8_t)(cn >> 16); a[2] = (uint8_t)(cn >> 8); a[3] = (uint8_t)cn;
        uint8_t *s = c->addr[R];
        if (si < 200) { s[0] = 192; s[1] = 0; s[2] = 2; } else { s[0] = 198; s[1] = 51; s[2] = 100; }
        s[3] = (uint8_t)(si % 200 + 1);
    } else {
        uint8_t *a = c->addr[O];               /* 2001:db8:1::/64 */
        a[0] = 0x20; a[1] = 0x01; a[2] = 0x0d; a[3] = 0xb8; a[5] = 0x01;
        a[12] = (uint8_t)(cn >> 24); a[13] = (uint8_t)(cn >> 16); a[14] = (uint8_t)(cn >> 8); a[15] = (uint8_t)cn;
        uint8_t *s = c->addr[R];               /* 2001:db8:ff::/64 */
        s[0] = 0x20; s[1] = 0x01; s[2] = 0x0d; s[3] = 0xb8; s[5] = 0xff;
        s[14] = (uint8_t)((si + 1) >> 8); s[15] = (uint8_t)(si + 1);
    }
}

/* ---------- output ---------- */

static FILE *out, *tsv;
static uint64_t npackets, nbytes;

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v; }
static void le32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s) {
    for (size_t i = 0; i + 1 < n; i += 2) s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1) s += (uint32_t)(p[n - 1] << 8);
    return s;
}
static uint16_t fold(uint32_t s) { while (s >> 16) s = (s & 0xffff) + (s >> 16); return (uint16_t)~s; }

static const uint8_t zeros[65536];
static const int64_t EPOCH = 1700000000;   /* 2023-11-14T22:13:20Z */

static void write_packet(lane_t *L, const pkt_t *q) {
    conn_t *c = &L->c;
    uint8_t buf[16 + 14 + 40 + 60];
    int d = q->dir;
    int syn = (q->flags & F_SYN) != 0, rst = (q->flags & F_RST) != 0;
    int optlen = rst ? 0 : syn ? 20 : 12;
    int thl = 20 + optlen;
    int iphl = c->v6 ? 40 : 20;
    int frame = 14 + iphl + thl + q->len;

    uint8_t *ph = buf, *eth = buf + 16, *ip = eth + 14, *tcp = ip + iphl;
    int64_t us = q->t;
    le32(ph, (uint32_t)(EPOCH + us / 1000000)); le32(ph + 4, (uint32_t)(us % 1000000));
    le32(ph + 8, (uint32_t)frame); le32(ph + 12, (uint32_t)frame);

    static const uint8_t mac[2][6] = {{0x02, 0, 0, 0, 0, 0x01}, {0x02, 0, 0, 0, 0, 0x02}};
    memcpy(eth, mac[!d], 6); memcpy(eth + 6, mac[d], 6);
    put16(eth + 12, c->v6 ? 0x86dd : 0x0800);

    uint32_t pseudo;
    if (!c->v6) {
        ip[0] = 0x45; ip[1] = 0; put16(ip + 2, (uint16_t)(20 + thl + q->len));
        put16(ip + 4, c->ipid[d]++); put16(ip + 6, 0x4000);
        ip[8] = d == O ? 57 : 64; ip[9] = 6; ip[10] = ip[11] = 0;
        memcpy(ip + 12, c->addr[d], 4); memcpy(ip + 16, c->addr[!d], 4);
        put16(ip + 10, fold(sum16(ip, 20, 0)));
        pseudo = sum16(ip + 12, 8, 0);
    } else {
        ip[0] = 0x60; ip[1] = ip[2] = ip[3] = 0; put16(ip + 4, (uint16_t)(thl + q->len));
        ip[6] = 6; ip[7] = d == O ? 57 : 64;
        memcpy(ip + 8, c->addr[d], 16); memcpy(ip + 24, c->addr[!d], 16);
        pseudo = sum16(ip + 8, 32, 0);
    }
    pseudo += 6 + (uint32_t)(thl + q->len);

    put16(tcp, c->port[d]); put16(tcp + 2, c->port[!d]);
    put32(tcp + 4, q->seq); put32(tcp + 8, q->ack);
    tcp[12] = (uint8_t)((thl / 4) << 4); tcp[13] = q->flags;
    put16(tcp + 14, syn ? (c->v6 ? 64800 : 64240) : rst ? 0 : 502);
    tcp[16] = tcp[17] = tcp[18] = tcp[19] = 0;
    uint32_t tsval = c->ts_base[d] + (uint32_t)(q->t / 1000);
    uint32_t tsecr = (q->flags & F_ACK) ? c->last_ts[!d] : 0;
    uint8_t *o = tcp + 20;
    if (syn) {   /* mss, sackOK, TS, nop, wscale 7: Linux's order */
        o[0] = 2; o[1] = 4; put16(o + 2, (uint16_t)(c->mss + 12));
        o[4] = 4; o[5] = 2;
        o[6] = 8; o[7] = 10; put32(o + 8, tsval); put32(o + 12, tsecr);
        o[16] = 1; o[17] = 3; o[18] = 3; o[19] = 7;
    } else if (!rst) {
        o[0] = 1; o[1] = 1; o[2] = 8; o[3] = 10; put32(o + 4, tsval); put32(o + 8, tsecr);
    }
    if (!rst) c->last_ts[d] = tsval;
    put16(tcp + 16, fold(sum16(tcp, (size_t)thl, pseudo)));

    if (fwrite(buf, 1, (size_t)(16 + 14 + iphl + thl), out) != (size_t)(16 + 14 + iphl + thl) ||
        (q->len && fwrite(zeros, 1, q->len, out) != q->len)) {
        perror("write"); exit(1);
    }
    npackets++; nbytes += (uint64_t)(16 + frame);
}

/* ---------- lanes and the merge ---------- */

static lane_t *lanes;
static int *heap, nheap;
static uint64_t nconn, kind_count[NKINDS];
static int v6_percent = 10;

static int before(int a, int b) {
    int64_t ta = lanes[a].p[lanes[a].next].t, tb = lanes[b].p[lanes[b].next].t;
    return ta < tb || (ta == tb && a < b);
}
static void sift_down(int i) {
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < nheap && before(heap[l], heap[m])) m = l;
        if (r < nheap && before(heap[r], heap[m])) m = r;
        if (m == i) return;
        int t = heap[i]; heap[i] = heap[m]; heap[m] = t; i = m;
    }
}

static void start_connection(lane_t *L, int64_t at) {
    conn_t *c = &L->c;
    c->v6 = (int)between(0, 99) < v6_percent;
    pick_endpoints(c, c->v6);
    c->isn[O] = (uint32_t)rnd(); c->isn[R] = (uint32_t)rnd();
    c->ts_base[O] = (uint32_t)rnd(); c->ts_base[R] = (uint32_t)rnd();
    c->last_ts[O] = c->last_ts[R] = 0;
    c->ipid[O] = (uint16_t)rnd(); c->ipid[R] = (uint16_t)rnd();
    c->mss = c->v6 ? 1428 : 1448;
    enum kind k;
    if (L->remaining == 0) k = chance(85) ? OPEN : chance(70) ? HALFCLOSED_O : HALFCLOSED_R;
    else k = pick_ending();
    L->t = at;
    build(L, k);
    kind_count[k]++; nconn++;

    char a[2][INET6_ADDRSTRLEN];
    for (int d = 0; d < 2; d++) inet_ntop(c->v6 ? AF_INET6 : AF_INET, c->addr[d], a[d], sizeof a[d]);
    fprintf(tsv, "%s\t%u\t%s\t%u\t%s\t%s\t%s\t%s\t%s\n", a[O], c->port[O], a[R], c->port[R],
            truth[k].teardown, truth[k].closed_by, truth[k].conn_state, truth[k].half_close, truth[k].name);
}

static void usage(void) {
    fprintf(stderr, "usage: gen_capture --connections N --concurrency K [--seed S] [--v6-percent P] --out FILE\n");
    exit(2);
}

int main(int argc, char **argv) {
    uint64_t n = 0, k = 0, seed = 1;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc) usage();
        if (!strcmp(argv[i], "--connections")) n = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--concurrency")) k = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--seed")) seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--v6-percent")) v6_percent = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--out")) path = argv[++i];
        else usage();
    }
    if (!n || !k || !path) usage();
    if (k > n) k = n;

    uint64_t s = seed;
    for (int i = 0; i < 4; i++) rs[i] = splitmix64(&s);

    char tpath[4096];
    snprintf(tpath, sizeof tpath, "%s.truth.tsv", path);
    out = fopen(path, "wb");
    tsv = fopen(tpath, "w");
    if (!out || !tsv) { fprintf(stderr, "gen_capture: cannot write %s: %s\n", path, strerror(errno)); return 1; }
    setvbuf(out, NULL, _IOFBF, 1 << 22);
    fprintf(tsv, "orig_addr\torig_port\tresp_addr\tresp_port\tteardown\tclosed_by\tconn_state\thalf_close\tscenario\n");

    uint8_t gh[24];
    le32(gh, 0xa1b2c3d4); gh[4] = 2; gh[5] = 0; gh[6] = 4; gh[7] = 0;
    memset(gh + 8, 0, 8); le32(gh + 16, 262144); le32(gh + 20, 1);   /* LINKTYPE_ETHERNET */
    fwrite(gh, 1, sizeof gh, out);

    for (int v = 0; v < 2; v++) {
        nclients[v] = (uint32_t)(n / 1000 + 4096);
        clients[v] = calloc(nclients[v], sizeof(client_t));
    }
    lanes = calloc(k, sizeof *lanes);
    heap = malloc(k * sizeof *heap);
    if (!lanes || !heap || !clients[0] || !clients[1]) { perror("calloc"); return 1; }

    for (uint64_t i = 0; i < k; i++) {
        lanes[i].remaining = (int)(n / k + (i < n % k ? 1 : 0)) - 1;
        start_connection(&lanes[i], between(0, 2000000));
        heap[nheap++] = (int)i;
    }
    for (int i = nheap / 2 - 1; i >= 0; i--) sift_down(i);

    int64_t last_t = 0;
    while (nheap > 0) {
        int li = heap[0];
        lane_t *L = &lanes[li];
        write_packet(L, &L->p[L->next]);
        last_t = L->p[L->next].t;
        if (++L->next < L->n) { sift_down(0); continue; }
        if (L->remaining > 0) {
            /* The connection has ended; the lane starts its next one after a short gap. */
            int64_t gap = between(100, 200000) + (L->kind == UNANSWERED ? between(0, 3000000) : 0);
            L->remaining--;
            start_connection(L, L->t + gap);
            sift_down(0);
        } else {
            /* Last connection of the lane: it stays open (or half-closed) to the end. */
            heap[0] = heap[--nheap];
            if (nheap > 0) sift_down(0);
        }
    }

    if (fclose(out) != 0 || fclose(tsv) != 0) { perror("close"); return 1; }
    fprintf(stderr, "gen_capture: %s: %" PRIu64 " packets, %" PRIu64 " bytes, %" PRIu64
            " connections (at most %" PRIu64 " open at once), %.1f s of traffic\n",
            path, npackets, nbytes, nconn, k, (double)last_t / 1e6);
    for (int i = 0; i < NKINDS; i++)
        fprintf(stderr, "  %-22s %8" PRIu64 "\n", truth[i].name, kind_count[i]);
    return 0;
}
