import Logging
import NIOCore

/// The one handler of a Redis connection's pipeline: writes ``RedisRequest``s,
/// parses replies with hiredis' reader, matches them to requests in order,
/// passes pub/sub messages on, and pings Redis to detect a silent server.
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

    /// A request waiting for its reply: the expectation, and for a subscribe how many confirmations remain.
    private struct Pending {
        var expectation: RedisRequest.Expectation
        var remaining: Int
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
    private let metrics: RedisMetrics
    private let logger: Logger
    private var flushScheduled = false
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
    init(
        reader: RedisReplyReader,
        onMessages: (@Sendable ([ByteBuffer]) -> Void)?,
        pingInterval: TimeAmount,
        pingTimeout: TimeAmount,
        metrics: RedisMetrics,
        logger: Logger
    ) {
        self.reader = reader
        self.onMessages = onMessages
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self.metrics = metrics
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

    /// Cancels the timers and fails every request still waiting for a reply.
    private func stop() {
        pingTimer?.cancel()
        pingDeadline?.cancel()
        pingTimer = nil
        pingDeadline = nil
        while let entry = pending.popFirst() {
            switch entry.expectation {
            case .reply(let promise), .subscribe(_, let promise): promise.fail(RedisError.connectionClosed)
            case .publishes, .keepalive: break
            }
        }
    }

    // MARK: Writing

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        let remaining: Int
        switch request.expectation {
        case .subscribe(let channels, _): remaining = channels
        case .publishes(let count, _): remaining = count
        case .reply, .keepalive: remaining = 1
        }
        pending.append(Pending(expectation: request.expectation, remaining: remaining))
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
            pending.removeFirst()
            promise.succeed(reply)
        case .publishes(_, let outbox):
            entry.remaining -= 1
            if entry.remaining <= 0 {
                pending.removeFirst()
                outbox.batchAnswered()
            } else {
                pending[pending.startIndex] = entry
            }
            if case .error(let message) = reply {
                metrics.publishFailures.increment()
                logger.warning("redis refused a PUBLISH", metadata: ["error": "\(message)"])
            }
        case .subscribe(_, let promise):
            // Redis confirms each channel with ["subscribe", channel, count]. Anything
            // else (an error, or a peer that is not Redis, such as a TCP
            // connection to itself) ends the command with that reply.
            guard case .array(let items) = reply, items.first?.string == "subscribe" else {
                pending.removeFirst()
                promise.succeed(reply)
                return
            }
            entry.remaining -= 1
            if entry.remaining <= 0 {
                pending.removeFirst()
                promise.succeed(reply)
            } else {
                pending[pending.startIndex] = entry
            }
        case .keepalive:
            pending.removeFirst()
            awaitingPong = false
            pingDeadline?.cancel()
            pingDeadline = nil
            schedulePing(context: context)
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
