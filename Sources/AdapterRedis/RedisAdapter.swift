import Combo
import Logging
import Metrics
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The adapter of a node whose cluster meets through Redis pub/sub: the
/// Swift counterpart of Phoenix.PubSub.Redis. Made by ``Redis``.
///
/// ## Channels
///
/// With the channel prefix *prefix* (``Redis/channelPrefix``, `combo` by
/// default), the PubSub name *pubsub* and node names *node*:
///
/// - `prefix:pubsub` carries broadcasts; every node subscribes to it;
/// - `prefix:pubsub:node` carries direct envelopes for *node*; only that node subscribes;
/// - `prefix:pubsub#nodes` carries the nodes' hellos (``RedisHello``): every
///   node subscribes, and says hello there every second.
///
/// The parts are joined with `:` as they are, so keep prefixes and PubSub
/// names of clusters that share a Redis free of `:` (or otherwise distinct
/// as strings): a direct envelope that reaches the wrong node is rejected
/// (`misdirected`) anyway, but it costs a delivery.
///
/// Each message is one envelope of `docs/WIRE.md`, plain or compressed
/// (``CompressedEnvelope``), so any Redis client can publish into the cluster.
/// Redis echoes a node's broadcasts back to it; the adapter drops them.
///
/// ## Connections
///
/// One subscriber connection per node subscribes both channels, and
/// ``Redis/redisPoolSize`` publishing connections send. Shard *s* is always
/// published on connection *s* % `redisPoolSize`: Redis keeps the order of
/// the messages of one connection, so one node's messages on one topic stay
/// in order. Received envelopes go to `poolSize` lanes (shard *s*, read at
/// offset 6 of the envelope, on lane *s* % `poolSize`), each drained in order
/// by its own task.
///
/// ## Design
///
/// SwiftNIO owns the sockets and hiredis parses: each connection is a NIO
/// channel whose handler reads replies on the channel's event loop (pub/sub
/// messages and integer replies in place, everything else with hiredis'
/// `redisReader`) and writes RESP itself. Nothing blocks a thread
/// (hiredis' own synchronous API would block one per connection, and its
/// async API would need an event library besides NIO), and one event loop
/// serves many connections. `PUBLISH`es are appended to a per-connection
/// batch that leaves in one write; under load the next batch leaves when
/// Redis answers an earlier one. With ``Redis/compressionLevel`` above 0,
/// envelopes are published as ``CompressedEnvelope``s; every node reads both
/// forms. `docs/ARCHITECTURE.md` explains the choices.
///
/// ## Faults
///
/// A connection that fails or goes silent is closed and re-established
/// after a capped, jittered exponential backoff, with `AUTH`, `SELECT` and
/// `SUBSCRIBE` again. Silent means: a command (a `PUBLISH`, a handshake
/// command) left unanswered for ``Redis/replyTimeout`` with nothing read
/// meanwhile, or, on an idle connection, no bytes within
/// ``Redis/pingTimeout`` of a keepalive `PING`.
/// Until every connection has come up once, every broadcast throws
/// ``RedisError/notConnected``. Afterwards, while a publishing connection is
/// down, a broadcast on its shards throws
/// ``RedisError/notConnected`` (never reported as delivered) and is counted
/// (`combo_redis_publish_failures_total`). On the first connection attempt, a
/// refusal by Redis (wrong password, `NOAUTH`, unknown database) ends
/// `run()` with a ``RedisError`` instead of retrying forever; an unreachable
/// Redis is retried. Delivery is at most once: messages published while the
/// subscriber connection is down are lost, as with Redis pub/sub itself.
///
/// No loss goes unseen, though. Each publishing connection follows its
/// `PUBLISH`es until Redis answers them: those a lost connection leaves
/// unanswered, written or still queued, are counted
/// (`combo_redis_unconfirmed_publishes_total`). Redis answers a `PUBLISH`
/// with the number of subscribers that received it; a broadcast should reach
/// this node's own subscriber and every other node known from its hellos, a
/// direct envelope its target, and one that reached fewer is counted
/// (`combo_redis_underdelivered_publishes_total`, and the receivers it missed
/// in `combo_redis_missing_receivers_total`). Both are reported in a warning
/// at most every few seconds. A caller that must know uses
/// ``confirmedBroadcast(_:shard:)`` (through `PubSub.confirmedBroadcast`),
/// which returns Redis' count once it has answered.
/// `docs/ADAPTER_REDIS.md` describes every failure and metric.
public final class RedisAdapter: ConfirmingAdapter, Sendable {
    /// The node this adapter runs as.
    public let node: NodeIdentity
    /// The name of the channel that carries broadcasts: `prefix:pubsub`.
    public let broadcastChannel: String
    /// The name of the channel that carries the nodes' hellos: `prefix:pubsub#nodes`.
    public let membershipChannel: String
    private let configuration: Redis
    private let channelStem: String
    private let poolSize: Int
    private let receiver: InboundReceiver
    private let logger: Logger
    private let metrics: RedisMetrics
    private let group: any EventLoopGroup
    private let publishers: Mutex<[RedisConnection?]>
    /// `PUBLISH broadcastChannel`, up to the message: the same for every broadcast.
    private let broadcastHeader: ByteBuffer
    /// `PUBLISH membershipChannel`, up to the message.
    private let membershipHeader: ByteBuffer
    private let membership: RedisMembership
    private let accounting: RedisPublishAccounting
    private let echoFilter: RedisEchoFilter
    /// `nil` when ``Redis/compressionLevel`` is 0.
    private let compressor: RedisCompressor?
    private let decompressionFailures: RedisDecompressionFailures
    private let maximumEnvelopeSize: Int
    private let status = RedisConnectionStatus()
    /// Whether broadcasts are accepted: set once every connection of this run
    /// has come up, so that a node never accepts broadcasts on some shards
    /// while others would still fail (a cluster's readiness probe on one
    /// shard then proves that every shard works).
    private let accepting = Atomic<Bool>(false)

