import Logging
import NIOCore
import Metrics
import NIOPosix

/// One TCP connection to Redis: a NIO channel whose pipeline is a single
/// ``RedisConnectionHandler``.
struct RedisConnection: Sendable {
    /// The NIO channel.
    let channel: any Channel
    /// Where `PUBLISH`es wait for the event loop.
    let outbox: RedisOutbox

    /// Connects to `host:port`; the handler starts pinging once connected.
    ///
    /// - Parameter onMessages: receives the payloads of the pub/sub messages
    ///   of each read, on the event loop, in arrival order.
    static func connect(
        host: String,
        port: Int,
        group: any EventLoopGroup,
        connectTimeout: Duration,
        pingInterval: Duration,
        pingTimeout: Duration,
        replyTimeout: Duration,
        metrics: RedisMetrics,
        accounting: RedisPublishAccounting,
        logger: Logger,
        outboxLimit: Int = 16 << 20,
        onMessages: (@Sendable ([ByteBuffer]) -> Void)?
    ) async throws -> RedisConnection {
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(connectTimeout.timeAmount)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                guard let reader = RedisReplyReader() else {
                    return channel.eventLoop.makeFailedFuture(RedisError.readerUnavailable)
                }
                return channel.eventLoop.makeCompletedFuture {
                    let handler = RedisConnectionHandler(
                        reader: reader,
                        onMessages: onMessages,
                        pingInterval: pingInterval.timeAmount,
                        pingTimeout: pingTimeout.timeAmount,
                        replyTimeout: replyTimeout.timeAmount,
                        metrics: metrics,
                        accounting: accounting,
                        logger: logger
                    )
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        let channel = try await bootstrap.connect(host: host, port: port).get()
        let outbox = RedisOutbox(channel: channel, limit: outboxLimit) { count in
            // Accepted after the broadcasts returned, then the connection closed before writing them.
            accounting.unconfirmed(count)
        }
        return RedisConnection(channel: channel, outbox: outbox)
    }

    /// Sends a command and returns its reply (an error reply is returned, not thrown).
    ///
    /// - Throws: ``RedisError/connectionClosed`` when the connection closes first.
    func command(_ arguments: [String]) async throws -> RESPValue {
        try await send(RESPCommand.encode(arguments, allocator: channel.allocator))
    }

    /// Sends a command of binary arguments and returns its reply (an error reply is returned, not thrown).
    ///
    /// - Throws: ``RedisError/connectionClosed`` when the connection closes first.
    func command(_ arguments: [ByteBuffer]) async throws -> RESPValue {
        try await send(RESPCommand.encode(arguments, allocator: channel.allocator))
    }

    private func send(_ bytes: ByteBuffer) async throws -> RESPValue {
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        channel.write(RedisRequest(bytes: bytes, expectation: .reply(promise))).whenFailure { error in
            promise.fail(error)
        }
        return try await promise.futureResult.get()
    }

    /// Subscribes to `channels` and returns once Redis confirmed every one;
    /// returns Redis' error reply when it refused.
    func subscribe(_ channels: [String]) async throws -> RESPValue {
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        let bytes = RESPCommand.encode(["SUBSCRIBE"] + channels, allocator: channel.allocator)
        channel.write(RedisRequest(bytes: bytes, expectation: .subscribe(channels: channels.count, promise)))
            .whenFailure { error in promise.fail(error) }
        return try await promise.futureResult.get()
    }

    /// Queues `PUBLISH` of `message` on the outbox, in order after the earlier
    /// ones; `header` is the channel's, from ``RESPCommand/publishHeader(channel:allocator:)``,
    /// and `note` what the command is unless it is a plain broadcast.
    ///
    /// - Returns: whether it was queued, or why not (the outbox is full
    ///   because Redis reads slower than the node publishes, or the connection is closed).
    func publish(header: ByteBuffer, message: ByteBuffer, note: RedisPublishNote.Kind? = nil) -> RedisOutbox.Admission {
        outbox.enqueue(header: header, message: message, note: note)
    }

    /// Closes the connection; the handler fails whatever still waits for a reply.
    func close() {
        channel.close(promise: nil)
    }

    /// Returns once the connection has closed, or closes it when the task is cancelled.
    func waitUntilClosed() async {
        await withTaskCancellationHandler {
            try? await channel.closeFuture.get()
        } onCancel: {
            channel.close(promise: nil)
        }
    }
}

extension RedisConnection {
    /// A plain client connection (no pub/sub, no logging, no metrics, rare
    /// keepalive), for tools and tests that talk to Redis directly.
    static func connectRaw(host: String, port: Int, connectTimeout: Duration = .seconds(2)) async throws -> RedisConnection {
        let metrics = RedisMetrics(pubSubName: "raw", factory: NOOPMetricsHandler.instance)
        let logger = Logger(label: "combo.redis.raw", factory: { _ in SwiftLogNoOpLogHandler() })
        return try await connect(
            host: host,
            port: port,
            group: MultiThreadedEventLoopGroup.singleton,
            connectTimeout: connectTimeout,
            pingInterval: .seconds(60),
            pingTimeout: .seconds(60),
            replyTimeout: .seconds(60),
            metrics: metrics,
            accounting: .standalone(metrics: metrics, logger: logger),
            logger: logger,
            onMessages: nil
        )
    }
}
