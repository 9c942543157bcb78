#define _GNU_SOURCE
#include <stdio.h>
#include "capture_stream.h"

FILE *ctd_open_read_stream(void *cookie, ctd_stream_read read, ctd_stream_close close) {
    cookie_io_functions_t io = { .read = read, .write = NULL, .seek = NULL, .close = close };
    return fopencookie(cookie, "r", io);
}