    init(configuration: Redis, context: AdapterContext) {
        self.node = context.node
        self.configuration = configuration
        self.channelStem = "\(configuration.channelPrefix):\(context.pubSubName)"
        self.broadcastChannel = channelStem
        self.membershipChannel = "\(channelStem)#nodes"
        self.poolSize = context.poolSize
        self.receiver = context.receiver
        var logger = context.logger
        logger[metadataKey: "adapter"] = "redis"
        self.logger = logger
        self.metrics = RedisMetrics(pubSubName: context.pubSubName, factory: context.metricsFactory)
        self.group = configuration.eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton
        self.publishers = Mutex(Array(repeating: nil, count: configuration.redisPoolSize))
        self.broadcastHeader = RESPCommand.publishHeader(channel: channelStem, allocator: ByteBufferAllocator())
        self.membershipHeader = RESPCommand.publishHeader(channel: membershipChannel, allocator: ByteBufferAllocator())
        self.membership = RedisMembership(node: context.node, gauge: metrics.knownNodes)
        self.accounting = RedisPublishAccounting(
            membership: membership, metrics: metrics, logger: logger, eventLoop: group.next())
        self.echoFilter = RedisEchoFilter(node: context.node)
        self.compressor = configuration.compressionLevel > 0 ? RedisCompressor(level: configuration.compressionLevel) : nil
        self.decompressionFailures = RedisDecompressionFailures(
            pubSubName: context.pubSubName,
            factory: context.metricsFactory,
            logger: logger
        )
        self.maximumEnvelopeSize = context.maximumEnvelopeSize
    }

    /// The name of the channel that carries direct envelopes for `node`: `prefix:pubsub:node`.
    public func directChannel(of node: NodeName) -> String {
        "\(channelStem):\(node)"
    }

    /// The other nodes this node knows to be up, from their hellos on
    /// ``membershipChannel``: a broadcast is expected to reach each of them.
    public var knownNodes: Set<NodeName> { membership.knownNodes }

    /// Whether the subscriber connection has confirmed its subscriptions.
    public var isSubscribed: Bool { status.snapshot.subscribed }

