#ifndef CTD_SYS_H
#define CTD_SYS_H
/// unshare(CLONE_NEWNET) (unshare(2)); Glibc's Swift overlay does not export it without _GNU_SOURCE.
int ctd_unshare_net(void);
/// setns(fd, CLONE_NEWNET) (setns(2)): returns the calling thread to a saved namespace.
int ctd_setns_net(int fd);
/// Forks a child that keeps the caller's privileges to remove the directory `path` (rmdir(2))
/// once the caller is done: when `*release_fd` (the write end of a pipe, kept by the caller) is
/// closed, by close(2) or by the caller's exit or crash. The child closes every other
/// descriptor, ignores SIGINT, SIGTERM, SIGHUP and SIGPIPE, retries while the directory is busy
/// (EBUSY: files in it still held open) for up to 2 s, and exits with 0 or the errno of rmdir.
/// Returns the child's pid, or -1 with errno set.
int ctd_rmdir_watch(const char *path, int *release_fd);
#endif
