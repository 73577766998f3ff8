import Synchronization

/// Counts messages read and remembers when the last one was read.
final class ReadCounter: Sendable {
    private let state = Mutex<(count: Int, last: ContinuousClock.Instant)>((0, ContinuousClock.now))

    /// Counts one message read now and returns the new count.
    func increment() -> Int {
        let now = ContinuousClock.now
        return state.withLock { state in
            state.count += 1
            state.last = now
            return state.count
        }
    }

    var value: Int { state.withLock { $0.count } }
    var lastRead: ContinuousClock.Instant { state.withLock { $0.last } }
}
