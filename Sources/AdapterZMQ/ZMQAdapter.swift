import Combo
import Logging
import Metrics
import NIOCore
import ServiceLifecycle
import Synchronization

/// The adapter of a node whose cluster talks over ZeroMQ PUB/SUB, through
/// libzmq. Made by ``ZMQ``; `docs/ADAPTER_ZMQ.md` describes it in full.
///
/// ## Sockets and threads
///
/// Each run has a libzmq context of its own and two sockets, each owned by a
/// dedicated thread (libzmq sockets are not thread-safe, and their calls
/// block): the publishing socket, an XPUB, and the subscribing socket, a SUB.
/// `broadcast` and `directBroadcast` never touch a socket: they put the
/// envelope in a lock-free queue (``ZMQOutbox``) and return; the publishing
/// thread sends, in queue order. With CURVE serving, a third thread is the
/// ZAP handler.
///
/// ## Topologies
///
/// - ``ZMQTopology/peers(bind:advertise:peers:)``: every node binds its XPUB
///   and subscribes to every other node's. A node announces itself to the
///   peers it subscribes to (a hello subscription); they subscribe back and
///   welcome it with the peers they know.
/// - ``ZMQTopology/forwarder(xsub:xpub:)``: every node connects to one
///   XSUB/XPUB proxy (``ZMQProxy``, `combo zmq-proxy`).
///
/// ## Readiness
///
/// ZeroMQ subscriptions travel asynchronously: a message published before a
/// subscription arrives is silently lost (the "slow joiner"). A node is
/// *ready* (``isReady``, ``waitUntilReady()``) once its subscriptions are
/// known to be in place: between peers, when every configured peer has
/// welcomed it (a peer welcomes a node after its XPUB has shown the node's
/// subscriptions) and subscribed to it; through a proxy, when the node's own
/// direct subscription comes back to its XPUB through the proxy.
///
/// Delivery is at most once: a high-water mark that overflows drops
/// messages, which receivers count from gaps in the senders' sequence numbers.
public final class ZMQAdapter: Adapter, Sendable {
    /// The node this adapter runs as.
    public let node: NodeIdentity
    private let configuration: ZMQ
    private let settings: ZMQRunSettings
    private let poolSize: Int
    private let receiver: InboundReceiver
    private let logger: Logger
    private let metrics: ZMQMetrics
    private let status: ZMQClusterStatus
    private let outbox: ZMQOutbox
    private let accepting = Atomic<Bool>(false)
    private let endpointValue = Mutex<String?>(nil)
    /// The control of the run in progress, for ``drain(until:)``.
    private let runControl = Mutex<ZMQRunControl?>(nil)

    init(configuration: ZMQ, context: AdapterContext) throws(ZMQError) {
        node = context.node
        self.configuration = configuration
        let topics = ZMQTopics(channelPrefix: configuration.channelPrefix, pubSubName: context.pubSubName)
        settings = ZMQRunSettings(
            node: context.node,
            topics: topics,
            topology: configuration.topology,
            options: ZMQSocketOptions(configuration: configuration, maximumEnvelopeSize: context.maximumEnvelopeSize, topics: topics)
        )
        poolSize = context.poolSize
        receiver = context.receiver
        var logger = context.logger
        logger[metadataKey: "adapter"] = "zmq"
        self.logger = logger
        metrics = ZMQMetrics(dimensions: [("pubsub", context.pubSubName)], factory: context.metricsFactory)
        status = ZMQClusterStatus(metrics: metrics)
        outbox = try ZMQOutbox(capacity: configuration.sendQueueCapacity)
    }

    // MARK: State

    /// The endpoint peers reach this node's publishing socket at (peer
    /// topology; the bound endpoint, with the port chosen for a wildcard port),
    /// or the proxy's XSUB endpoint (forwarder); `nil` while not running.
    public var endpoint: String? { endpointValue.withLock { $0 } }

    /// Whether this node's subscriptions are known to be in place (see "Readiness").
    public var isReady: Bool { status.snapshot.isReady }

    /// Returns once the node is ready (or when the task is cancelled).
    public func waitUntilReady() async {
        await status.wait { $0.isReady }
    }

