import DequeModule
import Synchronization

/// The bounded queue behind a ``PresenceEvents`` sequence: shards push under
/// their own locks (so pushing must never wait), one reader pulls.
///
/// A reader that falls more than `limit` events behind is ended with
/// ``TrackerError/eventsOverflow(limit:)`` rather than letting memory grow or
/// silently losing a change, which would leave its view of presences wrong.
final class PresenceEventChannel: Sendable {
    private struct State {
        var buffer: Deque<PresenceEvent> = []
        var waiter: CheckedContinuation<PresenceEvent?, any Error>?
        var ending: TrackerError?
        var finished = false
    }

    private let state = Mutex(State())
    private let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    /// Queues `event` at the back; ends the channel if the reader is too far behind.
    func push(_ event: PresenceEvent) {
        let resume: (CheckedContinuation<PresenceEvent?, any Error>, Result<PresenceEvent?, any Error>)? = state.withLock { state in
            guard !state.finished else { return nil }
            if let waiter = state.waiter {
                state.waiter = nil
                return (waiter, .success(event))
            }
            guard state.buffer.count < limit else {
                state.buffer.removeAll()
                state.finished = true
                state.ending = .eventsOverflow(limit: limit)
                return nil
            }
            state.buffer.append(event)
            return nil
        }
        if let (waiter, result) = resume { waiter.resume(with: result) }
    }

    /// Queues `event` in front of everything queued: the snapshot, which is
    /// assembled after the shards have started queueing diffs.
    func pushFront(_ event: PresenceEvent) {
        let waiter: CheckedContinuation<PresenceEvent?, any Error>? = state.withLock { state in
            guard !state.finished else { return nil }
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.buffer.prepend(event)
            return nil
        }
        waiter?.resume(returning: event)
    }

    /// Ends the sequence after what is queued, with `error` if given.
    func finish(throwing error: TrackerError? = nil) {
        let waiter: CheckedContinuation<PresenceEvent?, any Error>? = state.withLock { state in
            guard !state.finished else { return nil }
            state.finished = true
            state.ending = error
            let waiter = state.waiter
            state.waiter = nil
            return waiter
        }
        guard let waiter else { return }
        if let error { waiter.resume(throwing: error) } else { waiter.resume(returning: nil) }
    }

    /// The next event, `nil` at the end; throws the ending error once the queue is drained.
    func next() async throws(TrackerError) -> PresenceEvent? {
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<PresenceEvent?, any Error>) in
                    let immediate: Result<PresenceEvent?, any Error>? = state.withLock { state in
                        if let event = state.buffer.popFirst() { return .success(event) }
                        if state.finished {
                            if let ending = state.ending {
                                state.ending = nil
                                return .failure(ending)
                            }
                            return .success(nil)
                        }
                        if Task.isCancelled { return .success(nil) }
                        state.waiter = continuation
                        return nil
                    }
                    if let immediate { continuation.resume(with: immediate) }
                }
            } onCancel: {
                let waiter = state.withLock { state in
                    let waiter = state.waiter
                    state.waiter = nil
                    return waiter
                }
                waiter?.resume(returning: nil)
            }
        } catch let error as TrackerError {
            throw error
        } catch {
            return nil
        }
    }
}
