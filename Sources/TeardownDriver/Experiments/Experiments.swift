/// Every bundled experiment, by topic, in the order `run all` runs them and `scenarios` lists them.
public enum Experiments {
    public static var all: [any Experiment] {
        closeAndLinger + peerClosed + shutdown + processes + detectingClose + simultaneousClose + diagnoses
    }

    public static func named(_ name: String) -> (any Experiment)? { all.first { $0.name == name } }

    /// close() by either side (the four-way close), and SO_LINGER (socket(7)): {on, 0} on an
    /// idle connection, then each setting with 30,000 bytes still queued.
    static var closeAndLinger: [any Experiment] {
        [CloseFirst(closer: .orig), CloseFirst(closer: .resp), LingerZero(),
         LingerThirtyK(.off), LingerThirtyK(.zero), LingerThirtyK(.oneSecond)]
    }

    /// Data meeting a peer that has closed: close() with data unread, and writing after the
    /// peer's close.
    static var peerClosed: [any Experiment] { [CloseUnread(), WriteAfterClose()] }

    /// shutdown(2) in each direction.
    static var shutdown: [any Experiment] { [ShutdownWrite(), ShutdownRead(), ShutdownBoth()] }

    /// Sockets and the processes that hold them: shared after fork(), closed by exit, orphaned
    /// in FIN-WAIT-2 after close().
    static var processes: [any Experiment] { [ForkShared(), ExitWithoutClose(), OrphanFinWait2()] }

    /// What an application sees of its peer's close: an echo client that close()s or
    /// shutdown()s before the replies, and recv(MSG_PEEK) as a probe in each state.
    static var detectingClose: [any Experiment] { [Echo(halfClose: false), Echo(halfClose: true), PeekDetect()] }

    /// Both sides closing at once (RFC 9293 §3.6).
    static var simultaneousClose: [any Experiment] { [SimultaneousClose()] }

    /// The endings that hurt in production, made to happen so that teardown's diagnoses
    /// (docs/diagnoses.md) are proved on real recordings: a keep-alive race, a close with the
    /// request unread, a zero window until an abort, retransmissions given up, a listen queue
    /// overflowing, a firewall's reset in the server's name, a peer that lost the connection
    /// silently, a SYN into TIME-WAIT, a socket leaked in CLOSE-WAIT (the only slow one: 62 s).
    static var diagnoses: [any Experiment] {
        [KeepaliveRace(), CloseUnreadRequest(), ZeroWindowAbort(), RetransmissionGiveUp(), ListenOverflow(), FirewallReset(), PeerRestarted(), TimeWaitReuse(), HarmlessReset(), CloseWaitLeak()]
    }
}
