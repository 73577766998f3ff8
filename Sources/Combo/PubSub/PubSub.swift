import Logging
import Metrics
import NIOCore
import ServiceLifecycle
import Synchronization

/// Distributed publish/subscribe: a broadcast on a topic reaches every
/// subscriber of that topic on every node of the cluster.
///
/// One `PubSub` runs per process; its ``Adapter`` connects it to the other
/// nodes. Messages are `Encodable & Sendable` values: delivered as they are to
/// subscribers on this node, encoded once for all other nodes.
///
/// ```swift
/// let pubsub = try PubSub(configuration: .init(name: "chat"), adapter: mesh)
/// try await pubsub.withSubscriber { subscriber in
///     try subscriber.subscribe(to: "room:lobby")
///     try await pubsub.broadcast(ChatLine(text: "hi"), to: "room:lobby")
///     for try await message in subscriber {
///         print(try message.decode(ChatLine.self))
///     }
/// }
/// ```
///
/// `PubSub` is a swift-service-lifecycle `Service`: run it in your
/// `ServiceGroup` (its `run()` runs the adapter). Local operations work
/// before it runs and after it stops.
///
/// Delivery is at most once. Messages broadcast by one node on one topic reach
/// each subscriber in the order they were broadcast, on every adapter.
public final class PubSub: Service, Sendable {
    /// The options this PubSub was made with.
    public let configuration: Configuration
    /// This node: its cluster-unique name and the incarnation of this boot.
    public let node: NodeIdentity
    /// The adapter that connects this node to the others.
    public let adapter: any Adapter

    let registry: Registry
    let delivery: LocalDelivery
    let logger: Logger
    let metrics: PubSubMetrics
    private let dispatchers: [String: any Dispatcher]
    private let defaultDispatcher: any Dispatcher
    private let isSingleNode: Bool
    private let broadcastPoolSize: UInt32
    /// This node's origin fields, encoded once for every envelope it sends.
    private let encodedOrigin: [UInt8]
    private let nextSubscriber = Atomic<UInt64>(0)
    private let running = Atomic<Bool>(false)
    private let dependents = TransportDependents()

    /// Creates a PubSub and its adapter. Nothing starts until ``run()``.
    ///
    /// - Parameters:
    ///   - configuration: the options; validated here.
    ///   - adapter: the transport to other nodes; ``SingleNode`` by default.
    ///   - logger: where the PubSub and its adapter log. Combo never bootstraps logging.
    ///   - metricsFactory: where its metrics go; the global `MetricsSystem.factory` by default.
    /// - Throws: ``PubSubError/invalidConfiguration(_:)`` for an invalid option,
    ///   ``PubSubError/adapterFailed(_:)`` when the adapter cannot be made.
    public init(
        configuration: Configuration,
        adapter: any AdapterFactory = SingleNode(),
        logger: Logger = Logger(label: "combo.pubsub"),
        metricsFactory: (any MetricsFactory)? = nil
    ) throws(PubSubError) {
        let codecs: [UInt8: any PayloadCodec]
        do {
            try configuration.validate()
            codecs = try configuration.codecTable()
        } catch {
            throw .invalidConfiguration(error)
        }
        var dispatchers: [String: any Dispatcher] = [DefaultDispatcher.name: DefaultDispatcher()]
        for dispatcher in configuration.dispatchers { dispatchers[dispatcher.name] = dispatcher }

        let factory = metricsFactory ?? MetricsSystem.factory
        var logger = logger
        logger[metadataKey: "pubsub"] = "\(configuration.name)"
        let node = NodeIdentity(name: adapter.nodeName, incarnation: .next())
        let metrics = PubSubMetrics(pubSubName: configuration.name, factory: factory)
        let registry = Registry(
            size: configuration.effectiveRegistrySize,
            partitioning: configuration.registryPartitioning
        )
        let delivery = LocalDelivery(registry: registry, metrics: metrics)
        let receiver = InboundReceiver(
            node: node,
            delivery: delivery,
            codecs: codecs,
            dispatchers: dispatchers,
            maximumEnvelopeSize: configuration.maximumEnvelopeSize,
            logger: logger
        )
        let context = AdapterContext(
            pubSubName: configuration.name,
            node: node,
            poolSize: configuration.poolSize,
            broadcastPoolSize: configuration.effectiveBroadcastPoolSize,
            maximumEnvelopeSize: configuration.maximumEnvelopeSize,
            receiver: receiver,
            logger: logger,
            metricsFactory: factory
        )
        do {
            self.adapter = try adapter.makeAdapter(context: context)
        } catch {
            throw .adapterFailed(error)
        }
        self.configuration = configuration
        self.node = node
        self.registry = registry
        self.delivery = delivery
        self.logger = logger
        self.metrics = metrics
        self.dispatchers = dispatchers
        self.defaultDispatcher = dispatchers[configuration.defaultDispatcher]!
        self.isSingleNode = self.adapter is SingleNodeAdapter
        self.broadcastPoolSize = UInt32(configuration.effectiveBroadcastPoolSize)
        self.encodedOrigin = Envelope.encodeOrigin(node)
    }

