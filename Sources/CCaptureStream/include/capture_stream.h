#ifndef TEARDOWN_CAPTURE_STREAM_H
#define TEARDOWN_CAPTURE_STREAM_H
#include <stdio.h>
#include <sys/types.h>

/// Reads up to `size` bytes into `buffer`: the count, 0 at the end, -1 on an error.
typedef ssize_t (*ctd_stream_read)(void *cookie, char *buffer, size_t size);
/// Releases the cookie when the stream is closed.
typedef int (*ctd_stream_close)(void *cookie);

/// A read-only stdio stream whose bytes come from `read` (glibc's fopencookie(3)), so that
/// libpcap, which reads a capture from a FILE *, can read bytes teardown produces itself
/// (a decompressed file, standard input after its first bytes were looked at).
FILE *ctd_open_read_stream(void *cookie, ctd_stream_read read, ctd_stream_close close);
#endif
