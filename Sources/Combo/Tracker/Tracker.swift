import Logging
import Metrics
import NIOCore
import ServiceLifecycle
import Synchronization

/// Presence tracking across the cluster: who is in which topic, on any node,
/// with no single source of truth (Phoenix.Tracker).
///
/// Every node runs a tracker of the same name over its ``PubSub``. Each node
/// owns the presences its owners track; the nodes replicate them as a CRDT
/// (an add-wins observed-remove set), exchanging deltas every
/// ``Configuration/broadcastPeriod`` and whole states when a replica is behind,
/// so all nodes converge after partitions, restarts and lost messages. A node
/// that goes silent has its presences hidden after ``Configuration/downPeriod``
/// and dropped after ``Configuration/permdownPeriod``.
///
/// ```swift
/// let tracker = try Tracker(configuration: .init(name: "presence"), pubsub: pubsub)
/// // run `tracker` in the ServiceGroup beside `pubsub`, then:
/// try await tracker.withOwner { owner in
///     try owner.track(topic: "room:lobby", key: "user:42", values: ["status": "online"])
///     for try await event in tracker.events(for: ["room:lobby"]) { ... }
/// } // the owner's presences leave here, on every node
/// ```
///
/// Reads (``list(_:)``, ``presences(of:key:)``) never wait behind a merge or a
/// heartbeat; writes take the shard's lock briefly.
public final class Tracker: Service, Sendable, TransportDependent {
    /// The options this tracker runs with.
    public let configuration: Configuration
    /// The PubSub the tracker talks over and whose node it runs on.
    public let pubsub: PubSub
    /// This tracker's replica: the node's name with an incarnation of its own, so
    /// a tracker restarted inside a running process is still told apart.
    public let replica: NodeIdentity

    let shards: [TrackerShard]
    private let handler: (any TrackerHandler)?
    private let handlerQueue: AsyncStream<PresenceDiff>
    private let handlerContinuation: AsyncStream<PresenceDiff>.Continuation
    private let lifecycle = Mutex(Lifecycle.idle)
    private let stopRequested = OneShotSignal()
    /// The PubSub's transport is about to close: send the leave now.
    private let transportClosing = OneShotSignal()
    /// Everything the tracker will ever send has been handed to the PubSub.
    private let outboundFinished = OneShotSignal()
    private let runFinished = OneShotSignal()
    private let nextOwner = Atomic<UInt64>(0)
    /// Numbers the messages this tracker sends in chunks.
    private let nextChunkedMessage = Atomic<UInt64>(0)
    private let metrics: TrackerMetrics
    private let logger: Logger

    private enum Lifecycle {
        case idle, running, stopped
    }

    /// Makes a tracker; nothing runs until ``run()``, but tracking and reads work
    /// at once (presences tracked before ``run()`` are announced when it starts).
    ///
    /// - Parameters:
    ///   - handler: receives every diff, in order (Elixir's `handle_diff/2`).
    ///   - metricsFactory: where counters go; the global one by default.
    /// - Throws: ``TrackerConfigurationError`` for options upstream would refuse.
    public init(
        configuration: Configuration,
        pubsub: PubSub,
        handler: (any TrackerHandler)? = nil,
        logger: Logger = Logger(label: "combo.tracker"),
        metricsFactory: (any MetricsFactory)? = nil
    ) throws(TrackerConfigurationError) {
        try configuration.validate()
        self.configuration = configuration
        self.pubsub = pubsub
        let replica = NodeIdentity(name: pubsub.node.name, incarnation: .next())
        self.replica = replica
        self.handler = handler
        var logger = logger
        logger[metadataKey: "tracker"] = "\(configuration.name)"
        self.logger = logger
        let metrics = TrackerMetrics(trackerName: configuration.name, factory: metricsFactory ?? MetricsSystem.factory)
        self.metrics = metrics
        // Bounded (see `Configuration.handlerBufferLimit`): the newest diffs are kept.
        let (queue, continuation) = AsyncStream<PresenceDiff>.makeStream(
            bufferingPolicy: .bufferingNewest(configuration.handlerBufferLimit))
        self.handlerQueue = queue
        self.handlerContinuation = continuation
        // Without a handler no diff is grouped by topic at all: that work is
        // only for the handler.
        var sink: (@Sendable (PresenceDiff) -> Void)?
        if handler != nil {
            sink = { @Sendable diff in
                if case .dropped = continuation.yield(diff) { metrics.handlerDiffsDropped.increment() }
            }
        }
        let diffSink = sink
        self.shards = (0..<configuration.poolSize).map { number in
            TrackerShard(
                number: number, trackerName: configuration.name, replica: replica, configuration: configuration,
                metrics: metrics, logger: logger, diffSink: diffSink)
        }
        pubsub.addTransportDependent(self)
    }

