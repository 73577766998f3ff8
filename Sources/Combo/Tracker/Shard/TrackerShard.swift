import Logging
import Synchronization

/// One shard of a ``Tracker``: the topics that hash to it, their CRDT and
/// protocol (``ShardCore``) behind one lock, their read index behind another,
/// and the ordered queue of messages to send.
///
/// The queue of messages to send is bounded (``outboundLimit`` messages): it
/// is filled under the core lock, which must never wait for the network. A
/// message that finds it full is dropped and counted
/// (`combo_tracker_outbound_dropped_total`). That is safe because the
/// protocol already repairs lost messages, as it must for any adapter that
/// loses them: a peer that missed a delta sees this replica's clock ahead of
/// its own in a later heartbeat and asks for a transfer; an unanswered
/// transfer request is asked again at the next clock sample; a lost
/// permdown leaves the others to the down and permdown periods.
///
/// Everything a step decides (read-index changes, handler diffs, outgoing
/// messages) is applied before the core lock is released, so two steps can
/// never overtake each other on the way out.
final class TrackerShard: Sendable {
    let number: Int
    /// The PubSub topic the shards of this number talk on, on every node.
    let topic: String
    let readIndex = PresenceReadIndex()
    let outbound: AsyncStream<ShardOutbound>
    private let outboundContinuation: AsyncStream<ShardOutbound>.Continuation
    private let core: Mutex<ShardCore>
    private let diffSink: (@Sendable (PresenceDiff) -> Void)?
    private let metrics: TrackerMetrics
    private let logger: Logger

    /// Messages waiting to be sent, at most, by default.
    static let defaultOutboundLimit = 4096

    init(
        number: Int, trackerName: String, replica: NodeIdentity, configuration: Tracker.Configuration,
        metrics: TrackerMetrics, logger: Logger, diffSink: (@Sendable (PresenceDiff) -> Void)?,
        outboundLimit: Int = TrackerShard.defaultOutboundLimit, health: LocalHealth = .shared
    ) {
        self.number = number
        self.topic = "combo_tracker:\(trackerName):\(number)"
        health.start()
        self.core = Mutex(ShardCore(replica: replica, configuration: configuration, health: health))
        // The oldest are kept: they are sent in the order they were decided.
        (outbound, outboundContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingOldest(outboundLimit))
        self.diffSink = diffSink
        self.metrics = metrics
        var logger = logger
        logger[metadataKey: "shard"] = "\(number)"
        self.logger = logger
    }

    /// Runs `step` on the core and applies its effects in order, under the core lock.
    func perform<Result>(_ step: (inout ShardCore) throws -> (Result, ShardEffects)) rethrows -> Result {
        try core.withLock { core in
            let (result, effects) = try step(&core)
            apply(effects)
            return result
        }
    }

    /// ``perform(_:)`` if the core lock is free at once; `nil`, running
    /// nothing, while another step (a large merge) holds it.
    func performIfAvailable<Result: Sendable>(_ step: (inout ShardCore) -> (Result, ShardEffects)) -> Result? {
        core.withLockIfAvailable { core in
            let (result, effects) = step(&core)
            apply(effects)
            return result
        }
    }

    /// Reads the core without changing it (tests and diagnostics).
    func inspect<Result>(_ body: (ShardCore) -> Result) -> Result {
        core.withLock { body($0) }
    }

    private func apply(_ effects: ShardEffects) {
        for event in effects.replicaEvents {
            switch event {
            case .up(let remote):
                metrics.replicaEvent("up")
                logger.debug("replica up", metadata: ["replica": "\(remote)"])
            case .down(let remote):
                metrics.replicaEvent("down")
                logger.info("replica down", metadata: ["replica": "\(remote)"])
            case .permdown(let remote):
                metrics.replicaEvent("permdown")
                logger.info("replica permanently down", metadata: ["replica": "\(remote)"])
            }
        }
        if effects.downsDeferred > 0 {
            metrics.downsDeferred.increment(by: effects.downsDeferred)
            logger.debug("replica down detection put off: this node's own timers ran late", metadata: ["replicas": "\(effects.downsDeferred)"])
        }
        if !effects.diff.joins.isEmpty || !effects.diff.leaves.isEmpty {
            metrics.joins.increment(by: effects.diff.joins.count)
            metrics.leaves.increment(by: effects.diff.leaves.count)
            readIndex.apply(effects.diff)
            diffSink?(PresenceDiff(joins: effects.diff.joins, leaves: effects.diff.leaves))
        }
        for message in effects.outbound {
            enqueue(message)
        }
    }

    /// Queues a message to send; one that finds the queue full is dropped and counted.
    private func enqueue(_ message: ShardOutbound) {
        if case .dropped = outboundContinuation.yield(message) {
            metrics.outboundDropped.increment()
        }
    }

    /// Queues a last message and ends the outbound queue.
    func finishOutbound(with last: ShardOutbound? = nil) {
        if let last { enqueue(last) }
        outboundContinuation.finish()
    }
}
