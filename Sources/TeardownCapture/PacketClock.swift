import TeardownWire
#if canImport(Glibc)
import Glibc
#endif

/// The clock of packet timestamps: CLOCK_REALTIME (pcap(3PCAP) stamps packets with it), so a
/// time read here can be compared with a packet's.
public enum PacketClock {
    public static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(seconds: Int64(ts.tv_sec), nanoseconds: Int64(ts.tv_nsec))
    }
}

/// A clock's reading in nanoseconds (clock_gettime(2)): CLOCK_MONOTONIC for durations and
/// deadlines, which a step of the wall clock must not move.
public enum SystemClock {
    public static func nanoseconds(_ clock: clockid_t) -> Int64 {
        var ts = timespec()
        clock_gettime(clock, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    public static func monotonic() -> Int64 { nanoseconds(CLOCK_MONOTONIC) }
}
