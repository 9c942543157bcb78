#ifndef TEARDOWN_CPCAP_SHIM_H
#define TEARDOWN_CPCAP_SHIM_H
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdio_ext.h>

/// Tells glibc that the caller does the locking of `stream` (`__fsetlocking`,
/// FSETLOCKING_BYCALLER): its reads then take no lock. In a process with more than one thread,
/// stdio locks the stream around every `fread`, two atomic operations, and libpcap reads a
/// capture file with two `fread`s a packet. Only for a stream read by one thread at a time.
static inline void ctd_stream_lock_by_caller(FILE *stream) { __fsetlocking(stream, FSETLOCKING_BYCALLER); }
#endif
