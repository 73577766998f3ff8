import Synchronization

/// A flag that is raised once and can be awaited by any number of tasks; a
/// waiting task that is cancelled stops waiting.
final class OneShotSignal: Sendable {
    private struct State {
        var raised = false
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
    }

    private let state = Mutex(State())

    /// Raises the flag and wakes every waiter.
    func raise() {
        let waiters = state.withLock { state in
            state.raised = true
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Whether the flag is raised.
    var isRaised: Bool { state.withLock { $0.raised } }

    /// Returns once the flag is raised, or at once if the task is cancelled.
    func wait() async {
        let id = state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if state.raised || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }

    /// Returns once the flag is raised, or at `deadline`, or at once if the
    /// task is cancelled; `true` when the flag was raised.
    @discardableResult
    func wait(until deadline: ContinuousClock.Instant) async -> Bool {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.wait() }
            group.addTask { try? await Task.sleep(until: deadline) }
            await group.next()
            group.cancelAll()
        }
        return isRaised
    }
}