    /// Returns once every node named is up (or when the task is cancelled).
    public func waitUntilUp(_ nodes: [NodeName]) async {
        await status.wait { state in
            let up = state.up
            return nodes.allSatisfy { up[$0] != nil }
        }
    }

    /// The other nodes that are up now (see ``ZMQPeerEvent``).
    public var upPeers: [NodeName] { status.snapshot.up.keys.sorted() }

    /// The nodes that are up now, then every change, until the stream is dropped.
    ///
    /// The sequence holds at most 1,024 unread events; a reader further behind
    /// loses the oldest, counted in `combo_zmq_peer_events_dropped_total` and
    /// ``ZMQStatistics/peerEventsDropped``, and can read ``upPeers`` again.
    public func peerEvents() -> AsyncStream<ZMQPeerEvent> {
        status.events()
    }

    /// What the adapter has counted so far.
    public var statistics: ZMQStatistics { metrics.statistics }

    // MARK: Sending

    /// Queues the envelope for every other node and returns; never waits for a peer.
    ///
    /// - Throws: ``ZMQError/notRunning``, or ``ZMQError/sendQueueFull`` when
    ///   the socket's thread falls behind for longer than about a second.
    public nonisolated(nonsending) func broadcast(_ envelope: ByteBuffer, shard: Int) async throws {
        let item = ZMQOutgoing(envelope: envelope, target: nil)
        // The common case does not suspend: no asynchronous frame to allocate for it.
        if try enqueueIfRoom(item) { return }
        try await enqueueWhenRoom(item)
    }

    /// Queues the envelope for `node` and returns. A node that does not exist
    /// is not an error: nobody subscribes to its topic, so libzmq drops it.
    ///
    /// - Throws: as ``broadcast(_:shard:)``.
    public nonisolated(nonsending) func directBroadcast(_ envelope: ByteBuffer, to node: NodeName, shard: Int) async throws {
        let item = ZMQOutgoing(envelope: envelope, target: node)
        if try enqueueIfRoom(item) { return }
        try await enqueueWhenRoom(item)
    }

    /// Queues the item if the queue has room; false when it is full.
    private func enqueueIfRoom(_ item: ZMQOutgoing) throws(ZMQError) -> Bool {
        guard accepting.load(ordering: .acquiring) else {
            metrics.count(.sendFailures)
            throw .notRunning
        }
        return outbox.enqueue(item)
    }

    /// Queues the item once the full queue has room, waiting up to about a second.
    private nonisolated(nonsending) func enqueueWhenRoom(_ item: ZMQOutgoing) async throws(ZMQError) {
        // Full: the socket's thread is behind (never a peer: PUB sockets drop
        // rather than wait). Wait for room rather than lose the envelope, briefly.
        outbox.nudge()
        let deadline = ContinuousClock.now + .seconds(1)
        var attempts = 0
        while !outbox.enqueue(item) {
            attempts += 1
            guard accepting.load(ordering: .acquiring), ContinuousClock.now < deadline else {
                metrics.count(.sendFailures)
                throw .sendQueueFull
            }
            if attempts < 16 {
                await Task.yield()
            } else {
                try? await Task.sleep(for: .microseconds(50))
            }
        }
    }

