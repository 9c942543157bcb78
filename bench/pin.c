/*
 * pin.c: holds a file in the page cache while the benchmark runs.
 *
 * Maps FILE, locks the mapping (mlock), so every page is read once and cannot be evicted,
 * prints "pinned BYTES" on stdout, then waits until its stdin reaches end of file (the
 * benchmark closes the pipe, or exits) and unlocks on exit.
 *
 *   cc -O2 -o pin bench/pin.c && ./pin FILE < fifo
 *
 * Why: some machines reclaim file pages that were not read in the last few seconds (this
 * benchmark's VM runs DAMON with a pageout scheme: 10% of a 2.3 GB capture went within four
 * seconds of reading it). Then each timed run reads part of the file from disk, and which
 * run pays for it is chance. A locked mapping keeps every run reading from memory.
 * Locking needs RLIMIT_MEMLOCK above the file's size (root has it); otherwise pin says so
 * and exits 1, and the benchmark says the file is not pinned.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: pin FILE (waits until stdin closes)\n");
        return 2;
    }
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "pin: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size == 0) {
        fprintf(stderr, "pin: %s: empty or unreadable\n", argv[1]);
        return 1;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        fprintf(stderr, "pin: mmap %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    if (mlock(p, (size_t)st.st_size) != 0) {
        fprintf(stderr, "pin: mlock %s (%lld bytes): %s\n", argv[1], (long long)st.st_size, strerror(errno));
        return 1;
    }
    printf("pinned %lld\n", (long long)st.st_size);
    fflush(stdout);
    char buf[256];
    while (read(STDIN_FILENO, buf, sizeof buf) > 0) {}
    return 0;
}
