// CPrefetch is header-only (ctd_prefetch.h); SwiftPM needs one source file per C target.
#include "ctd_prefetch.h"
