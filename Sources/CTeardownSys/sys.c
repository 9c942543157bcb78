#define _GNU_SOURCE
#include <sched.h>
#include "ctd_sys.h"

int ctd_unshare_net(void) { return unshare(CLONE_NEWNET); }
int ctd_setns_net(int fd) { return setns(fd, CLONE_NEWNET); }