    // MARK: Owners

    /// Makes an owner for presences. Prefer ``withOwner(_:)``, which ends the
    /// owner's presences when the scope ends; an owner made here keeps them until
    /// ``PresenceOwner/close()`` or until its last reference goes away.
    public func makeOwner() -> PresenceOwner {
        let sequence = nextOwner.wrappingAdd(1, ordering: .relaxed).newValue
        return PresenceOwner(id: PresenceOwnerID(node: replica, sequence: sequence), tracker: self)
    }

    /// Runs `body` with a new owner and untracks all its presences when `body`
    /// returns, throws or is cancelled: the counterpart of a process whose
    /// presences leave when it exits.
    public func withOwner<Result>(_ body: (PresenceOwner) async throws -> Result) async rethrows -> Result {
        let owner = makeOwner()
        defer { owner.close() }
        return try await body(owner)
    }

    // MARK: Tracking

    /// Tracks a presence of `owner` under `topic` and `key` (Elixir's `track/5`).
    ///
    /// - Returns: the new presence's reference (`combo_ref`).
    /// - Throws: ``TrackerError/alreadyTracked(owner:topic:key:)`` if the owner
    ///   already tracks that key on that topic; ``TrackerError/foreignOwner(_:)``
    ///   for an owner of another tracker; ``TrackerError/stopped``.
    @discardableResult
    public func track(
        _ owner: PresenceOwnerID, topic: String, key: String, values: [String: PresenceValue] = [:]
    ) throws(TrackerError) -> PresenceRef {
        try checkWritable(owner)
        do {
            return try shard(for: topic).perform { core in
                let (ref, diff) = try core.track(owner: owner, topic: topic, key: key, values: values)
                var effects = ShardEffects()
                effects.append(diff)
                return (ref, effects)
            }
        } catch let error as TrackerError {
            throw error
        } catch {
            preconditionFailure("tracking threw \(error)")
        }
    }

    /// Stops tracking one presence (Elixir's `untrack/4`); nothing happens if
    /// there is none.
    public func untrack(_ owner: PresenceOwnerID, topic: String, key: String) {
        guard owner.node == replica else { return }
        shard(for: topic).perform { core in
            var effects = ShardEffects()
            effects.append(core.untrack(owner: owner, topic: topic, key: key))
            return ((), effects)
        }
    }

    /// Stops tracking every presence of `owner` (Elixir's `untrack/2`).
    public func untrackAll(_ owner: PresenceOwnerID) {
        guard owner.node == replica else { return }
        for shard in shards {
            shard.perform { core in
                var effects = ShardEffects()
                effects.append(core.untrackAll(owner: owner))
                return ((), effects)
            }
        }
    }

    /// Replaces a presence's values (Elixir's `update/5` with a map): other nodes
    /// see the old presence leave and the new one join, atomically.
    ///
    /// - Returns: the new reference; the previous one becomes `combo_ref_prev`.
    /// - Throws: ``TrackerError/noPresence(owner:topic:key:)`` when there is
    ///   nothing to update.
    @discardableResult
    public func update(
        _ owner: PresenceOwnerID, topic: String, key: String, values: [String: PresenceValue]
    ) throws(TrackerError) -> PresenceRef {
        try update(owner, topic: topic, key: key) { _ in values }
    }

