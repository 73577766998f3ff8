import NIOCore
import Synchronization

/// The sending side of one outbound connection (a lane): frames are appended
/// to a locked buffer from any task, and written and flushed once per
/// event-loop turn, however many were appended meanwhile. While senders are
/// busy, turns are spaced by a few microseconds so that batches grow and
/// senders do not wake the event loop for each frame.
///
/// The bytes held for the connection are bounded by the limit: those waiting
/// here plus those handed to the channel and not yet written to the socket
/// (counted from the write promises). A frame that would take them past the
/// limit closes the connection instead (the peer is too slow), and the
/// session reconnects. The channel's own write-buffer watermark only decides
/// when to stop handing it batches, so that frames coalesce here meanwhile.
final class MeshLaneWriter: Sendable {
    private struct State {
        var pending: ByteBuffer
        /// Bytes handed to the channel whose writes have not completed.
        var inFlight = 0
        /// The most bytes held at once (pending plus in flight), reported when the writer closes.
        var peakHeld = 0
        /// A drain is scheduled, or waits for the channel to become writable.
        var drainPending = false
        /// The size of the last batch written: how much room the next one starts with.
        var lastBatchBytes = 0
        var closed = false
        /// When the last batch was written (event loop only).
        var lastDrain = NIODeadline.distantPast
    }

    /// A batch smaller than this, written less than ``busyInterval`` after the
    /// previous one, means senders are busy: the next drain is deferred by
    /// ``coalescingDelay`` so that more accumulates, and senders do not wake
    /// the event loop (a system call each) meanwhile.
    private static let coalescingBytes = 16 * 1024
    private static let busyInterval = TimeAmount.microseconds(50)
    private static let coalescingDelay = TimeAmount.microseconds(20)

    let channel: any Channel
    private let limit: Int
    private let metrics: MeshMetrics
    private let state: Mutex<State>

    init(channel: any Channel, limit: Int, metrics: MeshMetrics) {
        self.channel = channel
        self.limit = limit
        self.metrics = metrics
        self.state = Mutex(State(pending: channel.allocator.buffer(capacity: 0)))
    }

    /// Queues one frame; `false` when it was dropped (the lane is closed or
    /// overflowed), for the caller to count.
    @discardableResult
    func enqueue(_ type: MeshFrameType, body: ByteBuffer) -> Bool {
        enum Action { case none, schedule, overflow, dropped }
        let action: Action = state.withLock { state in
            if state.closed { return .dropped }
            let held = state.pending.readableBytes + state.inFlight + MeshFrame.headerSize + body.readableBytes
            if held > limit {
                state.closed = true
                state.pending = channel.allocator.buffer(capacity: 0)
                return .overflow
            }
            MeshFrame.write(type, body: body, to: &state.pending)
            if held > state.peakHeld { state.peakHeld = held }
            if state.drainPending { return .none }
            state.drainPending = true
            return .schedule
        }
        switch action {
        case .none:
            return true
        case .schedule:
            channel.eventLoop.execute { self.drain() }
            return true
        case .overflow:
            // The caller counts the dropped frame; this counts the disconnect.
            metrics.slowPeerDisconnects.increment()
            channel.close(promise: nil)
            return false
        case .dropped:
            return false
        }
    }

    /// Writes and flushes everything queued. On the channel's event loop only;
    /// also called when the channel becomes writable again.
    func drain() {
        // While the socket is backed up, keep accumulating here (bounded by
        // `limit`); the handler calls again when the channel is writable.
        guard channel.isWritable else { return }
        let now = NIODeadline.now()
        let (batch, deferNext): (ByteBuffer?, Bool) = state.withLock { state in
            guard !state.closed, state.pending.readableBytes > 0 else {
                state.drainPending = false
                return (nil, false)
            }
            let batch = state.pending
            state.pending = channel.allocator.buffer(capacity: min(max(state.lastBatchBytes, 512), 1 << 16))
            state.lastBatchBytes = batch.readableBytes
            state.inFlight += batch.readableBytes
            let busy = now - state.lastDrain < Self.busyInterval && batch.readableBytes < Self.coalescingBytes
            state.lastDrain = now
            // Deferred, the drain stays pending: senders append without waking the loop.
            state.drainPending = busy
            return (batch, busy)
        }
        if let batch {
            // One promise per batch, not per frame: it completes once the
            // bytes are in the socket (or the channel failed them), and
            // returns them to the limit.
            let size = batch.readableBytes
            let written = channel.eventLoop.makePromise(of: Void.self)
            written.futureResult.whenComplete { _ in
                self.state.withLock { $0.inFlight -= size }
            }
            channel.writeAndFlush(batch, promise: written)
        }
        if deferNext {
            channel.eventLoop.scheduleTask(in: Self.coalescingDelay) { self.drain() }
        }
    }

    /// Writes what is queued now, whatever the pacing, and succeeds once it
    /// and every earlier write have gone to the socket, or the connection has
    /// closed (then they are lost with it): what a graceful shutdown waits
    /// for before it closes the connection.
    func flush() -> EventLoopFuture<Void> {
        channel.eventLoop.flatSubmit {
            let batch: ByteBuffer = self.state.withLock { state in
                guard !state.closed, state.pending.readableBytes > 0 else {
                    return self.channel.allocator.buffer(capacity: 0)
                }
                defer { state.pending = self.channel.allocator.buffer(capacity: 0) }
                state.inFlight += state.pending.readableBytes
                return state.pending
            }
            // Writes complete in order, so this one's promise (even for an
            // empty batch) completes after every earlier write has.
            let size = batch.readableBytes
            let written = self.channel.eventLoop.makePromise(of: Void.self)
            written.futureResult.whenComplete { _ in
                self.state.withLock { $0.inFlight -= size }
            }
            self.channel.writeAndFlush(batch, promise: written)
            return written.futureResult.flatMapErrorThrowing { _ in }
        }
    }

    /// Stops accepting frames and closes the connection.
    func close() {
        let peak = state.withLock { state in
            state.closed = true
            state.pending = channel.allocator.buffer(capacity: 0)
            defer { state.peakHeld = 0 }
            return state.peakHeld
        }
        metrics.recordPeakHeld(peak)
        channel.close(promise: nil)
    }
}
