import Synchronization

/// A value set once, by any thread, and awaited by tasks: how the socket
/// threads report start-up and exit to `run()` without blocking it.
final class ZMQOneShot<Value: Sendable>: Sendable {
    private struct State: ~Copyable {
        var value: Value?
        var waiters: [CheckedContinuation<Value, Never>] = []
    }

    private let state = Mutex(State())

    init() {}

    /// Sets the value (the first call wins) and resumes every waiter.
    func fulfil(_ value: Value) {
        let waiters = state.withLock { state -> [CheckedContinuation<Value, Never>] in
            guard state.value == nil else { return [] }
            state.value = value
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: value) }
    }

    /// The value, if set.
    var current: Value? { state.withLock { $0.value } }

    /// Waits for the value.
    func value() async -> Value {
        await withCheckedContinuation { continuation in
            let value = state.withLock { state -> Value? in
                if let value = state.value { return value }
                state.waiters.append(continuation)
                return nil
            }
            if let value { continuation.resume(returning: value) }
        }
    }
}