    /// Updates a presence's values with a function of the current ones
    /// (Elixir's `update/5` with a function). `transform` runs under the shard's
    /// lock: keep it short and do not call the tracker from it.
    @discardableResult
    public func update(
        _ owner: PresenceOwnerID, topic: String, key: String,
        _ transform: ([String: PresenceValue]) -> [String: PresenceValue]
    ) throws(TrackerError) -> PresenceRef {
        try checkWritable(owner)
        do {
            return try shard(for: topic).perform { core in
                let (ref, diff) = try core.update(owner: owner, topic: topic, key: key, values: transform)
                var effects = ShardEffects()
                effects.append(diff)
                return (ref, effects)
            }
        } catch let error as TrackerError {
            throw error
        } catch {
            preconditionFailure("a non-throwing transform threw \(error)")
        }
    }

    // MARK: Reading

    /// The presences of `topic` on every node that is up, in no particular order
    /// (Elixir's `list/2`). Never waits behind a merge.
    public func list(_ topic: String) -> [Presence] {
        shard(for: topic).readIndex.list(topic)
    }

    /// The presences of `topic` under `key`, one per owner (Elixir's `get_by_key/3`).
    public func presences(of topic: String, key: String) -> [Presence] {
        shard(for: topic).readIndex.presences(of: topic, key: key)
    }

    /// How many presences this node lists, over all topics and nodes.
    public var presenceCount: Int {
        shards.reduce(0) { $0 + $1.readIndex.count }
    }

    /// The changes of `topics` (every topic when `nil`), starting with a snapshot
    /// of them, so nothing between listing and listening is missed.
    public func events(for topics: Set<String>? = nil) -> PresenceEvents {
        let channel = PresenceEventChannel(limit: configuration.eventBufferLimit)
        let involved: [TrackerShard] =
            topics.map { topics in
                let numbers = Set(topics.map { shardNumber(for: $0) })
                return shards.filter { numbers.contains($0.number) }
            } ?? shards
        var registrations: [(TrackerShard, UInt64)] = []
        var snapshot: [String: [Presence]] = [:]
        var closed = false
        for shard in involved {
            guard let (id, shardSnapshot) = shard.readIndex.listen(channel, topics: topics) else {
                closed = true
                break
            }
            registrations.append((shard, id))
            snapshot.merge(shardSnapshot) { first, _ in first }
        }
        channel.pushFront(.snapshot(snapshot))
        if closed { channel.finish() }
        let registered = registrations
        return PresenceEvents(channel: channel) {
            for (shard, id) in registered { shard.readIndex.stopListening(id) }
        }
    }

    // MARK: Leaving

    /// Tells every other node to drop this node's presences now, then stops the
    /// tracker (Elixir's `graceful_permdown/1`), whatever
    /// ``Configuration/permdownOnShutdown`` says. A graceful shutdown of the
    /// service does the same by default; this is for stopping the tracker
    /// alone, from code, while the rest of the process goes on.
    public func gracefulPermdown() async {
        let wasRunning = lifecycle.withLock { lifecycle in
            defer { lifecycle = .stopped }
            return lifecycle == .running
        }
        for shard in shards {
            let message = shard.inspect { $0.gracefulPermdownMessage() }
            if wasRunning {
                // The running senders deliver it after what is already queued.
                shard.finishOutbound(with: message)
            } else {
                await send(message, on: shard)
                shard.finishOutbound()
                shard.readIndex.close()
            }
        }
        if wasRunning {
            stopRequested.raise()
            await runFinished.wait()
        } else {
            handlerContinuation.finish()
            outboundFinished.raise()
        }
    }

    // MARK: Service

