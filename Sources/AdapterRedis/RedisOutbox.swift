import NIOCore
import Synchronization

/// The `PUBLISH` queue of one publishing connection: callers append the
/// command's bytes to one batch under a lock, and the event loop writes the
/// whole batch as a single buffer.
///
/// Why not `channel.write` per call: from outside the event loop, each call
/// is a task submitted to the loop (a wake-up of its thread, a system call),
/// and each write is an entry, a promise and a callback in NIO's pipeline.
/// Copying a small envelope into the batch is far cheaper.
///
/// When to write: at most ``maximumInFlight`` batches are written and not
/// yet answered. When the connection is idle, the first `PUBLISH` wakes the
/// event loop and leaves at once; under load, the next batch leaves when
/// Redis' replies to an earlier one arrive, which the event loop reads
/// anyway. Batches then grow with the load, with no wake-up of their own,
/// and Redis always has the next batch while it works through the current one.
///
/// Order is the order of ``enqueue(header:message:)`` calls. The bytes queued
/// and not yet written to the socket are bounded: past ``limit``
/// ``enqueue(header:message:)`` refuses, so a Redis that reads slower than
/// the node publishes costs bounded memory and visible, counted failures,
/// never an unbounded buffer.
final class RedisOutbox: Sendable {
    private struct State {
        /// `PUBLISH`es appended since the last write.
        var batch: ByteBuffer
        /// The commands in `batch`.
        var count = 0
        /// Bytes in `batch` and in NIO's buffer, not yet written to the socket.
        var pendingBytes = 0
        var drainScheduled = false
        /// Batches written whose replies have not all arrived.
        var inFlight = 0
        /// The connection is closed: what is queued now is lost.
        var closed = false
    }

    /// The most batches written and not yet answered.
    static let maximumInFlight = 2
    /// The first capacity of a batch; it grows as needed.
    private static let batchCapacity = 16 << 10

    private let channel: any Channel
    private let state: Mutex<State>
    /// The most bytes queued or in NIO's buffer, not yet written to the socket.
    let limit: Int
    private let onLost: @Sendable (Int) -> Void

    /// - Parameter onLost: called with the number of `PUBLISH`es that were
    ///   accepted but never written (the connection closed first, or the write failed).
    init(channel: any Channel, limit: Int, onLost: @escaping @Sendable (Int) -> Void) {
        self.channel = channel
        self.limit = limit
        self.onLost = onLost
        self.state = Mutex(State(batch: channel.allocator.buffer(capacity: 0)))
        channel.closeFuture.whenComplete { _ in self.close() }
    }

    /// Queues `PUBLISH` of `message` on the channel whose header is `header`.
    ///
    /// - Returns: `false`, queueing nothing, when the bytes not yet written
    ///   would exceed ``limit`` (a command larger than the limit is accepted
    ///   when nothing else is pending, so any envelope can be sent).
    func enqueue(header: ByteBuffer, message: ByteBuffer) -> Bool {
        let largest = header.readableBytes + message.readableBytes + RESPCommand.publishFraming
        enum Outcome { case refused, queued, schedule, lost }
        let outcome = state.withLock { state -> Outcome in
            guard !state.closed else { return .lost }
            guard state.pendingBytes == 0 || state.pendingBytes + largest <= limit else { return .refused }
            if state.count == 0 {
                state.batch.reserveCapacity(minimumWritableBytes: max(Self.batchCapacity, largest))
            }
            let before = state.batch.readableBytes
            RESPCommand.writePublish(header: header, message: message, into: &state.batch)
            state.pendingBytes += state.batch.readableBytes - before
            state.count += 1
            guard !state.drainScheduled, state.inFlight < Self.maximumInFlight else { return .queued }
            state.drainScheduled = true
            return .schedule
        }
        switch outcome {
        case .refused:
            return false
        case .queued:
            return true
        case .schedule:
            channel.eventLoop.execute { self.drain() }
            return true
        case .lost:
            // Accepted and lost, as a write to a closed connection would be (at most once).
            onLost(1)
            return true
        }
    }

    /// The replies to one written batch have all arrived; runs on the event
    /// loop, and writes the next batch if one is waiting.
    func batchAnswered() {
        let drainNow = state.withLock { state -> Bool in
            state.inFlight -= 1
            return state.count > 0 && !state.drainScheduled
        }
        if drainNow { drain() }
    }

    /// The connection closed: whatever is queued is lost and counted, and so
    /// is whatever is queued later.
    private func close() {
        let lost = state.withLock { state -> Int in
            state.closed = true
            defer {
                state.count = 0
                state.batch.clear()
            }
            return state.count
        }
        if lost > 0 { onLost(lost) }
    }

    /// Writes the batch, unless enough batches are already in flight; runs on the event loop.
    private func drain() {
        let taken = state.withLock { state -> (ByteBuffer, Int)? in
            state.drainScheduled = false
            guard state.count > 0, !state.closed, state.inFlight < Self.maximumInFlight else { return nil }
            state.inFlight += 1
            defer {
                state.batch = channel.allocator.buffer(capacity: 0)
                state.count = 0
            }
            return (state.batch, state.count)
        }
        guard let (batch, count) = taken else { return }
        let size = batch.readableBytes
        channel.writeAndFlush(RedisRequest(bytes: batch, expectation: .publishes(count: count, outbox: self)))
            .whenComplete { result in
                self.state.withLock { $0.pendingBytes -= size }
                if case .failure = result { self.onLost(count) }
            }
    }
}