    /// Returns once the subscriber connection has confirmed `SUBSCRIBE` of
    /// this node's channels (or when the task is cancelled).
    public func waitUntilSubscribed() async {
        await status.wait { $0.subscribed }
    }

    /// Returns once the node is subscribed and every publishing connection is
    /// up (or when the task is cancelled).
    public func waitUntilConnected() async {
        let count = configuration.redisPoolSize
        await status.wait { $0.subscribed && $0.publishers.count == count }
    }

    /// Returns once the subscriber connection is down (or when the task is cancelled).
    func waitUntilUnsubscribed() async {
        await status.wait { !$0.subscribed }
    }

    // MARK: Sending

    /// Publishes the envelope on the broadcast channel, through publishing
    /// connection `shard % redisPoolSize`, and returns once it is queued on
    /// that connection, in order after the earlier ones (Redis' reply is not
    /// awaited: delivery is at most once). Never waits for Redis.
    ///
    /// - Throws: ``RedisError/notConnected`` when that connection is down,
    ///   ``RedisError/publishQueueFull`` when Redis reads slower than the node
    ///   publishes; both are counted. An envelope queued on a connection that
    ///   then fails before Redis answered is counted
    ///   (`combo_redis_unconfirmed_publishes_total`), not thrown; one that
    ///   Redis delivered to fewer nodes than expected is counted too
    ///   (`combo_redis_underdelivered_publishes_total`).
    public nonisolated(nonsending) func broadcast(_ envelope: ByteBuffer, shard: Int) async throws {
        try publish(envelope, header: broadcastHeader, shard: shard, note: nil)
    }

    /// Publishes the envelope on the broadcast channel as ``broadcast(_:shard:)``
    /// does, in order with the other broadcasts of its shard, and returns once
    /// Redis has answered the `PUBLISH`.
    ///
    /// With the default ``Redis/replyTimeout`` it returns or throws within
    /// about a second even if Redis goes silent (plus the time the envelope
    /// waits behind the connection's queue).
    ///
    /// - Returns: Redis' count of subscriber connections that received it
    ///   (this node's own among them) as ``BroadcastReceipt/receivers``, and
    ///   this node's own subscriber plus the other nodes it knows as
    ///   ``BroadcastReceipt/expectedReceivers``.
    /// - Throws: ``RedisError/notConnected``, ``RedisError/publishQueueFull``
    ///   (nothing sent); ``RedisError/connectionClosed`` when the connection
    ///   was lost before Redis answered and ``RedisError/commandFailed(_:)``
    ///   when Redis refused the `PUBLISH` (sent, delivered or not).
    public nonisolated(nonsending) func confirmedBroadcast(_ envelope: ByteBuffer, shard: Int) async throws -> BroadcastReceipt {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<BroadcastReceipt, any Error>) in
            do {
                try publish(envelope, header: broadcastHeader, shard: shard, note: .confirmed({ continuation.resume(with: $0) }))
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }

    /// Publishes the envelope on `node`'s direct channel, through publishing
    /// connection `shard % redisPoolSize`. A node that does not exist is not
    /// an error (nobody subscribes its channel); a publishing connection that
    /// is down is, as for ``broadcast(_:shard:)``.
    ///
    /// - Throws: ``RedisError/notConnected``, ``RedisError/publishQueueFull``.
    public nonisolated(nonsending) func directBroadcast(_ envelope: ByteBuffer, to node: NodeName, shard: Int) async throws {
        // Redis drops a message to a channel nobody subscribes: an unknown node costs nothing.
        let header = RESPCommand.publishHeader(channel: directChannel(of: node), allocator: ByteBufferAllocator())
        try publish(envelope, header: header, shard: shard, note: .direct)
    }