    /// Runs the shards: heartbeats, replication and the handler, until graceful
    /// shutdown or cancellation. With ``Configuration/permdownOnShutdown`` (the
    /// default) a graceful shutdown first tells the other nodes to drop this
    /// node's presences, and that message is out before the PubSub's
    /// transport closes, whichever of the two services stops first.
    /// Cancellation stops at once and says nothing: the others then drop this
    /// node's presences after the down period.
    ///
    /// - Throws: ``TrackerError/alreadyRunning`` or ``TrackerError/stopped``, or
    ///   the PubSub's refusal to subscribe.
    public func run() async throws {
        try lifecycle.withLock { (lifecycle) throws(TrackerError) in
            switch lifecycle {
            case .idle: lifecycle = .running
            case .running: throw .alreadyRunning
            case .stopped: throw .stopped
            }
        }
        defer {
            lifecycle.withLock { $0 = .stopped }
            for shard in shards { shard.readIndex.close() }
            handlerContinuation.finish()
            outboundFinished.raise()
            runFinished.raise()
        }
        logger.debug("tracker starting", metadata: ["replica": "\(replica)", "shards": "\(shards.count)"])
        let subscribers = shards.map { _ in
            pubsub.makeSubscriber(options: SubscriberOptions(capacity: 65_536, overflowPolicy: .dropOldest))
        }
        defer { for subscriber in subscribers { subscriber.close() } }
        for (shard, subscriber) in zip(shards, subscribers) {
            try pubsub.subscribe(subscriber, to: shard.topic)
        }
        await withTaskGroup(of: Void.self) { group in
            for (shard, subscriber) in zip(shards, subscribers) {
                group.addTask { await self.receive(on: shard, from: subscriber) }
                group.addTask { await self.heartbeats(of: shard) }
            }
            if let handler {
                let queue = handlerQueue
                group.addTask {
                    for await diff in queue { await handler.handleDiff(diff) }
                }
            }
            // The senders run apart so that, at shutdown, the other tasks can be
            // stopped while what is queued (and a permdown) still goes out.
            let senders = Task {
                await withTaskGroup(of: Void.self) { senders in
                    for (shard, subscriber) in zip(shards, subscribers) {
                        senders.addTask { await self.sendQueued(on: shard, from: subscriber.id) }
                    }
                }
            }
            let reason = await withTaskGroup(of: StopReason.self) { stop in
                stop.addTask {
                    do {
                        try await gracefulShutdown()
                        return .gracefulShutdown
                    } catch {
                        return .cancelled
                    }
                }
                stop.addTask {
                    await self.stopRequested.wait()
                    return .stopRequested
                }
                stop.addTask {
                    await self.transportClosing.wait()
                    return .transportClosing
                }
                let first = await stop.next() ?? .cancelled
                stop.cancelAll()
                return first
            }
            let announcePermdown = lifecycle.withLock { lifecycle in
                defer { lifecycle = .stopped }
                return lifecycle == .running && configuration.permdownOnShutdown && reason != .cancelled
            }
            for shard in shards {
                shard.finishOutbound(with: announcePermdown ? shard.inspect { $0.gracefulPermdownMessage() } : nil)
            }
            // What is queued goes out, within the PubSub's shutdown timeout;
            // cancellation stops it at once.
            let deadline = ContinuousClock.now + pubsub.configuration.shutdownTimeout
            await withTaskCancellationHandler {
                if await !Self.wait(for: senders, until: deadline) {
                    metrics.sendFailures.increment()
                    logger.warning(
                        "tracker messages still queued when the shutdown timeout passed were not sent",
                        metadata: ["shutdownTimeout": "\(pubsub.configuration.shutdownTimeout)"])
                }
            } onCancel: {
                senders.cancel()
            }
            outboundFinished.raise()
            if announcePermdown {
                logger.debug("tracker announced its leave", metadata: ["replica": "\(replica)"])
            }
            group.cancelAll()
            handlerContinuation.finish()
            if reason == .transportClosing {
                // The PubSub stopped first. This service still ends only when
                // it is told to, as a ServiceGroup expects of its services.
                await withTaskGroup(of: Void.self) { stop in
                    stop.addTask { try? await gracefulShutdown() }
                    stop.addTask { await self.stopRequested.wait() }
                    await stop.next()
                    stop.cancelAll()
                }
            }
        }
        logger.debug("tracker stopped", metadata: ["replica": "\(replica)"])
    }

    private enum StopReason: Sendable {
        case gracefulShutdown, stopRequested, transportClosing, cancelled
    }

