#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "ctd_sys.h"

int ctd_unshare_net(void) { return unshare(CLONE_NEWNET); }
int ctd_setns_net(int fd) { return setns(fd, CLONE_NEWNET); }

int ctd_rmdir_watch(const char *path, int *release_fd) {
    char copy[4096];
    size_t n = strlen(path);
    if (n >= sizeof copy) { errno = ENAMETOOLONG; return -1; }
    memcpy(copy, path, n + 1);
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) { int e = errno; close(p[0]); close(p[1]); errno = e; return -1; }
    if (pid == 0) {
        // Only async-signal-safe calls from here on: the parent may have other threads.
        if (p[0] != 3) { if (dup2(p[0], 3) < 0) _exit(errno); }
        close_range(4, ~0U, 0);
        if (p[0] != 3) close(p[0]);
        close(0); close(1); close(2);   // a reader of the caller's output sees its end when the caller ends
        signal(SIGINT, SIG_IGN); signal(SIGTERM, SIG_IGN); signal(SIGHUP, SIG_IGN); signal(SIGPIPE, SIG_IGN);
        char b;
        for (;;) {   // until end of file: the caller closed its end, or exited
            ssize_t r = read(3, &b, 1);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) break;
        }
        for (int i = 0; i < 200; i++) {
            if (rmdir(copy) == 0) _exit(0);
            if (errno != EBUSY) _exit(errno == ENOENT ? 0 : errno);
            struct timespec ts = { 0, 10 * 1000 * 1000 };
            nanosleep(&ts, 0);
        }
        _exit(EBUSY);
    }
    close(p[0]);
    *release_fd = p[1];
    return pid;
}
