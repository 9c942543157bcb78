#ifndef CTD_SYS_H
#define CTD_SYS_H
/// unshare(CLONE_NEWNET) (unshare(2)); Glibc's Swift overlay does not export it without _GNU_SOURCE.
int ctd_unshare_net(void);
/// setns(fd, CLONE_NEWNET) (setns(2)): returns the calling thread to a saved namespace.
int ctd_setns_net(int fd);
#endif
