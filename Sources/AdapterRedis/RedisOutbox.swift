import NIOCore
import Synchronization

/// The `PUBLISH` queue of one publishing connection: callers append the
/// command's bytes to one batch under a lock, and one event loop task writes
/// the whole batch as a single buffer.
///
/// Why not `channel.write` per call: from outside the event loop, each call
/// is a task submitted to the loop (and often a wake-up of its thread), and
/// each write is an entry, a promise and a callback in NIO's pipeline. Here a
/// burst of concurrent or back-to-back broadcasts costs one task, one write
/// and one flush, which is what pipelines them; copying a small envelope into
/// the batch is far cheaper than a write of its own. Order is the order of
/// ``enqueue(header:message:)`` calls. The bytes queued and not yet written to
/// the socket are bounded: past ``limit`` ``enqueue(header:message:)``
/// refuses, so a Redis that reads slower than the node publishes costs
/// bounded memory and visible, counted failures, never an unbounded buffer.
final class RedisOutbox: Sendable {
    private struct State {
        /// `PUBLISH`es appended since the last drain.
        var batch: ByteBuffer
        /// The commands in `batch`.
        var count = 0
        /// Bytes in `batch` and in NIO's buffer, not yet written to the socket.
        var pendingBytes = 0
        var drainScheduled = false
    }

    /// The first capacity of a batch; it grows as needed.
    private static let batchCapacity = 16 << 10

    private let channel: any Channel
    private let state: Mutex<State>
    /// The most bytes queued or in NIO's buffer, not yet written to the socket.
    let limit: Int
    private let onWriteFailure: @Sendable (Int) -> Void

    /// - Parameter onWriteFailure: called with the number of `PUBLISH`es of a
    ///   batch whose write failed (the connection closed).
    init(channel: any Channel, limit: Int, onWriteFailure: @escaping @Sendable (Int) -> Void) {
        self.channel = channel
        self.limit = limit
        self.onWriteFailure = onWriteFailure
        self.state = Mutex(State(batch: channel.allocator.buffer(capacity: 0)))
    }

    /// Queues `PUBLISH` of `message` on the channel whose header is `header`.
    ///
    /// - Returns: `false`, queueing nothing, when the bytes not yet written
    ///   would exceed ``limit`` (a command larger than the limit is accepted
    ///   when nothing else is pending, so any envelope can be sent).
    func enqueue(header: ByteBuffer, message: ByteBuffer) -> Bool {
        let largest = header.readableBytes + message.readableBytes + RESPCommand.publishFraming
        let (accepted, schedule) = state.withLock { state -> (Bool, Bool) in
            guard state.pendingBytes == 0 || state.pendingBytes + largest <= limit else { return (false, false) }
            if state.count == 0 {
                state.batch.reserveCapacity(minimumWritableBytes: max(Self.batchCapacity, largest))
            }
            let before = state.batch.readableBytes
            RESPCommand.writePublish(header: header, message: message, into: &state.batch)
            state.pendingBytes += state.batch.readableBytes - before
            state.count += 1
            let schedule = !state.drainScheduled
            state.drainScheduled = true
            return (true, schedule)
        }
        if schedule {
            channel.eventLoop.execute { self.drain() }
        }
        return accepted
    }

    /// Writes the batch; runs on the event loop.
    private func drain() {
        let (batch, count) = state.withLock { state in
            state.drainScheduled = false
            defer {
                state.batch = channel.allocator.buffer(capacity: 0)
                state.count = 0
            }
            return (state.batch, state.count)
        }
        guard count > 0 else { return }
        let size = batch.readableBytes
        channel.writeAndFlush(RedisRequest(bytes: batch, expectation: .publishes(count: count))).whenComplete { result in
            self.state.withLock { $0.pendingBytes -= size }
            if case .failure = result { self.onWriteFailure(count) }
        }
    }
}
