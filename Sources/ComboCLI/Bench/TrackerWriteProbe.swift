import Combo
import Foundation
import Synchronization

/// Updates one presence of a tracker from a thread of its own, every 200 µs
/// until stopped, and records how long each call took: how long a local write
/// waits for its shard, behind a merge for instance. A thread rather than a
/// task, so that a blocked call shows as a long call and holds no thread of
/// the cooperative pool.
final class TrackerWriteProbe: Sendable {
    private let stopping = Atomic<Bool>(false)
    private let durations = Mutex<[Duration]>([])
    private let finished = DispatchSemaphore(value: 0)

    /// Starts updating the presence of `owner` under `topic` and `key`, which
    /// must be tracked.
    func start(tracker: Tracker, owner: PresenceOwnerID, topic: String, key: String) {
        Thread { [self] in
            let clock = ContinuousClock()
            var round = 0
            while !stopping.load(ordering: .relaxed) {
                round += 1
                let start = clock.now
                _ = try? tracker.update(owner, topic: topic, key: key, values: ["round": .int(Int64(round))])
                let duration = start.duration(to: clock.now)
                durations.withLock { $0.append(duration) }
                usleep(200)
            }
            finished.signal()
        }.start()
    }

    /// Stops the thread and returns every call's duration, in call order.
    func stop() -> [Duration] {
        stopping.store(true, ordering: .relaxed)
        finished.wait()
        return durations.withLock { $0 }
    }
}