    /// Queues the `PUBLISH`; `note` is `nil` for a plain broadcast. When it
    /// throws, nothing was queued and a note's waiter is not called.
    private func publish(_ envelope: ByteBuffer, header: ByteBuffer, shard: Int, note: RedisPublishNote.Kind?) throws(RedisError) {
        let index = shard % configuration.redisPoolSize
        guard accepting.load(ordering: .acquiring), let connection = publishers.withLock({ $0[index] }) else {
            metrics.publishFailures.increment()
            throw .notConnected
        }
        let frame = compressor?.compress(envelope)
        switch connection.publish(header: header, message: frame ?? envelope, note: note) {
        case .queued:
            break
        case .full:
            metrics.publishFailures.increment()
            throw .publishQueueFull
        case .closed:
            // Lost a moment ago, not yet taken out of `publishers`.
            metrics.publishFailures.increment()
            throw .notConnected
        }
        metrics.published.increment()
        if frame != nil { metrics.compressed.increment() }
    }

    // MARK: Draining

    /// Returns once Redis has answered every `PUBLISH` queued before the call
    /// on every publishing connection that is up, or once `deadline` has
    /// passed; first says bye on ``membershipChannel``, so the other nodes
    /// stop expecting this one at once. The ``PubSub`` calls it in a graceful
    /// shutdown, after its trackers' leaves are queued and before it cancels
    /// ``run()``, which closes the connections: what is unanswered then is
    /// counted as unconfirmed.
    public func drain(until deadline: ContinuousClock.Instant) async {
        let connections = publishers.withLock { $0.compactMap { $0 } }
        guard let first = connections.first else { return }
        let bye = RedisHello(kind: .bye, node: node).encoded(allocator: ByteBufferAllocator())
        _ = first.publish(header: membershipHeader, message: bye, note: .hello)
        // Redis answers in order: a `PING` answered behind a connection's queue means that queue is answered.
        let loop = group.next()
        let barriers = connections.map { connection -> EventLoopFuture<Void> in
            let answered = loop.makePromise(of: Void.self)
            if !connection.outbox.enqueueBarrier({ answered.succeed() }) {
                answered.succeed()  // closed: what it held is already counted
            }
            return answered.futureResult
        }
        let finished = loop.makePromise(of: Void.self)
        // Whichever comes first completes it; a second completion is ignored.
        EventLoopFuture.andAllComplete(barriers, on: loop).cascade(to: finished)
        let timer = loop.scheduleTask(in: (deadline - ContinuousClock.now).timeAmount) { finished.succeed() }
        try? await finished.futureResult.get()
        timer.cancel()
    }

    // MARK: Running

