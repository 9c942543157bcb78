/*
 * floor.c: the fastest anything built on libpcap can read a capture.
 *
 * pcap_open_offline + pcap_next_ex over the whole file, counting packets and bytes and
 * reading one byte of every packet (so the loop cannot be optimised away and the packet
 * data is actually touched). This is the benchmark's floor: teardown's packet rate is
 * reported as a fraction of this one, measured on the same file in the same run.
 *
 *   cc -O2 -o floor bench/floor.c -lpcap && ./floor [--buffer BYTES] FILE
 *
 * With --buffer, the file is opened with fopen and given a stdio buffer of BYTES
 * (setvbuf) before pcap_fopen_offline, as teardown opens files (1 MiB): libpcap reads with two
 * freads a packet, and stdio's default buffer (the file system block size, 4 KiB) makes that
 * a read system call every few packets. Without it, this is the plain loop the issue defines.
 *
 * With --mmap, libpcap is not used at all: the file is mapped (mmap, MAP_POPULATE is not asked
 * for: the pages come from the page cache as the loop touches them) and the loop steps from
 * record header to record header of the classic pcap format, reading one byte of every packet:
 * the memory floor of issue 19, what walking the file costs without any parsing library. It
 * reads classic pcap only (either byte order, micro- or nanosecond magic).
 *
 * Prints: packets=N bytes=B seconds=S (S is the time of the loop alone, open included).
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static uint32_t swap32(uint32_t v) { return __builtin_bswap32(v); }

/* The --mmap walk: returns 0 and fills the counts, or 1 after printing why. */
static int walk_mapped(const char *path, uint64_t *packets, uint64_t *bytes, unsigned *check) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) { perror(path); return 1; }
    struct stat st;
    if (fstat(fd, &st) != 0) { perror(path); return 1; }
    size_t size = (size_t)st.st_size;
    if (size < 24) { fprintf(stderr, "floor: %s: too short for a pcap header\n", path); return 1; }
    const unsigned char *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) { perror("mmap"); return 1; }
    madvise((void *)m, size, MADV_SEQUENTIAL);
    uint32_t magic;
    memcpy(&magic, m, 4);
    int swapped;
    if (magic == 0xa1b2c3d4u || magic == 0xa1b23c4du) swapped = 0;
    else if (magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u) swapped = 1;
    else { fprintf(stderr, "floor: %s: not a classic pcap file (--mmap reads only those)\n", path); return 1; }
    size_t off = 24;
    while (off + 16 <= size) {
        uint32_t caplen;
        memcpy(&caplen, m + off + 8, 4);
        if (swapped) caplen = swap32(caplen);
        off += 16;
        if (caplen > size - off) break;   /* a record cut short at the end */
        (*packets)++;
        *bytes += caplen;
        if (caplen > 12) *check += m[off + 12];
        off += caplen;
    }
    munmap((void *)m, size);
    close(fd);
    return 0;
}

int main(int argc, char **argv) {
    size_t buffer = 0;
    int mapped = 0;
    if (argc == 3 && strcmp(argv[1], "--mmap") == 0) {
        mapped = 1;
        argv += 1;
        argc -= 1;
    }
    if (argc == 4 && strcmp(argv[1], "--buffer") == 0) {
        buffer = (size_t)strtoull(argv[2], NULL, 10);
        argv += 2;
        argc -= 2;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: floor [--buffer BYTES | --mmap] FILE.pcap\n");
        return 2;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    if (mapped) {
        uint64_t packets = 0, bytes = 0;
        unsigned check = 0;
        if (walk_mapped(argv[1], &packets, &bytes, &check) != 0) return 1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        fprintf(stderr, "mmap walk (no libpcap)\n");
        printf("packets=%llu bytes=%llu seconds=%.6f check=%u\n",
               (unsigned long long)packets, (unsigned long long)bytes, s, check);
        return 0;
    }
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p;
    if (buffer > 0) {
        FILE *f = fopen(argv[1], "rb");
        if (!f) {
            perror(argv[1]);
            return 1;
        }
        if (setvbuf(f, malloc(buffer), _IOFBF, buffer) != 0) {
            fprintf(stderr, "floor: setvbuf failed\n");
            return 1;
        }
        p = pcap_fopen_offline(f, err);
    } else {
        p = pcap_open_offline(argv[1], err);
    }
    if (!p) {
        fprintf(stderr, "floor: %s\n", err);
        return 1;
    }
    struct pcap_pkthdr *h;
    const u_char *data;
    uint64_t packets = 0, bytes = 0;
    unsigned check = 0;
    int rc;
    while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
        packets++;
        bytes += h->caplen;
        if (h->caplen > 12) check += data[12];   /* first byte of the EtherType */
    }
    if (rc == PCAP_ERROR) {
        fprintf(stderr, "floor: %s\n", pcap_geterr(p));
        return 1;
    }
    pcap_close(p);

    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(stderr, "%s\n", pcap_lib_version());
    printf("packets=%llu bytes=%llu seconds=%.6f check=%u\n",
           (unsigned long long)packets, (unsigned long long)bytes, s, check);
    return 0;
}
