#define _GNU_SOURCE
#include <sched.h>
#include "ctd_sys.h"

int ctd_unshare_net(void) { return unshare(CLONE_NEWNET); }
int ctd_setns_net(int fd) { return setns(fd, CLONE_NEWNET); }

/* sched_setscheduler(0, SCHED_BATCH): the calling thread's wake-ups stop preempting running
   threads (sched(7)); no privilege is needed to choose it. */
int ctd_thread_batch(void) {
    struct sched_param p = {0};
    return sched_setscheduler(0, SCHED_BATCH, &p);
}
