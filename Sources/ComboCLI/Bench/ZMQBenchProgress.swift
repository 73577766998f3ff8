import Synchronization

/// What a benchmark's reader has read so far, published every few messages
/// so that the reader itself pays no lock and no clock per message.
final class ZMQBenchProgress: Sendable {
    private let count = Atomic<Int>(0)
    private let finish = Mutex<ContinuousClock.Instant?>(nil)

    /// The messages read, as last published.
    var value: Int { count.load(ordering: .relaxed) }

    /// When the last message was read (set by ``publish(_:final:)`` with `final`).
    var finished: ContinuousClock.Instant? { finish.withLock { $0 } }

    /// Publishes the reader's count; `final` also records the time.
    func publish(_ value: Int, final: Bool = false) {
        count.store(value, ordering: .relaxed)
        if final {
            let now = ContinuousClock.now
            finish.withLock { $0 = now }
        }
    }
}
