import NIOCore
import Synchronization

/// A receiving lane for a `poolSize` above 1: the subscriber thread hands it
/// each burst's envelopes for this lane in one batch (one lock per batch, not
/// per envelope), and the lane's task takes everything queued in one swap and
/// hands it to the receiver in order.
final class ZMQLane: Sendable {
    private struct State {
        var items: [ByteBuffer] = []
        var waiter: CheckedContinuation<[ByteBuffer]?, Never>?
        var finished = false
    }

    private let state = Mutex(State())
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Queues a batch; returns how many envelopes were dropped because the lane was full.
    func push(_ batch: [ByteBuffer]) -> Int {
        let (waiter, items, dropped) = state.withLock { state -> (CheckedContinuation<[ByteBuffer]?, Never>?, [ByteBuffer], Int) in
            guard !state.finished else { return (nil, [], batch.count) }
            let room = capacity - state.items.count
            let accepted = batch.count <= room ? batch : Array(batch.prefix(max(0, room)))
            if let waiter = state.waiter {
                // A task waits only when nothing is queued: hand it the batch directly.
                state.waiter = nil
                return (waiter, accepted, batch.count - accepted.count)
            }
            state.items += accepted
            return (nil, [], batch.count - accepted.count)
        }
        waiter?.resume(returning: items)
        return dropped
    }

    /// Everything queued, waiting if nothing is; `nil` once finished and drained.
    func next() async -> [ByteBuffer]? {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> [ByteBuffer]?? in
                if !state.items.isEmpty {
                    defer { state.items = [] }
                    return .some(state.items)
                }
                if state.finished { return .some(nil) }
                state.waiter = continuation
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Ends the lane: ``next()`` returns what is queued, then `nil`.
    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<[ByteBuffer]?, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }
}
