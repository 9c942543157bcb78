/* bench/live_load.c: the load for bench/live_load.sh.
 *
 * Opens and closes short TCP connections to itself on 127.0.0.1 as fast as asked, with a mix
 * of endings, and writes what each connection should be reported as:
 *
 *   connection i % 3 == 0  client sends 'S'; server replies, closes first (FIN), client closes
 *                          -> graceful, closed by the server
 *   connection i % 3 == 1  client sends 'C'; server replies; client closes first (FIN), server
 *                          closes on EOF -> graceful, closed by the client
 *   connection i % 3 == 2  client sends 'R'; server replies; client aborts with SO_LINGER {1, 0}
 *                          (RST, socket(7)) -> abort-by-originator, closed by the client
 *
 * usage: live_load PORT RATE SECONDS OUT.tsv
 *   RATE: connections per second to aim for (paced), 0 = as fast as possible.
 * OUT.tsv: one line per completed connection: client_port teardown closed_by
 * stderr: connections made, failures, and the rate achieved.
 *
 * One server thread (accept, read the 1-byte request, reply 64 bytes, then close or wait for
 * the client's close) and the client loop in the main thread: connections run one after
 * another, so the rate is bounded by a loopback round trip plus the syscalls, and the load
 * takes at most two cores' worth of time slices.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int port;
static volatile int stopping;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int read_full(int fd, char *buf, int n) {
    int got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        got += (int)r;
    }
    return got;
}

static void *server(void *arg) {
    int ls = *(int *)arg;
    char reply[64];
    memset(reply, 'x', sizeof reply);
    while (!stopping) {
        int fd = accept(ls, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (stopping) break;
            perror("live_load: accept");
            continue;
        }
        char kind;
        if (read_full(fd, &kind, 1) == 1 && write(fd, reply, sizeof reply) == (ssize_t)sizeof reply) {
            if (kind != 'S') {
                char sink[256];
                /* Wait for the client's FIN (read returns 0) or its RST (ECONNRESET). */
                while (read(fd, sink, sizeof sink) > 0) {}
            }
        }
        if (close(fd) != 0) perror("live_load: close (server)");
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: live_load PORT RATE SECONDS OUT.tsv\n");
        return 2;
    }
    port = atoi(argv[1]);
    double rate = atof(argv[2]), seconds = atof(argv[3]);
    FILE *out = fopen(argv[4], "w");
    if (!out) { perror(argv[4]); return 1; }

    int ls = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) { perror("live_load: socket"); return 1; }
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(ls, (struct sockaddr *)&a, sizeof a) != 0 || listen(ls, 4096) != 0) { perror("live_load: bind/listen"); return 1; }
    pthread_t th;
    if (pthread_create(&th, NULL, server, &ls) != 0) { fprintf(stderr, "live_load: pthread_create failed\n"); return 1; }

    long made = 0, failed = 0;
    double start = now(), end = start + seconds;
    char buf[64];
    for (long i = 0;; i++) {
        double t = now();
        if (t >= end) break;
        if (rate > 0) {
            double due = start + i / rate;
            if (due > t) {
                struct timespec d = { (time_t)(due - t), (long)(((due - t) - (time_t)(due - t)) * 1e9) };
                while (nanosleep(&d, &d) != 0 && errno == EINTR) {}
            }
        }
        char kind = "SCR"[i % 3];
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) { perror("live_load: socket"); failed++; continue; }
        if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) { failed++; close(fd); continue; }
        struct sockaddr_in me;
        socklen_t len = sizeof me;
        if (getsockname(fd, (struct sockaddr *)&me, &len) != 0) { failed++; close(fd); continue; }
        if (write(fd, &kind, 1) != 1 || read_full(fd, buf, sizeof buf) != (int)sizeof buf) { failed++; close(fd); continue; }
        if (kind == 'S') {
            while (read(fd, buf, sizeof buf) > 0) {}  /* the server's FIN */
        } else if (kind == 'R') {
            struct linger l = { .l_onoff = 1, .l_linger = 0 };
            if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l) != 0) perror("live_load: SO_LINGER");
        }
        if (close(fd) != 0) perror("live_load: close (client)");
        made++;
        fprintf(out, "%u\t%s\t%s\n", ntohs(me.sin_port),
                kind == 'R' ? "abort-by-originator" : "graceful", kind == 'S' ? "server" : "client");
    }
    double took = now() - start;
    stopping = 1;
    shutdown(ls, SHUT_RDWR);
    pthread_join(th, NULL);
    fclose(out);
    fprintf(stderr, "live_load: %ld connections in %.2f s (%.0f/s), %ld failed\n", made, took, made / took, failed);
    return 0;
}
