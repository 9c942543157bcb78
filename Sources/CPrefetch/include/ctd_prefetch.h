#ifndef CTD_PREFETCH_H
#define CTD_PREFETCH_H
/// Asks the CPU to bring the cache line holding `p` closer (GCC/Clang __builtin_prefetch, read,
/// high temporal locality). Only a hint: it never faults, whatever `p` is. Swift has no prefetch
/// of its own; the connection table uses this to hide the cache misses of looking up a flow.
static inline void ctd_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }
#endif