    /// Connects the subscriber and publishing connections and keeps them up
    /// until cancelled, then closes them and returns.
    ///
    /// - Throws: a ``RedisError`` when Redis refuses the configuration on the
    ///   first attempt (wrong password, unknown database).
    public func run() async throws {
        let lanes = (0..<poolSize).map { _ in RedisLane(capacity: configuration.inboundLaneCapacity) }
        let metrics = self.metrics
        let echoFilter = self.echoFilter
        let membership = self.membership
        // Hellos are taken out on the event loop: a few a second, never for a lane.
        let isEnvelope: @Sendable (ByteBuffer) -> Bool = { message in
            guard RedisHello.isHello(message) else { return !echoFilter.isOwnEcho(message) }
            if let hello = RedisHello(decoding: message) {
                membership.heard(hello)
            } else {
                metrics.malformedHellos.increment()
            }
            return false
        }
        let onMessages: @Sendable ([ByteBuffer]) -> Void = { envelopes in
            var dropped = 0
            if lanes.count == 1 {
                dropped = lanes[0].append(envelopes.filter(isEnvelope))
            } else {
                var batches = Array(repeating: [ByteBuffer](), count: lanes.count)
                for envelope in envelopes where isEnvelope(envelope) {
                    // The shard is at offset 6 of both forms; anything too short goes to lane 0 for the receiver to reject.
                    let shard = envelope.getInteger(at: envelope.readerIndex + 6, as: UInt16.self).map(Int.init) ?? 0
                    batches[shard % lanes.count].append(envelope)
                }
                for (lane, batch) in zip(lanes, batches) where !batch.isEmpty {
                    dropped += lane.append(batch)
                }
            }
            if dropped > 0 { metrics.inboundDropped.increment(by: Int64(dropped)) }
        }
        logger.debug("redis adapter starting", metadata: ["node": "\(node)", "channel": "\(broadcastChannel)"])
        accepting.store(false, ordering: .releasing)
        defer {
            accepting.store(false, ordering: .releasing)
            membership.reset()
            for lane in lanes { lane.finish() }
            logger.debug("redis adapter stopped", metadata: ["node": "\(node)"])
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in lanes {
                group.addTask { [receiver, decompressionFailures, maximumEnvelopeSize] in
                    // Made on the lane's first compressed envelope, then reused.
                    var inflater: ZlibInflater?
                    let allocator = ByteBufferAllocator()
                    // Each subscriber gets a lane batch's messages in one step.
                    let inbound = receiver.makeBatch()
                    while let batch = await lane.next() {
                        defer { inbound.flush() }
                        for received in batch {
                            var envelope = received
                            if CompressedEnvelope.isCompressed(received) {
                                do throws(CompressedEnvelopeError) {
                                    envelope = try CompressedEnvelope.decompress(
                                        received, maximumSize: maximumEnvelopeSize, inflater: &inflater, allocator: allocator)
                                } catch {
                                    decompressionFailures.record(error)
                                    continue
                                }
                            }
                            // The receiver counts and logs its rejections.
                            _ = try? inbound.receive(envelope)
                        }
                    }
                }
            }
            group.addTask { try await self.runLink(.subscriber, onMessages: onMessages) }
            for index in 0..<configuration.redisPoolSize {
                group.addTask { try await self.runLink(.publisher(index), onMessages: nil) }
            }
            group.addTask { await self.sayHello() }
            do {
                // Links only return when cancelled; the first error ends the others.
                for try await _ in group {}
            } catch {
                group.cancelAll()
                throw error
            }
        }
    }

    /// Says hello on ``membershipChannel`` through publishing connection 0
    /// every ``RedisHello/interval`` while the node is connected (the first
    /// at once), and forgets the nodes that stopped saying it; until cancelled.
    private func sayHello() async {
        let hello = RedisHello(kind: .hello, node: node).encoded(allocator: ByteBufferAllocator())
        await waitUntilConnected()
        while !Task.isCancelled {
            if accepting.load(ordering: .acquiring), let connection = publishers.withLock({ $0[0] }) {
                // Full or closed: the next one goes in a second.
                _ = connection.publish(header: membershipHeader, message: hello, note: .hello)
            }
            membership.expire()
            do {
                try await Task.sleep(for: RedisHello.interval)
            } catch {
                return
            }
        }
    }

    /// Keeps one connection up until cancelled: connect, handshake, serve,
    /// and after a loss back off and start again.
    private func runLink(_ role: RedisConnectionRole, onMessages: (@Sendable ([ByteBuffer]) -> Void)?) async throws {
        let linkMetrics = metrics.link(role: role.name, index: role.index)
        var logger = self.logger
        logger[metadataKey: "connection"] = "\(role)"
        logger[metadataKey: "redis"] = "\(configuration.host):\(configuration.port)"
        let backoff = RedisBackoff(base: configuration.reconnectBackoffBase, cap: configuration.reconnectBackoffCap)
        var established = false
        var attempt = 0
        defer { setDown(role, metrics: linkMetrics) }
        while !Task.isCancelled {
            do {
                let connection = try await RedisConnection.connect(
                    host: configuration.host,
                    port: configuration.port,
                    group: group,
                    connectTimeout: configuration.connectTimeout,
                    pingInterval: configuration.pingInterval,
                    pingTimeout: configuration.pingTimeout,
                    replyTimeout: configuration.replyTimeout,
                    metrics: metrics,
                    accounting: accounting,
                    logger: logger,
                    outboxLimit: configuration.publishQueueLimit,
                    onMessages: onMessages
                )
                try await withTaskCancellationHandler {
                    try await handshake(connection, role: role)
                } onCancel: {
                    connection.close()
                }
                linkMetrics.connects.increment()
                if established { linkMetrics.reconnects.increment() }
                logger.info(established ? "redis connection re-established" : "redis connection established")
                established = true
                attempt = 0
                setUp(role, connection: connection, metrics: linkMetrics)
                await connection.waitUntilClosed()
                setDown(role, metrics: linkMetrics)
                if Task.isCancelled { break }
                linkMetrics.disconnects.increment()
                logger.warning("redis connection lost; reconnecting")
            } catch let error as RedisError where error.isConfigurationRefusal && !established {
                linkMetrics.connectionFailures.increment()
                logger.error("redis refused the configuration", metadata: ["error": "\(error)"])
                throw error
            } catch {
                if Task.isCancelled { break }
                linkMetrics.connectionFailures.increment()
                logger.warning(
                    "redis connection attempt failed",
                    metadata: ["error": "\(error)", "attempt": "\(attempt + 1)"]
                )
            }
            let delay = backoff.delay(attempt: attempt)
            attempt += 1
            do {
                try await Task.sleep(for: delay)
            } catch {
                break
            }
        }
    }

