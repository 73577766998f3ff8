import Synchronization

/// Which of a node's Redis connections are up, and the tasks waiting for a change.
///
/// Waiters are resumed by whoever changes the state, under no lock; a waiter
/// whose task is cancelled is resumed at once, so a wait raced against a
/// deadline never leaks.
final class RedisConnectionStatus: Sendable {
    /// A snapshot of the connections.
    struct Snapshot: Sendable {
        /// The subscriber connection has confirmed `SUBSCRIBE` of every channel.
        var subscribed = false
        /// The publishing connections that are up, by index.
        var publishers: Set<Int> = []
    }

    private struct Waiter {
        let predicate: @Sendable (Snapshot) -> Bool
        let continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var snapshot = Snapshot()
        var waiters: [UInt64: Waiter] = [:]
        var nextWaiter: UInt64 = 0
    }

    private let state = Mutex(State())

    /// The current snapshot.
    var snapshot: Snapshot { state.withLock { $0.snapshot } }

    /// Changes the snapshot and resumes the waiters it satisfies.
    func update(_ change: (inout Snapshot) -> Void) {
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            change(&state.snapshot)
            let snapshot = state.snapshot
            let satisfied = state.waiters.filter { $0.value.predicate(snapshot) }
            for id in satisfied.keys { state.waiters[id] = nil }
            return satisfied.values.map(\.continuation)
        }
        for continuation in ready { continuation.resume() }
    }

    /// Returns once `predicate` holds, or once the task is cancelled.
    func wait(until predicate: @escaping @Sendable (Snapshot) -> Bool) async {
        let id = state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if predicate(state.snapshot) || Task.isCancelled { return true }
                    state.waiters[id] = Waiter(predicate: predicate, continuation: continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.continuation.resume()
        }
    }
}
