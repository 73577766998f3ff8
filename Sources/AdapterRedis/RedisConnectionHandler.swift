import Combo
import Logging
import NIOCore

/// The one handler of a Redis connection's pipeline: writes ``RedisRequest``s,
/// parses replies with hiredis' reader, matches them to requests in order,
/// passes pub/sub messages on, and detects a silent server: from the replies
/// that stop coming while commands wait, or from an idle connection's pings.
///
/// Everything happens on the channel's event loop, which owns the hiredis
/// reader: no lock, no thread of its own. Requests written during one event
/// loop tick are flushed together, so concurrent `PUBLISH`es are pipelined:
/// many commands per write, replies read in bulk. The pub/sub messages of one
/// read are passed on together, as slices of the bytes read: one hand-over
/// per read, not per message, and no copy.
final class RedisConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    /// A request waiting for its reply: the expectation, for a subscribe or a
    /// batch how many replies remain, and for a batch its next note.
    private struct Pending {
        var expectation: RedisRequest.Expectation
        var remaining: Int
        var nextNote = 0

        /// Whether the reply timeout watches it (everything but keepalive pings, which have their own).
        var isWatched: Bool {
            if case .keepalive = expectation { return false }
            return true
        }
    }

    private let reader: RedisReplyReader
    // The state read for every reply or read opts out of dynamic exclusivity
    // checks (a `swift_beginAccess`, a thread-local look-up, per access). The
    // handler lives on its event loop, and no access to one of these overlaps
    // another to the same property.
    @exclusivity(unchecked) private var pending = CircularBuffer<Pending>()
    private let onMessages: (@Sendable ([ByteBuffer]) -> Void)?
    private let pingInterval: TimeAmount
    private let pingTimeout: TimeAmount
    private let replyTimeout: TimeAmount
    private let metrics: RedisMetrics
    private let accounting: RedisPublishAccounting
    private let logger: Logger
    private var flushScheduled = false
    /// The connection is closed and its requests accounted for: later writes are refused.
    private var stopped = false
    /// Requests in `pending` that the reply timeout watches.
    @exclusivity(unchecked) private var watched = 0
    /// When `watched` last rose from 0.
    private var watchedSince = NIODeadline.distantPast
    /// When bytes last arrived.
    @exclusivity(unchecked) private var lastRead = NIODeadline.distantPast
    private var replyTimer: Scheduled<Void>?
    /// Set after a protocol error: hiredis cannot resynchronise, so the rest of the stream is ignored.
    @exclusivity(unchecked) private var failed = false
    private var pingTimer: Scheduled<Void>?
    private var pingDeadline: Scheduled<Void>?
    /// A keepalive `PING` is unanswered.
    @exclusivity(unchecked) private var awaitingPong = false
    /// Bytes arrived since the last check of an unanswered `PING`.
    @exclusivity(unchecked) private var readSincePing = false

    /// - Parameters:
    ///   - onMessages: called on the event loop with the payloads of the
    ///     pub/sub messages of each read, in arrival order.
    ///   - pingInterval: the time between a keepalive reply and the next ping (one outstanding at a time).
    ///   - pingTimeout: how long Redis may send nothing after a ping before the connection is closed as dead.
    ///   - replyTimeout: how long Redis may send nothing while a command
    ///     waits for its reply before the connection is closed as dead.
    ///   - accounting: what the replies to `PUBLISH`es, and the lack of them, are reported to.
    init(
        reader: RedisReplyReader,
        onMessages: (@Sendable ([ByteBuffer]) -> Void)?,
        pingInterval: TimeAmount,
        pingTimeout: TimeAmount,
        replyTimeout: TimeAmount,
        metrics: RedisMetrics,
        accounting: RedisPublishAccounting,
        logger: Logger
    ) {
        self.reader = reader
        self.onMessages = onMessages
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self.replyTimeout = replyTimeout
        self.metrics = metrics
        self.accounting = accounting
        self.logger = logger
    }

    // MARK: Lifecycle

    func channelActive(context: ChannelHandlerContext) {
        schedulePing(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("redis connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    /// Cancels the timers and fails every request still waiting for a reply;
    /// the `PUBLISH`es among them are counted as unconfirmed.
    private func stop() {
        stopped = true
        pingTimer?.cancel()
        pingDeadline?.cancel()
        replyTimer?.cancel()
        pingTimer = nil
        pingDeadline = nil
        replyTimer = nil
        watched = 0
        let abandoned = Array(pending)
        pending.removeAll()
        abandon(abandoned)
    }

    /// Counts the accepted `PUBLISH`es among the unanswered commands of
    /// `entries`, then tells whoever waits for them that no reply will come
    /// (in that order: a waiter told sees the count).
    private func abandon(_ entries: [Pending]) {
        var unconfirmed = 0
        for entry in entries {
            if case .publishes(_, let notes, _) = entry.expectation {
                unconfirmed += entry.remaining - notes[entry.nextNote...].count(where: { !$0.kind.isAccepted })
            }
        }
        accounting.unconfirmed(unconfirmed)
        for entry in entries {
            switch entry.expectation {
            case .reply(let promise), .subscribe(_, let promise):
                promise.fail(RedisError.connectionClosed)
            case .publishes(_, let notes, _):
                for note in notes[entry.nextNote...] { note.kind.abandon() }
            case .keepalive:
                break
            }
        }
    }

    // MARK: Writing

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        let remaining: Int
        switch request.expectation {
        case .subscribe(let channels, _): remaining = channels
        case .publishes(let count, _, _): remaining = count
        case .reply, .keepalive: remaining = 1
        }
        let entry = Pending(expectation: request.expectation, remaining: remaining)
        guard !stopped else {
            // Closed, between the loss and the handler's removal: nothing will answer.
            abandon([entry])
            promise?.fail(RedisError.connectionClosed)
            return
        }
        if entry.isWatched { watch(context: context) }
        pending.append(entry)
        context.write(wrapOutboundOut(request.bytes), promise: promise)
        scheduleFlush(context: context)
    }

    /// Flushes once at the end of this event loop tick, whatever the number of
    /// requests written meanwhile: that is what pipelines the `PUBLISH`es.
    private func scheduleFlush(context: ChannelHandlerContext) {
        guard !flushScheduled else { return }
        flushScheduled = true
        context.eventLoop.assumeIsolated().execute { [self] in
            flushScheduled = false
            context.flush()
        }
    }

    // MARK: Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        if awaitingPong { readSincePing = true }
        lastRead = .now()
        let bytes = unwrapInboundIn(data)
        var messages: [ByteBuffer] = []
        defer {
            if let onMessages, !messages.isEmpty { onMessages(messages) }
        }
        do {
            try reader.feed(bytes)
            while let reply = try reader.next(allocator: context.channel.allocator) {
                switch reply {
                case .message(let payload) where onMessages != nil:
                    messages.append(payload)
                case .message:
                    metrics.protocolErrors.increment()
                case .value(let value):
                    handle(value, context: context)
                }
            }
        } catch {
            // hiredis cannot resynchronise after a protocol error: drop the connection and reconnect.
            failed = true
            metrics.protocolErrors.increment()
            logger.warning("redis sent bytes that are not RESP; closing the connection", metadata: ["error": "\(error)"])
            context.close(promise: nil)
        }
    }

    private func handle(_ reply: RESPValue, context: ChannelHandlerContext) {
        if onMessages != nil, case .array(let items) = reply, items.count == 3, items[0].string == "message" {
            // A message whose payload is not a bulk string (well-formed ones never reach here).
            metrics.protocolErrors.increment()
            return
        }
        guard var entry = pending.first else {
            // Nothing asked for it; never trust the server enough to crash on it.
            metrics.protocolErrors.increment()
            logger.debug("unexpected redis reply ignored")
            return
        }
        switch entry.expectation {
        case .reply(let promise):
            removeFirst()
            promise.succeed(reply)
        case .publishes(let count, let notes, let outbox):
            var note: RedisPublishNote.Kind?
            if entry.nextNote < notes.count, notes[entry.nextNote].index == count - entry.remaining {
                note = notes[entry.nextNote].kind
                entry.nextNote += 1
            }
            entry.remaining -= 1
            if entry.remaining <= 0 {
                removeFirst()
                outbox.batchAnswered()
            } else {
                pending[pending.startIndex] = entry
            }
            answered(note, reply: reply)
        case .subscribe(_, let promise):
            // Redis confirms each channel with ["subscribe", channel, count]. Anything
            // else (an error, or a peer that is not Redis, such as a TCP
            // connection to itself) ends the command with that reply.
            guard case .array(let items) = reply, items.first?.string == "subscribe" else {
                removeFirst()
                promise.succeed(reply)
                return
            }
            entry.remaining -= 1
            if entry.remaining <= 0 {
                removeFirst()
                promise.succeed(reply)
            } else {
                pending[pending.startIndex] = entry
            }
        case .keepalive:
            removeFirst()
            awaitingPong = false
            pingDeadline?.cancel()
            pingDeadline = nil
            schedulePing(context: context)
        }
    }

    /// Removes the first pending request, answered.
    private func removeFirst() {
        if pending.removeFirst().isWatched { watched -= 1 }
    }

    /// Reports the reply to one command of a batch: `note` says what the command was, `nil` a plain broadcast.
    private func answered(_ note: RedisPublishNote.Kind?, reply: RESPValue) {
        switch (note, reply) {
        case (nil, .integer(let receivers)):
            accounting.answeredBroadcast(receivers: receivers)
        case (.direct, .integer(let receivers)):
            accounting.answeredDirect(receivers: receivers)
        case (.confirmed(let done), .integer(let receivers)):
            let expected = accounting.answeredBroadcast(receivers: receivers)
            done(.success(BroadcastReceipt(receivers: Int(receivers), expectedReceivers: expected)))
        case (.barrier(let done), _):
            done()
        case (.hello, .integer):
            break
        case (_, .error(let message)):
            metrics.publishFailures.increment()
            logger.warning("redis refused a PUBLISH", metadata: ["error": "\(message)"])
            if case .confirmed(let done) = note { done(.failure(.commandFailed(message))) }
        case (_, _):
            // Not Redis' answer to a PUBLISH; never trust the server enough to crash on it.
            metrics.protocolErrors.increment()
            if case .confirmed(let done) = note { done(.failure(.protocolError("unexpected reply to PUBLISH"))) }
        }
    }

    // MARK: Reply timeout

    /// A watched request is about to be written: from no watched request to
    /// one, the wait starts now, and a check is due at most `replyTimeout` later.
    private func watch(context: ChannelHandlerContext) {
        watched += 1
        guard watched == 1 else { return }
        watchedSince = .now()
        if replyTimer == nil {
            replyTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: watchedSince + replyTimeout) { [self] in
                checkReplies(context: context)
            }
        }
    }

    /// Closes the connection if a watched request has waited `replyTimeout`
    /// with nothing read since it was written or since the last bytes came,
    /// whichever is later; otherwise checks again when that could next be true.
    /// One timer at most, re-armed from here: no timer per request.
    private func checkReplies(context: ChannelHandlerContext) {
        replyTimer = nil
        guard watched > 0, !stopped else { return }
        let due = max(watchedSince, lastRead) + replyTimeout
        guard NIODeadline.now() >= due else {
            replyTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: due) { [self] in
                checkReplies(context: context)
            }
            return
        }
        // A loop that was busy for longer than the timeout may run this timer
        // before reading bytes that are already there: look again after the
        // loop's next round of I/O before declaring Redis dead.
        let readBefore = lastRead
        replyTimer = context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(10)) { [self] in
            replyTimer = nil
            guard watched > 0, !stopped else { return }
            guard lastRead == readBefore else {
                checkReplies(context: context)
                return
            }
            metrics.replyTimeouts.increment()
            logger.warning(
                "redis answered nothing within the reply timeout; closing the connection",
                metadata: ["timeout": "\(replyTimeout)", "requests": "\(pending.count)"]
            )
            context.close(promise: nil)
        }
    }

    // MARK: Keepalive

    private func schedulePing(context: ChannelHandlerContext) {
        pingTimer?.cancel()
        pingTimer = context.eventLoop.assumeIsolated().scheduleTask(in: pingInterval) { [self] in
            sendPing(context: context)
        }
    }

    private func sendPing(context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        pending.append(Pending(expectation: .keepalive, remaining: 1))
        context.writeAndFlush(wrapOutboundOut(RESPCommand.encode(["PING"], allocator: context.channel.allocator)), promise: nil)
        awaitingPong = true
        readSincePing = false
        schedulePingDeadline(context: context)
    }

    /// Closes the connection if Redis sends nothing at all within `pingTimeout`
    /// of a `PING`. Any bytes count as a sign of life, not only the reply:
    /// behind a large backlog of messages the reply can come late from a
    /// Redis that is working fine.
    private func schedulePingDeadline(context: ChannelHandlerContext) {
        pingDeadline = context.eventLoop.assumeIsolated().scheduleTask(in: pingTimeout) { [self] in
            // A loop that was busy for longer than the timeout may run this
            // timer before reading bytes that are already there: check again
            // after the loop's next round of I/O before declaring Redis dead.
            pingDeadline = context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(10)) { [self] in
                guard awaitingPong else { return }
                if readSincePing {
                    readSincePing = false
                    schedulePingDeadline(context: context)
                    return
                }
                metrics.pingTimeouts.increment()
                logger.warning(
                    "redis sent nothing within the ping timeout; closing the connection",
                    metadata: ["timeout": "\(pingTimeout)"]
                )
                context.close(promise: nil)
            }
        }
    }
}
