import Combo
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The adapter of one mesh node: made by ``Mesh`` (its configuration) and run
/// by the `PubSub` that made it.
///
/// Each node opens its own connections to every other node and only sends on
/// them; it receives on the connections the others opened to it. To each
/// peer it opens as many connections (lanes) as that peer's `poolSize`,
/// learned in the handshake, and sends shard `s` on lane `s % poolSize`: one
/// shard always takes one connection, so one node's messages on one topic
/// arrive in order, and nodes with different pool sizes lose nothing.
///
/// Sending never waits for the network: frames are appended to the lane's
/// buffer and written once per event-loop turn. Delivery is at most once.
public final class MeshAdapter: Adapter, Sendable {
    /// Listen hosts that mean "every interface" and cannot be dialled as such.
    static let wildcardHosts: Set<String> = ["0.0.0.0", "::", "[::]"]

    /// A unit of background work, run as a child of ``run()``.
    typealias Job = @Sendable () async -> Void

    private enum Phase { case idle, running, stopped }

    private struct State {
        var phase = Phase.idle
        var advertised: MeshAddress?
        var peers: [NodeName: MeshPeer] = [:]
        /// The peers as a list, rebuilt when it changes, so a broadcast copies one reference.
        var peerList: [MeshPeer] = []
        var members: [NodeName: MeshMember] = [:]
        /// Accepted, authenticated connections and the boot on their other end.
        var inbound: [ObjectIdentifier: (channel: any Channel, node: NodeIdentity)] = [:]
        var spawn: AsyncStream<Job>.Continuation?
        var addressWaiters: [Int: CheckedContinuation<MeshAddress, any Error>] = [:]
        var subscribers: [Int: AsyncStream<MeshMembershipEvent>.Continuation] = [:]
        var nextID = 0
    }

    /// The node this adapter runs as: the PubSub's node name with this boot's incarnation.
    public let node: NodeIdentity
    let settings: MeshSettings
    let pubSubName: String
    let poolSize: Int
    let receiver: InboundReceiver
    let logger: Logger
    let metrics: MeshMetrics
    let handshake: MeshHandshake
    let group: any EventLoopGroup
    private let state = Mutex(State())

    init(configuration: MeshSettings, context: AdapterContext) {
        self.node = context.node
        self.settings = configuration
        self.pubSubName = context.pubSubName
        self.poolSize = context.poolSize
        self.receiver = context.receiver
        var logger = context.logger
        logger[metadataKey: "adapter"] = "mesh"
        logger[metadataKey: "node"] = "\(context.node)"
        self.logger = logger
        self.metrics = MeshMetrics(pubSubName: context.pubSubName, factory: context.metricsFactory)
        self.handshake = MeshHandshake(secret: configuration.secret)
        self.group = configuration.eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton
    }

    // MARK: Public API