    /// `AUTH`, `SELECT`, then `SUBSCRIBE` (broadcast, direct and membership
    /// channels) for the subscriber or `PING` for a
    /// publisher (which proves that Redis accepts this client's commands).
    private func handshake(_ connection: RedisConnection, role: RedisConnectionRole) async throws {
        do {
            if let password = configuration.password {
                let arguments = configuration.username.map { ["AUTH", $0, password] } ?? ["AUTH", password]
                if case .error(let message) = try await connection.command(arguments) {
                    throw RedisError.authenticationFailed(message)
                }
            }
            if configuration.database != 0 {
                if case .error(let message) = try await connection.command(["SELECT", "\(configuration.database)"]) {
                    throw Self.refusal(message) ?? RedisError.selectFailed(message)
                }
            }
            switch role {
            case .subscriber:
                let reply = try await connection.subscribe([broadcastChannel, directChannel(of: node.name), membershipChannel])
                if case .error(let message) = reply {
                    throw Self.refusal(message) ?? RedisError.subscribeFailed(message)
                }
                guard case .array(let items) = reply, items.first?.string == "subscribe" else {
                    // Not Redis (a TCP connection that met itself, another service): retry.
                    metrics.protocolErrors.increment()
                    throw RedisError.protocolError("unexpected reply to SUBSCRIBE")
                }
            case .publisher:
                let reply = try await connection.command(["PING"])
                if case .error(let message) = reply {
                    throw Self.refusal(message) ?? RedisError.commandFailed(message)
                }
                guard reply == .simpleString("PONG") else {
                    metrics.protocolErrors.increment()
                    throw RedisError.protocolError("unexpected reply to PING")
                }
            }
        } catch {
            connection.close()
            throw error
        }
    }

    /// The authentication error an error reply stands for, if any.
    private static func refusal(_ message: String) -> RedisError? {
        message.hasPrefix("NOAUTH") || message.hasPrefix("WRONGPASS") ? .authenticationFailed(message) : nil
    }

    private func setUp(_ role: RedisConnectionRole, connection: RedisConnection, metrics: RedisLinkMetrics) {
        metrics.connected.record(1)
        if case .publisher(let index) = role {
            publishers.withLock { $0[index] = connection }
        }
        let poolSize = configuration.redisPoolSize
        status.update { snapshot in
            switch role {
            case .subscriber:
                snapshot.subscribed = true
                membership.setListening(true)
            case .publisher(let index): snapshot.publishers.insert(index)
            }
            // Before the update wakes anyone: a task that saw every connection up must be able to broadcast.
            if snapshot.subscribed, snapshot.publishers.count == poolSize {
                accepting.store(true, ordering: .releasing)
            }
        }
    }

    private func setDown(_ role: RedisConnectionRole, metrics: RedisLinkMetrics) {
        metrics.connected.record(0)
        switch role {
        case .subscriber:
            membership.setListening(false)
            status.update { $0.subscribed = false }
        case .publisher(let index):
            publishers.withLock { $0[index] = nil }
            status.update { $0.publishers.remove(index) }
        }
    }
}
