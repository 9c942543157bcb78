#ifndef TEARDOWN_CZLIB_SHIM_H
#define TEARDOWN_CZLIB_SHIM_H
#include <zlib.h>

/// inflateInit2 for a gzip stream (RFC 1952): zlib's macro, which Swift cannot call, as a
/// function. Window bits 15 + 16: the largest window, gzip header and trailer required.
static inline int ctd_inflate_init_gzip(z_stream *stream) { return inflateInit2(stream, 15 + 16); }
#endif