    /// Hands what the send queue holds to the publishing socket, and returns
    /// once the queue is empty or `deadline` has passed; the socket then
    /// lingers until `deadline` when ``run()`` closes it, so that libzmq sends
    /// what its pipes still hold. The ``PubSub`` calls it in a graceful
    /// shutdown, after its trackers' leaves are queued.
    public func drain(until deadline: ContinuousClock.Instant) async {
        guard let control = runControl.withLock({ $0 }), !control.isStopping else { return }
        control.requestDrain(until: deadline)
        outbox.nudge()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // The publishing thread may never empty the queue: give up at the deadline.
                try? await Task.sleep(until: deadline)
                control.drained.fulfil(())
            }
            await control.drained.value()
            group.cancelAll()
        }
    }

    // MARK: Running

    /// Opens the sockets, starts their threads, and runs until cancelled; then
    /// closes everything and returns.
    ///
    /// - Throws: a ``ZMQError`` when a socket cannot bind or be set up, or when
    ///   CURVE serving is configured and the ZAP handler cannot start.
    public func run() async throws {
        let context = try ZMQContext()
        let control = ZMQRunControl()
        let commands = try ZMQCommandQueue()
        var authenticator: ZMQAuthenticator?
        var publisher: ZMQPublisher?
        var subscriber: ZMQSubscriber?
        // The subscriber thread receives and checks. With one lane it also decodes and
        // dispatches, on its own thread: a lane task competes with the application's tasks for
        // the cooperative pool and, starved, overflows its lane. With more, lane tasks decode
        // and dispatch in parallel with it.
        let lanes = poolSize == 1 ? [] : (0..<poolSize).map { _ in ZMQLane(capacity: configuration.inboundLaneCapacity) }
        // Set before the threads start: they report subscriptions and welcomes from the first moment.
        status.update { state in
            state = ZMQClusterStatus.State()
            state.forwarder = settings.isForwarder
            state.staticEndpoints = settings.staticPeers
        }
        do {
            if case .peers = settings.topology, let curve = configuration.curve {
                // CURVE without a ZAP handler would accept every client key: no handler, no run.
                let handler = ZMQAuthenticator(authorizedKeys: curve.authorizedClientKeys, metrics: metrics, logger: logger)
                authenticator = handler
                try await handler.start(context: context)
            }
            let newPublisher = ZMQPublisher(
                context: context, settings: settings, outbox: outbox, commands: commands,
                status: status, control: control, metrics: metrics, logger: logger
            )
            publisher = newPublisher
            let endpoint = try await newPublisher.start()
            status.update { $0.ownEndpoint = endpoint }
            let newSubscriber = ZMQSubscriber(
                context: context, settings: settings, ownEndpoint: endpoint, commands: commands, status: status,
                control: control, metrics: metrics, logger: logger, lanes: lanes,
                receiver: lanes.isEmpty ? receiver : nil
            )
            subscriber = newSubscriber
            try await newSubscriber.start()
            endpointValue.withLock { $0 = endpoint }
            runControl.withLock { $0 = control }
            status.update { $0.running = true }
            accepting.store(true, ordering: .releasing)
            logger.debug("zmq adapter running", metadata: ["node": "\(node)", "endpoint": "\(endpoint)"])
        } catch {
            await shutDown(context: context, control: control, authenticator: authenticator, publisher: publisher, subscriber: subscriber, lanes: lanes)
            throw error
        }
        let receiver = self.receiver
        await withTaskGroup(of: Void.self) { group in
            for lane in lanes {
                group.addTask {
                    // Each subscriber gets a lane batch's messages in one step.
                    let inbound = receiver.makeBatch()
                    while let batch = await lane.next() {
                        // The receiver counts and logs its rejections.
                        for envelope in batch { _ = try? inbound.receive(envelope) }
                        inbound.flush()
                    }
                }
            }
            await withTaskCancellationHandler {
                await publisher?.exited.value()
                await subscriber?.exited.value()
            } onCancel: {
                control.stop()
            }
            await shutDown(context: context, control: control, authenticator: authenticator, publisher: publisher, subscriber: subscriber, lanes: lanes)
        }
        if let failure = control.firstFailure { throw failure }
    }

    /// Stops the threads, then the ZAP handler (after the sockets it guards
    /// are closed), then terminates the context on a thread of its own.
    private func shutDown(
        context: ZMQContext, control: ZMQRunControl, authenticator: ZMQAuthenticator?,
        publisher: ZMQPublisher?, subscriber: ZMQSubscriber?, lanes: [ZMQLane]
    ) async {
        accepting.store(false, ordering: .releasing)
        runControl.withLock { $0 = nil }
        control.stop()
        if let publisher, publisher.started.current != nil { await publisher.exited.value() }
        if let subscriber, subscriber.started.current != nil { await subscriber.exited.value() }
        for lane in lanes { lane.finish() }
        status.update { state in state = ZMQClusterStatus.State() }
        endpointValue.withLock { $0 = nil }
        context.shutdown()
        if let authenticator { await authenticator.exited.value() }
        _ = try? await ZMQThread.run(name: "combo-zmq-term") { context.terminate() }
        logger.debug("zmq adapter stopped", metadata: ["node": "\(node)"])
    }
}
