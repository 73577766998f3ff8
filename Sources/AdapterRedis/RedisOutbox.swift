import NIOCore
import Synchronization

/// The `PUBLISH` queue of one publishing connection: callers append under a
/// lock, and one event loop task writes everything queued meanwhile.
///
/// Why not `channel.write` per call: from outside the event loop, each call
/// is a task submitted to the loop (and often a wake-up of its thread).
/// Here a burst of concurrent or back-to-back broadcasts costs one task and
/// one flush, which is what pipelines them. Order is the order of
/// ``enqueue(_:)`` calls. The bytes queued and not yet written to the socket
/// are bounded: past ``limit`` ``enqueue(_:)`` refuses, so a Redis that
/// reads slower than the node publishes costs bounded memory and visible,
/// counted failures, never an unbounded buffer.
final class RedisOutbox: Sendable {
    private struct State {
        var queue: [RedisRequest] = []
        var pendingBytes = 0
        var drainScheduled = false
    }

    private let channel: any Channel
    private let state = Mutex(State())
    /// The most bytes queued or in NIO's buffer, not yet written to the socket.
    let limit: Int
    private let onWriteFailure: @Sendable () -> Void

    /// - Parameter onWriteFailure: called for each queued request whose write failed (the connection closed).
    init(channel: any Channel, limit: Int, onWriteFailure: @escaping @Sendable () -> Void) {
        self.channel = channel
        self.limit = limit
        self.onWriteFailure = onWriteFailure
    }

    /// Queues a request.
    ///
    /// - Returns: `false`, queueing nothing, when the bytes not yet written
    ///   would exceed ``limit`` (a request larger than the limit is accepted
    ///   when nothing else is pending, so any envelope can be sent).
    func enqueue(_ request: RedisRequest) -> Bool {
        let size = request.parts.reduce(0) { $0 + $1.readableBytes }
        let (accepted, schedule) = state.withLock { state -> (Bool, Bool) in
            guard state.pendingBytes == 0 || state.pendingBytes + size <= limit else { return (false, false) }
            state.queue.append(request)
            state.pendingBytes += size
            let schedule = !state.drainScheduled
            state.drainScheduled = true
            return (true, schedule)
        }
        if schedule {
            channel.eventLoop.execute { self.drain() }
        }
        return accepted
    }

    /// Writes everything queued; runs on the event loop.
    private func drain() {
        let requests = state.withLock { state in
            state.drainScheduled = false
            defer { state.queue.removeAll(keepingCapacity: true) }
            return state.queue
        }
        for request in requests {
            let size = request.parts.reduce(0) { $0 + $1.readableBytes }
            channel.write(request).whenComplete { result in
                self.state.withLock { $0.pendingBytes -= size }
                if case .failure = result { self.onWriteFailure() }
            }
        }
        channel.flush()
    }
}