    /// The address this node advertises, once its listener is bound: waits
    /// for `run()` to bind it (use it to learn the port when listening on port 0).
    ///
    /// - Throws: ``MeshError/notListening`` when `run()` ended (or failed to
    ///   bind) first; `CancellationError` when the waiting task is cancelled.
    public func boundAddress() async throws -> MeshAddress {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<MeshAddress, any Error>) in
                state.withLock { state in
                    if let address = state.advertised {
                        continuation.resume(returning: address)
                    } else if state.phase == .stopped {
                        continuation.resume(throwing: MeshError.notListening)
                    } else if Task.isCancelled {
                        continuation.resume(throwing: CancellationError())
                    } else {
                        state.addressWaiters[id] = continuation
                    }
                }
            }
        } onCancel: {
            state.withLock { $0.addressWaiters.removeValue(forKey: id) }?.resume(throwing: CancellationError())
        }
    }

    /// The other nodes this node is connected to now.
    public var members: [MeshMember] {
        state.withLock { Array($0.members.values) }.sorted { $0.node.name < $1.node.name }
    }

    /// The membership changes of this node: first a ``MeshMembershipEvent/snapshot(_:)``
    /// of the current members, then every node up and down, in order. The
    /// sequence ends when the adapter stops.
    ///
    /// The sequence holds at most ``Mesh/membershipEventBufferLimit`` unread
    /// events (1,024 by default); a reader further behind loses the oldest,
    /// counted in `combo_mesh_membership_events_dropped_total`, and can
    /// resynchronise from ``members``.
    public func membershipEvents() -> AsyncStream<MeshMembershipEvent> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: MeshMembershipEvent.self, bufferingPolicy: .bufferingNewest(settings.membershipEventBufferLimit))
        let id: Int? = state.withLock { state in
            let snapshot = state.members.values.sorted { $0.node.name < $1.node.name }
            continuation.yield(.snapshot(snapshot))
            guard state.phase != .stopped else { return nil }
            defer { state.nextID += 1 }
            state.subscribers[state.nextID] = continuation
            return state.nextID
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    // MARK: Adapter

    /// Queues the envelope for every connected or connecting node, on the lane
    /// of `shard`; returns without waiting for the network.
    ///
    /// - Throws: ``MeshError/notRunning`` outside `run()`.
    public nonisolated(nonsending) func broadcast(_ envelope: ByteBuffer, shard: Int) async throws {
        guard let peers = state.withLock({ $0.phase == .running ? $0.peerList : nil }) else {
            throw MeshError.notRunning
        }
        // The same buffer for every peer: each lane copies it once into its batch.
        for peer in peers where !peer.send(envelope, shard: shard) {
            metrics.droppedEnvelopes.increment()
        }
    }

    /// Queues the envelope for the node named `node`; an unknown node is not
    /// an error (the envelope is dropped and counted in
    /// `combo_mesh_dropped_envelopes_total`).
    ///
    /// - Throws: ``MeshError/notRunning`` outside `run()`.
    public nonisolated(nonsending) func directBroadcast(_ envelope: ByteBuffer, to node: NodeName, shard: Int) async throws {
        let peer: MeshPeer? = try state.withLock { state in
            guard state.phase == .running else { throw MeshError.notRunning }
            return state.peers[node]
        }
        guard let peer, peer.send(envelope, shard: shard) else {
            metrics.droppedEnvelopes.increment()
            return
        }
    }

    /// Writes what every lane holds to its socket, and returns once all of it
    /// is written or `deadline` has passed: the ``PubSub`` calls it in a
    /// graceful shutdown, after its trackers' leaves are queued and before it
    /// cancels ``run()``, which closes the connections.
    public func drain(until deadline: ContinuousClock.Instant) async {
        let peers = state.withLock { $0.phase == .running ? $0.peerList : [] }
        let flushes = peers.flatMap { $0.flush() }
        guard !flushes.isEmpty else { return }
        let loop = group.next()
        let finished = loop.makePromise(of: Void.self)
        // Whichever comes first completes it; a second completion is ignored.
        EventLoopFuture.andAllComplete(flushes, on: loop).cascade(to: finished)
        let remaining = deadline - ContinuousClock.now
        let timer = loop.scheduleTask(in: remaining.timeAmount) { finished.succeed() }
        try? await finished.futureResult.get()
        timer.cancel()
    }

    /// Binds the listener, dials the seeds, and keeps the node connected to
    /// every member until cancelled (a graceful shutdown reaches it as
    /// cancellation); then closes every connection it opened or accepted.
    ///
    /// - Throws: ``MeshError/alreadyStarted`` on a second call, or the error
    ///   binding the listener.
    public func run() async throws {
        settings.localHealth.start()
        // Jobs are taken at once by the loop below; the bound only matters if
        // a flood of gossip outpaces it (see `spawn(_:)`).
        let (jobs, spawn) = AsyncStream.makeStream(of: Job.self, bufferingPolicy: .bufferingOldest(Self.jobQueueLimit))
        try state.withLock { state in
            guard state.phase == .idle else { throw MeshError.alreadyStarted }
            state.phase = .running
            state.spawn = spawn
        }
        let server: any Channel
        do {
            server = try await bind()
        } catch {
            logger.error("mesh listener could not bind", metadata: ["address": "\(settings.listenAddress)", "error": "\(error)"])
            await shutDown(server: nil)
            throw error
        }
        let advertised = MeshAddress(
            host: settings.advertisedHost ?? settings.listenAddress.host,
            port: server.localAddress?.port ?? settings.listenAddress.port
        )
        let waiters = state.withLock { state in
            state.advertised = advertised
            defer { state.addressWaiters = [:] }
            return Array(state.addressWaiters.values)
        }
        for waiter in waiters { waiter.resume(returning: advertised) }
        logger.info("mesh listening", metadata: ["address": "\(advertised)"])
        settings.onListening?(advertised)

        for seed in settings.seeds where seed != advertised {
            self.spawn { [self] in await runSeed(seed) }
        }
        self.spawn { [self] in await runGossipTicker() }
        // PubSub already turns a graceful shutdown into cancellation; this does
        // the same when the adapter is run directly in a ServiceGroup.
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                // Ends when run() is cancelled (AsyncStream iteration is cancellation-aware).
                for await job in jobs {
                    group.addTask { await job() }
                }
                group.cancelAll()
            }
        }
        await shutDown(server: server)
    }

    // MARK: Lifecycle

    private func bind() async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.writeBufferWaterMark, value: settings.writeBufferWaterMark)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try configure(channel, role: .listener, lane: 0, established: nil)
                }
            }
            .bind(host: settings.listenAddress.host, port: settings.listenAddress.port)
            .get()
    }

    /// Adds the mesh's handlers to a new connection's pipeline.
    func configure(_ channel: any Channel, role: MeshRole, lane: Int, established: EventLoopPromise<MeshEstablished>?) throws {
        let limit = MeshFrameLimit(maximum: MeshFrameLimit.handshake)
        try channel.pipeline.syncOperations.addHandlers([
            IdleStateHandler(
                readTimeout: settings.livenessTimeout.timeAmount,
                writeTimeout: settings.heartbeatInterval.timeAmount
            ),
            MeshConnectionHandler(mesh: self, role: role, lane: lane, limit: limit, established: established),
        ])
    }

    /// Closes everything `run()` opened and ends the membership sequences.
    private func shutDown(server: (any Channel)?) async {
        let (peers, inbound, subscribers, members, waiters) = state.withLock { state in
            state.phase = .stopped
            state.spawn?.finish()
            state.spawn = nil
            defer {
                state.peers = [:]
                state.peerList = []
                state.members = [:]
                state.inbound = [:]
                state.subscribers = [:]
                state.addressWaiters = [:]
            }
            return (
                state.peerList, state.inbound.values.map(\.channel), Array(state.subscribers.values),
                Array(state.members.values), Array(state.addressWaiters.values)
            )
        }
        for waiter in waiters { waiter.resume(throwing: MeshError.notListening) }
        for peer in peers { peer.stop() }
        if let server { try? await server.close() }
        for channel in inbound { channel.close(promise: nil) }
        for channel in inbound { try? await channel.closeFuture.get() }
        for subscriber in subscribers {
            for member in members { publish(.down(member), to: subscriber) }
            subscriber.finish()
        }
        logger.info("mesh stopped")
    }

    /// Jobs waiting for `run()` to start them, at most.
    static let jobQueueLimit = 4096

    /// Runs `job` as a child of `run()`; `false` when it was not queued:
    /// `run()` is not running, or ``jobQueueLimit`` jobs wait already
    /// (counted in `combo_mesh_dropped_jobs_total`).
    @discardableResult
    func spawn(_ job: @escaping Job) -> Bool {
        guard let spawn = state.withLock({ $0.spawn }) else { return false }
        if case .enqueued = spawn.yield(job) { return true }
        metrics.jobsDropped.increment()
        return false
    }

    // MARK: Membership

    /// The hello this node sends on a new connection.
    func makeHello(role: MeshRole, lane: Int) -> MeshHello {
        let address = state.withLock { $0.advertised } ?? settings.listenAddress
        return MeshHello(role: role, pubSubName: pubSubName, node: node, address: address, poolSize: poolSize, lane: lane)
    }

    /// What this node tells others: itself and the members it is connected to.
    func currentGossip() -> MeshGossip {
        state.withLock { state in
            var members = state.members.values.sorted { $0.node.name < $1.node.name }
            if let advertised = state.advertised {
                members.insert(MeshMember(node: node, address: advertised), at: 0)
            }
            // Members first that this node is sure of; the frame must fit the peers' frame limit.
            return MeshGossip(members: members, byteLimit: settings.maximumFrameSize - MeshFrame.headerSize)
        }
    }

    /// Decides whether an authenticated inbound connection may stay; `nil` admits it.
    func admitInbound(_ hello: MeshHello, channel: any Channel) -> MeshRejection? {
        if hello.node.name == node.name { return .nameClash }
        let known = state.withLock { $0.peers[hello.node.name]?.incarnation }
        if let known, hello.node.incarnation < known { return .staleIncarnation }
        let admitted = state.withLock { state in
            guard state.phase == .running else { return false }
            state.inbound[ObjectIdentifier(channel)] = (channel, hello.node)
            return true
        }
        guard admitted else { return .unexpectedFrame }
        channel.closeFuture.whenComplete { [self] _ in
            _ = state.withLock { $0.inbound.removeValue(forKey: ObjectIdentifier(channel)) }
        }
        var address = hello.address
        // A node listening on a wildcard address without an advertised host is
        // reachable where its connection comes from.
        if Self.wildcardHosts.contains(address.host), let remote = channel.remoteAddress?.ipAddress {
            address.host = remote
        }
        learn(MeshMember(node: hello.node, address: address))
        return nil
    }

    /// Takes in gossip from an authenticated peer.
    func merge(_ gossip: MeshGossip, from sender: NodeIdentity) {
        for member in gossip.members {
            if member.node.name == node.name {
                if member.node.incarnation > node.incarnation {
                    logger.warning("a newer boot of this node's name is in the cluster", metadata: ["other": "\(member)", "via": "\(sender)"])
                }
                continue
            }
            learn(member)
        }
    }

    /// Records news about a node; a node not known yet gets a session (a task dialling it).
    func learn(_ member: MeshMember) {
        guard member.node.name != node.name else { return }
        let (known, created, superseded): (MeshPeer?, MeshPeer?, [any Channel]) = state.withLock { state in
            guard state.phase == .running else { return (nil, nil, []) }
            // The newer boot wins: connections from older boots of the name are closed.
            let superseded = state.inbound.values.filter {
                $0.node.name == member.node.name && $0.node.incarnation < member.node.incarnation
            }.map(\.channel)
            if let peer = state.peers[member.node.name] { return (peer, nil, superseded) }
            let peer = MeshPeer(member: member, limit: settings.outboundQueueLimit, metrics: metrics)
            state.peers[member.node.name] = peer
            state.peerList.append(peer)
            return (nil, peer, superseded)
        }
        // Outside the adapter's lock: closing runs handlers, which may take it.
        for channel in superseded { channel.close(promise: nil) }
        known?.observe(member)
        if let created {
            logger.debug("mesh learned a node", metadata: ["member": "\(member)"])
            // Not started: forget the node again, so that the next gossip
            // (every few heartbeats) or connection from it brings it back.
            if !spawn({ [self] in await runSession(created) }) { forget(created) }
        }
    }

    /// Drops a node that stayed unreachable for `forgetAfter`.
    func forget(_ peer: MeshPeer) {
        state.withLock { state in
            guard state.peers[peer.name] === peer else { return }
            state.peers[peer.name] = nil
            state.peerList.removeAll { $0 === peer }
        }
        peer.stop()
        logger.info("mesh forgot an unreachable node", metadata: ["peer": "\(peer.name)"])
    }

    /// Records a node up, tells the subscribers, and gossips the news.
    func nodeUp(_ member: MeshMember) {
        state.withLock { state in
            state.members[member.node.name] = member
            for subscriber in state.subscribers.values { publish(.up(member), to: subscriber) }
        }
        logger.info("mesh node up", metadata: ["member": "\(member)"])
        gossipToAll()
    }

    /// Records a node down and tells the subscribers.
    func nodeDown(_ member: MeshMember) {
        let removed = state.withLock { state in
            guard state.members[member.node.name] == member else { return false }
            state.members[member.node.name] = nil
            for subscriber in state.subscribers.values { publish(.down(member), to: subscriber) }
            return true
        }
        if removed { logger.info("mesh node down", metadata: ["member": "\(member)"]) }
    }

    /// Hands a membership event to one reader, counting it if the reader's buffer was full.
    private func publish(_ event: MeshMembershipEvent, to subscriber: AsyncStream<MeshMembershipEvent>.Continuation) {
        if case .dropped = subscriber.yield(event) { metrics.membershipEventsDropped.increment() }
    }

    /// Sends this node's gossip to every connected peer.
    func gossipToAll() {
        let gossip = currentGossip()
        let body = gossip.encoded(allocator: ByteBufferAllocator())
        for peer in state.withLock({ $0.peerList }) {
            peer.sendControl(.gossip, body: body)
        }
    }
}
