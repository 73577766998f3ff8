import Synchronization

/// The exit of a child process, awaitable (Foundation's `waitUntilExit` blocks a thread).
final class ProcessExit: Sendable {
    private let state = Mutex<(exited: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    /// Records the exit and resumes the waiters; called by the process' termination handler.
    func signal() {
        let waiters = state.withLock { state in
            state.exited = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Whether the process has exited.
    var hasExited: Bool { state.withLock { $0.exited } }

    /// Returns once the process has exited.
    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let exited = state.withLock { state in
                if !state.exited { state.waiters.append(continuation) }
                return state.exited
            }
            if exited { continuation.resume() }
        }
    }
}
