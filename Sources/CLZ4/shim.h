#ifndef TEARDOWN_CLZ4_SHIM_H
#define TEARDOWN_CLZ4_SHIM_H
#include <lz4frame.h>
#endif