    /// This node's name (Elixir's `node_name/1`).
    public var nodeName: NodeName { node.name }

    // MARK: Service

    /// Runs the adapter until graceful shutdown or cancellation.
    ///
    /// A graceful shutdown says goodbye before the transport closes: the
    /// trackers on this PubSub that still run send their leave (see
    /// ``Tracker/Configuration/permdownOnShutdown``), the adapter hands what
    /// it has queued to the transport (``Adapter/drain(until:)``), and only
    /// then is the adapter's `run()` cancelled; all of it within
    /// ``Configuration/shutdownTimeout``. Cancellation closes the transport at once.
    ///
    /// - Throws: ``PubSubError/alreadyRunning`` when called twice at once, or
    ///   whatever the adapter's `run()` throws.
    public func run() async throws {
        guard running.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            throw PubSubError.alreadyRunning
        }
        defer { running.store(false, ordering: .releasing) }
        logger.debug("pubsub starting", metadata: ["node": "\(node)"])
        let adapter = self.adapter
        // A detached task does not inherit the task-local values through which
        // swift-service-lifecycle signals a graceful shutdown, so the adapter
        // does not see it: this PubSub decides when the transport closes, after
        // the last words of its trackers are out. Cancellation is forwarded.
        let transport = Task.detached { try await adapter.run() }
        try await withTaskCancellationHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await transport.value }
                group.addTask {
                    do {
                        try await gracefulShutdown()
                    } catch {
                        return  // cancelled: the transport is cancelled with us
                    }
                    await self.sayGoodbye()
                    transport.cancel()
                }
                // The first to end (the transport, or the goodbye) ends the other.
                for try await _ in group { group.cancelAll() }
            }
        } onCancel: {
            transport.cancel()
        }
        logger.debug("pubsub stopped", metadata: ["node": "\(node)"])
    }

    /// The part of a graceful shutdown before the transport closes.
    private func sayGoodbye() async {
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + configuration.shutdownTimeout
        await dependents.notifyTransportClosing(deadline: deadline)
        await adapter.drain(until: deadline)
        let elapsed = clock.now - start
        if clock.now >= deadline {
            logger.warning(
                "graceful shutdown ran out of time before the transport closed; what was still queued is lost",
                metadata: ["shutdownTimeout": "\(configuration.shutdownTimeout)"])
        } else {
            logger.debug("pubsub said goodbye", metadata: ["elapsed": "\(elapsed)"])
        }
    }

    /// Registers something that must send before the transport closes.
    func addTransportDependent(_ dependent: any TransportDependent) {
        dependents.add(dependent)
    }

    // MARK: Subscribers

    /// Makes a subscriber, subscribed to nothing yet.
    ///
    /// Prefer ``withSubscriber(options:_:)``, which closes it when the scope
    /// ends; a subscriber made here lives until ``Subscriber/close()`` or until
    /// its last reference goes away.
    public func makeSubscriber(options: SubscriberOptions? = nil) -> Subscriber {
        let sequence = nextSubscriber.wrappingAdd(1, ordering: .relaxed).newValue
        let inbox = Inbox(id: SubscriberID(node: node, sequence: sequence), options: options ?? configuration.subscriberOptions)
        return Subscriber(inbox: inbox, pubsub: self)
    }

    /// Runs `body` with a new subscriber and closes it when `body` returns,
    /// throws or is cancelled: the subscriber's subscriptions end with the scope.
    public func withSubscriber<Result>(
        options: SubscriberOptions? = nil,
        _ body: (Subscriber) async throws -> Result
    ) async rethrows -> Result {
        let subscriber = makeSubscriber(options: options)
        defer { subscriber.close() }
        return try await body(subscriber)
    }

    /// Runs `body` with a new subscriber already subscribed to `topic`, and
    /// closes it when `body` ends.
    ///
    /// - Throws: what `body` throws.
    public func subscribe<Result>(
        to topic: String,
        metadata: (any Hashable & Sendable)? = nil,
        options: SubscriberOptions? = nil,
        _ body: (Subscriber) async throws -> Result
    ) async throws -> Result {
        try await withSubscriber(options: options) { subscriber in
            try self.subscribe(subscriber, to: topic, metadata: metadata)
            return try await body(subscriber)
        }
    }

    /// Subscribes `subscriber` to `topic` (Elixir's `subscribe/3`).
    ///
    /// Subscribing twice makes two subscriptions, and each broadcast is then
    /// delivered twice, as upstream.
    ///
    /// - Parameter metadata: a value that dispatchers see with the subscription,
    ///   and that ``unsubscribe(_:from:matching:)`` matches.
    /// - Throws: ``PubSubError/subscriberClosed(_:)`` or ``PubSubError/foreignSubscriber(_:)``.
    public func subscribe(
        _ subscriber: Subscriber,
        to topic: String,
        metadata: (any Hashable & Sendable)? = nil
    ) throws(PubSubError) {
        guard subscriber.pubsub === self else { throw .foreignSubscriber(subscriber.id) }
        guard registry.subscribe(subscriber.inbox, to: topic, metadata: metadata) else {
            throw .subscriberClosed(subscriber.id)
        }
    }

    /// Removes every subscription of `subscriber` to `topic` (Elixir's
    /// `unsubscribe/2`); nothing happens when there is none.
    public func unsubscribe(_ subscriber: Subscriber, from topic: String) {
        guard subscriber.pubsub === self else { return }
        registry.unsubscribe(subscriber.inbox, from: topic, matching: nil)
    }

    /// Removes the subscriptions of `subscriber` to `topic` whose metadata equals
    /// `metadata` (Combo.PubSub's `unsubscribe_match/3`).
    ///
    /// - Returns: how many subscriptions were removed.
    @discardableResult
    public func unsubscribe(_ subscriber: Subscriber, from topic: String, matching metadata: any Hashable & Sendable) -> Int {
        guard subscriber.pubsub === self else { return 0 }
        return registry.unsubscribe(subscriber.inbox, from: topic, matching: metadata)
    }

    /// The subscriptions to `topic` on this node, with their metadata (as Elixir's `Registry.lookup/2`).
    public func subscriptions(of topic: String) -> [(subscriber: SubscriberID, metadata: (any Hashable & Sendable)?)] {
        registry.subscriptions(of: topic).map { ($0.inbox.id, $0.metadata?.value) }
    }

    // MARK: Broadcasting

    /// Broadcasts `message` to the subscribers of `topic` on every node
    /// (Elixir's `broadcast/4`, and `broadcast_from/5` when `from` is given).
    ///
    /// The message is encoded once and handed to the adapter; only if that
    /// succeeds is it delivered to this node's subscribers, as upstream. It
    /// runs on the caller's executor and suspends only if the adapter has to
    /// wait for room in its queue.
    ///
    /// - Parameters:
    ///   - from: a subscriber whose own subscriptions are skipped, on every node.
    ///   - dispatcher: the registered name of the dispatcher every node runs;
    ///     `nil` for ``Configuration/defaultDispatcher``.
    /// - Throws: ``PubSubError``: unknown dispatcher, encoding failure, message
    ///   too large, or the adapter's failure.
    public nonisolated(nonsending) func broadcast(
        _ message: some Encodable & Sendable,
        to topic: String,
        from: SubscriberID? = nil,
        dispatcher: String? = nil
    ) async throws(PubSubError) {
        let dispatcher = try resolve(dispatcher)
        if !isSingleNode {
            let shard = shard(of: topic)
            let envelope = try encode(
                message, kind: .broadcast, target: nil, topic: topic, shard: shard, from: from, dispatcher: dispatcher)
            do {
                try await adapter.broadcast(envelope, shard: shard)
            } catch {
                throw .adapterFailed(error)
            }
        }
        metrics.clusterBroadcasts.increment()
        delivery.dispatch(topic: topic, from: from, dispatcher: dispatcher) {
            localMessage(message, topic: topic, from: from)
        }
    }

    /// Delivers `message` to the subscribers of `topic` on this node only
    /// (Elixir's `local_broadcast/4`, and `local_broadcast_from/5` when `from`
    /// is given). Nothing is encoded.
    ///
    /// - Throws: ``PubSubError/unknownDispatcher(_:)``.
    public func localBroadcast(
        _ message: some Encodable & Sendable,
        to topic: String,
        from: SubscriberID? = nil,
        dispatcher: String? = nil
    ) throws(PubSubError) {
        let dispatcher = try resolve(dispatcher)
        metrics.localBroadcasts.increment()
        delivery.dispatch(topic: topic, from: from, dispatcher: dispatcher) {
            localMessage(message, topic: topic, from: from)
        }
    }

    /// Delivers `message` to the subscribers of `topic` on the node named `node`
    /// only (Elixir's `direct_broadcast/5`).
    ///
    /// To this node itself it is a local broadcast (nothing is encoded). An
    /// unknown or unreachable node is not an error: the message is dropped.
    ///
    /// - Throws: ``PubSubError``: unknown dispatcher, encoding failure, message
    ///   too large, or the adapter's failure.
    public nonisolated(nonsending) func directBroadcast(
        _ message: some Encodable & Sendable,
        to topic: String,
        on node: NodeName,
        from: SubscriberID? = nil,
        dispatcher: String? = nil
    ) async throws(PubSubError) {
        let dispatcher = try resolve(dispatcher)
        metrics.directBroadcasts.increment()
        if node == self.node.name {
            delivery.dispatch(topic: topic, from: from, dispatcher: dispatcher) {
                localMessage(message, topic: topic, from: from)
            }
            return
        }
        if isSingleNode { return }
        let shard = shard(of: topic)
        let envelope = try encode(
            message, kind: .direct, target: node, topic: topic, shard: shard, from: from, dispatcher: dispatcher)
        do {
            try await adapter.directBroadcast(envelope, to: node, shard: shard)
        } catch {
            throw .adapterFailed(error)
        }
    }

    // MARK: Internals

    func resolve(_ name: String?) throws(PubSubError) -> any Dispatcher {
        guard let name else { return defaultDispatcher }
        guard let dispatcher = dispatchers[name] else { throw .unknownDispatcher(name) }
        return dispatcher
    }

    /// The lane of a topic: stable across processes, so one node's messages on
    /// one topic always take the same lane and stay in order.
    func shard(of topic: String) -> Int {
        broadcastPoolSize == 1 ? 0 : Int(stableTopicHash(topic) % broadcastPoolSize)
    }

    func localMessage(_ message: some Encodable & Sendable, topic: String, from: SubscriberID?) -> Message {
        let payload: Payload
        if let raw = Self.rawBytes(message) {
            payload = .raw(raw.buffer)
        } else {
            payload = .value(message)
        }
        return Message(topic: topic, payload: payload, from: from, origin: node)
    }

    /// The message as raw bytes if that is its type. Compares metatypes, which
    /// costs a pointer comparison, where `as?` on a generic value is a runtime
    /// dynamic cast on every broadcast.
    @inline(__always)
    private static func rawBytes<Value>(_ message: Value) -> RawBytes? {
        guard Value.self == RawBytes.self else { return nil }
        return unsafeBitCast(message, to: RawBytes.self)
    }

    /// Encodes the envelope once: header, then the payload written by the codec
    /// straight into the same buffer.
    func encode(
        _ message: some Encodable & Sendable,
        kind: EnvelopeKind,
        target: NodeName?,
        topic: String,
        shard: Int,
        from: SubscriberID?,
        dispatcher: any Dispatcher
    ) throws(PubSubError) -> ByteBuffer {
        let raw = Self.rawBytes(message)
        let dispatcherName = dispatcher.name
        // Room for the whole envelope up front (a raw payload's size is known;
        // an encoded one is usually small), so writing it never reallocates.
        var capacity = 8 + encodedOrigin.count + 1 + (target?.rawValue.utf8.count ?? 0) + 2 + topic.utf8.count
        capacity += 1 + dispatcherName.utf8.count + 4 + (from == nil ? 0 : 1 + from!.node.name.rawValue.utf8.count + 16)
        capacity += raw?.buffer.readableBytes ?? 128
        var buffer = ByteBufferAllocator().buffer(capacity: capacity)
        let codec = configuration.codec
        do {
            try Envelope.writeHeader(
                kind: kind,
                shard: UInt16(truncatingIfNeeded: shard),
                origin: node,
                target: target,
                topic: topic,
                dispatcher: dispatcherName == DefaultDispatcher.name ? nil : dispatcherName,
                from: from,
                codec: raw == nil ? codec.id : 0,
                encodedOrigin: encodedOrigin,
                // A raw payload's length is known: written with the header.
                payloadLength: raw.map { UInt32(truncatingIfNeeded: $0.buffer.readableBytes) },
                into: &buffer
            )
        } catch {
            throw .invalidEnvelope(error)
        }
        if let raw {
            let size = buffer.readableBytes + raw.buffer.readableBytes
            guard size <= configuration.maximumEnvelopeSize, raw.buffer.readableBytes <= UInt32.max else {
                throw .messageTooLarge(size: size, limit: configuration.maximumEnvelopeSize)
            }
            buffer.writeImmutableBuffer(raw.buffer)
            return buffer
        }
        let lengthIndex = buffer.writerIndex
        buffer.writeInteger(UInt32(0))
        do {
            try codec.encode(message, into: &buffer)
        } catch {
            throw .encodingFailed(type: "\(type(of: message))", reason: "\(error)")
        }
        let payloadLength = buffer.writerIndex - lengthIndex - 4
        guard buffer.readableBytes <= configuration.maximumEnvelopeSize, payloadLength <= UInt32.max else {
            throw .messageTooLarge(size: buffer.readableBytes, limit: configuration.maximumEnvelopeSize)
        }
        buffer.setInteger(UInt32(payloadLength), at: lengthIndex)
        return buffer
    }
}
