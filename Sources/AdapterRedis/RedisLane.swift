import NIOCore
import Synchronization

/// One receiving lane: the envelopes of its shards in arrival order, from
/// the subscriber connection's event loop to the lane's task.
///
/// Envelopes are appended and taken in batches, under one lock each time:
/// everything one socket read brought goes in with one append, and the task
/// takes everything queued with one ``next()``. An `AsyncStream` hands over
/// one element at a time, with a lock and often a wake-up of the reading
/// task per envelope. The lane holds at most ``capacity`` envelopes; newer
/// ones are dropped beyond that, and the caller counts them.
final class RedisLane: Sendable {
    private struct State {
        var queue: [ByteBuffer] = []
        var waiter: CheckedContinuation<[ByteBuffer]?, Never>?
        /// Set by ``finish()`` or by cancellation of the reading task: no more batches.
        var finished = false
    }

    private let state = Mutex(State())
    /// The most envelopes queued at once.
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Appends envelopes in order; returns how many were dropped because the lane was full.
    func append(_ envelopes: [ByteBuffer]) -> Int {
        let (waiter, batch, dropped) = state.withLock { state -> (CheckedContinuation<[ByteBuffer]?, Never>?, [ByteBuffer], Int) in
            guard !state.finished else { return (nil, [], 0) }
            let room = capacity - state.queue.count
            let accepted = min(room, envelopes.count)
            if accepted == envelopes.count {
                state.queue.append(contentsOf: envelopes)
            } else {
                state.queue.append(contentsOf: envelopes.prefix(accepted))
            }
            guard let waiter = state.waiter, !state.queue.isEmpty else { return (nil, [], envelopes.count - accepted) }
            state.waiter = nil
            defer { state.queue = [] }
            return (waiter, state.queue, envelopes.count - accepted)
        }
        waiter?.resume(returning: batch)
        return dropped
    }

    /// Everything queued, in order, waiting while the lane is empty; `nil`
    /// once the lane is finished or the calling task is cancelled.
    func next() async -> [ByteBuffer]? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<[ByteBuffer]?, Never>) in
                let batch = state.withLock { state -> [ByteBuffer]?? in
                    if !state.queue.isEmpty {
                        defer { state.queue = [] }
                        return .some(state.queue)
                    }
                    if state.finished { return .some(nil) }
                    state.waiter = continuation
                    return nil
                }
                if let batch { continuation.resume(returning: batch) }
            }
        } onCancel: {
            finish()
        }
    }

    /// Ends the lane: the reader gets what is queued, then `nil`; later appends are ignored.
    func finish() {
        let waiter = state.withLock { state in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }
}
