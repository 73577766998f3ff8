import Synchronization

/// What a benchmark's reader has read so far, and when it read the last
/// message, published every few messages so that the reader pays no lock per
/// message (it reads the clock, which costs tens of nanoseconds).
final class ZMQBenchProgress: Sendable {
    private struct State {
        var lastRead: ContinuousClock.Instant?
        var finished = false
    }

    private let count = Atomic<Int>(0)
    private let state = Mutex(State())

    /// The messages read, as last published.
    var value: Int { count.load(ordering: .relaxed) }

    /// Whether the reader has stopped (it read everything, or was cancelled).
    var finished: Bool { state.withLock { $0.finished } }

    /// When the last message counted in the last publication was read.
    var lastRead: ContinuousClock.Instant? { state.withLock { $0.lastRead } }

    /// Publishes the reader's count and when it read its last message;
    /// `final` when the reader stops.
    func publish(_ value: Int, lastRead: ContinuousClock.Instant?, final: Bool = false) {
        count.store(value, ordering: .relaxed)
        state.withLock { state in
            if let lastRead { state.lastRead = lastRead }
            if final { state.finished = true }
        }
    }
}
