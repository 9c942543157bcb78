import CPrefetch

/// Starts loading the cache line holding `p` (`ctd_prefetch`: a hint, it never faults, whatever
/// `p` points to).
@inlinable @inline(__always)
public func prefetchLine(_ p: UnsafeRawPointer) {
    ctd_prefetch(p)
}

/// Starts loading every cache line of the `bytes` at `start`: one every 64 bytes, and the line
/// of the last byte, which the stride misses when the object starts late in a line (packets in
/// a batch and connections in a chunk are not aligned to one). In line, with `bytes` a
/// constant, the loop unrolls to the prefetches themselves.
@inlinable @inline(__always)
public func prefetchLines(_ start: UnsafeRawPointer, bytes: Int) {
    for offset in stride(from: 0, to: bytes, by: 64) { ctd_prefetch(start + offset) }
    ctd_prefetch(start + (bytes - 1))
}
