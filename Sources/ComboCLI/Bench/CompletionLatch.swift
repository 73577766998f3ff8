import Synchronization

/// Waits until `count` tasks have arrived, summing what they report.
final class CompletionLatch: Sendable {
    private struct State {
        var remaining: Int
        var total = 0
        var waiter: CheckedContinuation<Int, Never>?
    }

    private let state: Mutex<State>

    init(count: Int) {
        state = Mutex(State(remaining: count))
    }

    func arrive(reading count: Int) {
        let waiter = state.withLock { state -> (CheckedContinuation<Int, Never>, Int)? in
            state.total += count
            state.remaining -= 1
            guard state.remaining == 0, let waiter = state.waiter else { return nil }
            state.waiter = nil
            return (waiter, state.total)
        }
        if let (continuation, total) = waiter { continuation.resume(returning: total) }
    }

    /// Returns the sum of what every task reported, once all have arrived.
    func wait() async -> Int {
        await withCheckedContinuation { continuation in
            let total = state.withLock { state -> Int? in
                if state.remaining == 0 { return state.total }
                state.waiter = continuation
                return nil
            }
            if let total { continuation.resume(returning: total) }
        }
    }
}
