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
/// Order is the order of ``enqueue(header:message:note:)`` calls. The bytes queued
/// and not yet written to the socket are bounded: past ``limit``
/// ``enqueue(header:message:note:)`` refuses, so a Redis that reads slower than
/// the node publishes costs bounded memory and visible, counted failures,
/// never an unbounded buffer.
final class RedisOutbox: Sendable {
    private struct State {
        /// `PUBLISH`es appended since the last write.
        var batch: ByteBuffer
        /// The commands in `batch`.
        var count = 0
        /// The commands of `batch` that are not plain broadcasts, in order.
        var notes: [RedisPublishNote] = []
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

    /// What ``enqueue(header:message:note:)`` did.
    enum Admission: Equatable {
        /// Queued, in order after the earlier commands.
        case queued
        /// Refused: the bytes not yet written would exceed ``limit``.
        case full
        /// Refused: the connection is closed.
        case closed
    }

    private let channel: any Channel
    private let state: Mutex<State>
    /// The most bytes queued or in NIO's buffer, not yet written to the socket.
    let limit: Int
    private let onLost: @Sendable (Int) -> Void

    /// - Parameter onLost: called with the number of accepted `PUBLISH`es
    ///   (``RedisPublishNote/Kind/isAccepted``) that were still queued when
    ///   the connection closed. What was written is the handler's to account for.
    init(channel: any Channel, limit: Int, onLost: @escaping @Sendable (Int) -> Void) {
        self.channel = channel
        self.limit = limit
        self.onLost = onLost
        self.state = Mutex(State(batch: channel.allocator.buffer(capacity: 0)))
        channel.closeFuture.whenComplete { _ in self.close() }
    }

    /// Queues `PUBLISH` of `message` on the channel whose header is `header`;
    /// `note` says what it is unless it is a plain broadcast.
    ///
    /// - Returns: ``Admission/full``, queueing nothing, when the bytes not
    ///   yet written would exceed ``limit`` (a command larger than the limit is
    ///   accepted when nothing else is pending, so any envelope can be sent);
    ///   ``Admission/closed`` when the connection is closed.
    func enqueue(header: ByteBuffer, message: ByteBuffer, note: RedisPublishNote.Kind? = nil) -> Admission {
        let size = header.readableBytes + message.readableBytes + RESPCommand.publishFraming
        return append(size: size, note: note, bypassingLimit: false) { batch in
            RESPCommand.writePublish(header: header, message: message, into: &batch)
        }
    }

    /// Queues a `PING` behind everything queued so far, and calls `done` once
    /// Redis has answered it, and so every command before it (replies come in
    /// order), or once the connection is lost. A few bytes: the limit does not apply.
    ///
    /// - Returns: `false`, calling nothing, when the connection is closed.
    func enqueueBarrier(_ done: @escaping @Sendable () -> Void) -> Bool {
        let ping = RESPCommand.encode(["PING"], allocator: channel.allocator)
        return append(size: ping.readableBytes, note: .barrier(done), bypassingLimit: true) { batch in
            batch.writeImmutableBuffer(ping)
        } == .queued
    }

    private func append(
        size: Int,
        note: RedisPublishNote.Kind?,
        bypassingLimit: Bool,
        write: (inout ByteBuffer) -> Void
    ) -> Admission {
        enum Outcome { case refused, queued, schedule, closed }
        let outcome = state.withLock { state -> Outcome in
            guard !state.closed else { return .closed }
            guard bypassingLimit || state.pendingBytes == 0 || state.pendingBytes + size <= limit else { return .refused }
            if state.count == 0 {
                state.batch.reserveCapacity(minimumWritableBytes: max(Self.batchCapacity, size))
            }
            let before = state.batch.readableBytes
            write(&state.batch)
            state.pendingBytes += state.batch.readableBytes - before
            if let note { state.notes.append(RedisPublishNote(index: state.count, kind: note)) }
            state.count += 1
            guard !state.drainScheduled, state.inFlight < Self.maximumInFlight else { return .queued }
            state.drainScheduled = true
            return .schedule
        }
        switch outcome {
        case .refused:
            return .full
        case .queued:
            return .queued
        case .schedule:
            channel.eventLoop.execute { self.drain() }
            return .queued
        case .closed:
            return .closed
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

    /// The connection closed: whatever is queued is lost and counted, its
    /// waiters told, and later commands are refused.
    private func close() {
        let (count, notes) = state.withLock { state -> (Int, [RedisPublishNote]) in
            state.closed = true
            defer {
                state.count = 0
                state.notes = []
                state.batch.clear()
            }
            return (state.count, state.notes)
        }
        let lost = count - notes.count(where: { !$0.kind.isAccepted })
        // Counted before the waiters are told, so that a waiter told sees the count.
        if lost > 0 { onLost(lost) }
        for note in notes { note.kind.abandon() }
    }

    /// Writes the batch, unless enough batches are already in flight; runs on the event loop.
    private func drain() {
        // On the loop, the channel cannot close between this check and the
        // write: a batch written reaches the handler, which then accounts for
        // every command of it; one left here is counted by `close()`.
        let active = channel.isActive
        let taken = state.withLock { state -> (ByteBuffer, Int, [RedisPublishNote])? in
            state.drainScheduled = false
            guard active, state.count > 0, !state.closed, state.inFlight < Self.maximumInFlight else { return nil }
            state.inFlight += 1
            defer {
                state.batch = channel.allocator.buffer(capacity: 0)
                state.count = 0
                state.notes = []
            }
            return (state.batch, state.count, state.notes)
        }
        guard let (batch, count, notes) = taken else { return }
        let size = batch.readableBytes
        channel.writeAndFlush(RedisRequest(bytes: batch, expectation: .publishes(count: count, notes: notes, outbox: self)))
            .whenComplete { _ in
                self.state.withLock { $0.pendingBytes -= size }
            }
    }
}
