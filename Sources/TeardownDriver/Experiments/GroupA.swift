extension Experiments {
    /// Experiments 4-9: SO_LINGER with 30,000 bytes queued (three settings), close() with
    /// unread data, writing after the peer closed, and shutdown() in each direction.
    static var groupA: [Experiment] {
        [LingerThirtyK(.off), LingerThirtyK(.zero), LingerThirtyK(.oneSecond),
         CloseUnread(), WriteAfterClose(), ShutdownWrite(), ShutdownRead(), ShutdownBoth()]
    }
}