    /// Waits for `task` until `deadline`; `false` when the deadline came first
    /// (the task is then cancelled).
    private static func wait(for task: Task<Void, Never>, until deadline: ContinuousClock.Instant) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await task.value
                return true
            }
            group.addTask {
                try? await Task.sleep(until: deadline)
                return false
            }
            let finished = await group.next() ?? false
            if !finished { task.cancel() }
            group.cancelAll()
            return finished
        }
    }

    // MARK: TransportDependent

    /// The PubSub is closing its transport (a graceful shutdown that reached
    /// it before this tracker): leave as this tracker's own graceful shutdown
    /// would, announcing the permdown if configured, and return once that is
    /// handed to the PubSub or at `deadline`.
    func transportWillClose(deadline: ContinuousClock.Instant) async {
        let state = lifecycle.withLock { $0 }
        guard state != .idle else { return }
        transportClosing.raise()
        await outboundFinished.wait(until: deadline)
    }

    // MARK: Internals

    func shardNumber(for topic: String) -> Int {
        shards.count == 1 ? 0 : Int(stableTopicHash(topic) % UInt32(shards.count))
    }

    private func shard(for topic: String) -> TrackerShard {
        shards[shardNumber(for: topic)]
    }

    private func checkWritable(_ owner: PresenceOwnerID) throws(TrackerError) {
        guard owner.node == replica else { throw .foreignOwner(owner) }
        if lifecycle.withLock({ $0 == .stopped }) { throw .stopped }
    }

    private func heartbeats(of shard: TrackerShard) async {
        let period = configuration.broadcastPeriod
        // A random first delay spreads the shards' heartbeats (upstream's stutter).
        let stutter = Double.random(in: 0...0.25)
        try? await Task.sleep(for: period * stutter)
        var deferred = false
        while !Task.isCancelled {
            // Waiting for a shard that a large merge holds would block one of
            // the few threads every task shares, for the whole merge. Put the
            // tick off by one period instead, but never twice in a row, so a
            // heartbeat is at most one period late.
            if deferred {
                shard.perform { core in ((), core.tick(now: .now)) }
                deferred = false
            } else if shard.performIfAvailable({ core in ((), core.tick(now: .now)) }) == nil {
                deferred = true
                metrics.ticksDeferred.increment()
            }
            try? await Task.sleep(for: period)
        }
    }

    private func receive(on shard: TrackerShard, from subscriber: Subscriber) async {
        var reassembly = TrackerReassembly()
        do {
            for try await message in subscriber {
                guard var bytes = message.bytes else {
                    metrics.rejected("not_bytes")
                    continue
                }
                var chunkSender: NodeIdentity?
                if TrackerChunk.isChunk(bytes) {
                    let chunk: TrackerChunk
                    do {
                        chunk = try TrackerChunk.decode(bytes)
                    } catch {
                        metrics.rejected(error.reason)
                        logger.warning(
                            "rejected a tracker chunk", metadata: ["origin": "\(message.origin)", "error": "\(error)"])
                        continue
                    }
                    if chunk.sender == replica { continue }
                    let outcome = reassembly.add(chunk)
                    if outcome.dropped {
                        // A chunk was lost; the protocol repairs it as any lost message.
                        metrics.rejected("chunk_gap")
                        logger.debug("dropped an unfinished chunked tracker message", metadata: ["sender": "\(chunk.sender)"])
                    }
                    guard let whole = outcome.message else { continue }
                    bytes = whole
                    chunkSender = chunk.sender
                }
                let decoded: TrackerMessage
                do {
                    decoded = try TrackerMessage.decode(bytes)
                } catch {
                    metrics.rejected(error.reason)
                    logger.warning(
                        "rejected a tracker message", metadata: ["origin": "\(message.origin)", "error": "\(error)"])
                    continue
                }
                if let chunkSender, chunkSender != decoded.sender {
                    metrics.rejected("chunk_sender_mismatch")
                    continue
                }
                guard decoded.sender.name != replica.name || decoded.sender == replica else {
                    metrics.rejected("name_clash")
                    logger.error(
                        "another node uses this node's name", metadata: ["sender": "\(decoded.sender)"])
                    continue
                }
                guard decoded.sender != replica else { continue }
                metrics.received(decoded.kindLabel)
                var merging = shard.perform { core in
                    let effects = core.receive(decoded, now: .now, mergeBudget: Self.mergeStepBudget)
                    return (core.isMerging, effects)
                }
                // A large transfer is merged in steps, the shard's lock released between them, so
                // that local writes and reads of the shard wait for one step, not the whole merge.
                while merging {
                    await Task.yield()
                    metrics.mergeSteps.increment()
                    merging = shard.perform { core in
                        let effects = core.continueMerge(budget: Self.mergeStepBudget)
                        return (core.isMerging, effects)
                    }
                }
            }
        } catch {
            logger.warning("tracker shard stopped receiving", metadata: ["error": "\(error)"])
        }
    }

    private func sendQueued(on shard: TrackerShard, from sender: SubscriberID) async {
        for await message in shard.outbound {
            await send(message, on: shard, from: sender)
        }
    }

    /// Rows scanned or presences admitted per step of a full transfer's merge.
    /// Measured on a release build: merging 100,000 presences in one go held
    /// the state for 56 ms; in steps of 1,024, no step took more than 1.8 ms.
    static let mergeStepBudget = 1024

    /// The largest piece a tracker message travels in. Messages above it are
    /// cut into chunks (see `TrackerChunk`): one envelope of a few megabytes
    /// would hold up every other message on its lane while it is written.
    static let maximumChunkSize = 1 << 20

    /// Room left in an envelope for its header (topic, node names, `from`).
    private static let envelopeHeaderAllowance = 4096

    /// How large one piece of a tracker message may be on this PubSub.
    var chunkSize: Int {
        max(1024, min(Self.maximumChunkSize, pubsub.configuration.maximumEnvelopeSize - Self.envelopeHeaderAllowance))
    }

    private func publish(_ bytes: ByteBuffer, on shard: TrackerShard, to target: NodeName?, from sender: SubscriberID?)
        async throws(PubSubError)
    {
        if let target {
            try await pubsub.directBroadcast(RawBytes(bytes), to: shard.topic, on: target, from: sender)
        } else {
            try await pubsub.broadcast(RawBytes(bytes), to: shard.topic, from: sender)
        }
    }

    private func send(_ outbound: ShardOutbound, on shard: TrackerShard, from sender: SubscriberID? = nil) async {
        let message: TrackerMessage
        let target: NodeName?
        switch outbound {
        case .broadcast(let broadcast): (message, target) = (broadcast, nil)
        case .direct(let direct, let node): (message, target) = (direct, node)
        }
        let encoded = message.encoded()
        let chunkSize = self.chunkSize
        do {
            if encoded.readableBytes <= chunkSize {
                try await publish(encoded, on: shard, to: target, from: sender)
            } else {
                let id = nextChunkedMessage.wrappingAdd(1, ordering: .relaxed).newValue
                let chunks = TrackerChunk.split(encoded, sender: replica, id: id, size: chunkSize)
                guard chunks.count <= TrackerChunk.maximumCount else {
                    throw PubSubError.messageTooLarge(size: encoded.readableBytes, limit: chunkSize * TrackerChunk.maximumCount)
                }
                // In order, on one topic: receivers append them as they come.
                for chunk in chunks {
                    try await publish(chunk.encoded(), on: shard, to: target, from: sender)
                }
                metrics.sent("chunk")
            }
            metrics.sent(message.kindLabel)
        } catch PubSubError.messageTooLarge(let size, let limit) {
            // Retrying cannot help: this shard holds more than one message carries.
            metrics.sendFailures.increment()
            logger.error(
                "a tracker message is too large to send, even in chunks; raise the PubSub's maximumEnvelopeSize or the tracker's poolSize",
                metadata: ["kind": "\(message.kindLabel)", "size": "\(size)", "limit": "\(limit)"])
        } catch {
            // Adapter outages are repaired by later heartbeats and transfers.
            metrics.sendFailures.increment()
            logger.debug("tracker message not sent", metadata: ["kind": "\(message.kindLabel)", "error": "\(error)"])
        }
    }
}
