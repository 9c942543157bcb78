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
