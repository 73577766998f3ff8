import Logging
import Synchronization

/// One shard of a ``Tracker``: the topics that hash to it, their CRDT and
/// protocol (``ShardCore``) behind one lock, their read index behind another,
/// and the ordered queue of messages to send.
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

    init(
        number: Int, trackerName: String, replica: NodeIdentity, configuration: Tracker.Configuration,
        metrics: TrackerMetrics, logger: Logger, diffSink: (@Sendable (PresenceDiff) -> Void)?
    ) {
        self.number = number
        self.topic = "combo_tracker:\(trackerName):\(number)"
        self.core = Mutex(ShardCore(replica: replica, configuration: configuration))
        (outbound, outboundContinuation) = AsyncStream.makeStream()
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
        if !effects.diff.joins.isEmpty || !effects.diff.leaves.isEmpty {
            metrics.joins.increment(by: effects.diff.joins.count)
            metrics.leaves.increment(by: effects.diff.leaves.count)
            readIndex.apply(effects.diff)
            diffSink?(PresenceDiff(joins: effects.diff.joins, leaves: effects.diff.leaves))
        }
        for message in effects.outbound {
            outboundContinuation.yield(message)
        }
    }

    /// Queues a last message and ends the outbound queue.
    func finishOutbound(with last: ShardOutbound? = nil) {
        if let last { outboundContinuation.yield(last) }
        outboundContinuation.finish()
    }
}
