import Logging
import Metrics

/// What a ``PubSub`` gives the adapter it makes.
public struct AdapterContext: Sendable {
    /// The PubSub's name; adapters use it to keep several PubSubs apart.
    public let pubSubName: String
    /// The node the adapter runs as: the factory's name with a new incarnation.
    public let node: NodeIdentity
    /// ``PubSub/Configuration/poolSize``: the lanes to run; shard `s` is received on lane `s % poolSize`.
    public let poolSize: Int
    /// ``PubSub/Configuration/effectiveBroadcastPoolSize``: the lanes this node sends on.
    public let broadcastPoolSize: Int
    /// The largest envelope to send or accept.
    public let maximumEnvelopeSize: Int
    /// Where received envelopes go.
    public let receiver: InboundReceiver
    /// The PubSub's logger.
    public let logger: Logger
    /// The PubSub's metrics factory.
    public let metricsFactory: any MetricsFactory

    /// Creates a context; ``PubSub`` does this, and so can tests of an adapter.
    public init(
        pubSubName: String,
        node: NodeIdentity,
        poolSize: Int,
        broadcastPoolSize: Int,
        maximumEnvelopeSize: Int,
        receiver: InboundReceiver,
        logger: Logger,
        metricsFactory: any MetricsFactory
    ) {
        self.pubSubName = pubSubName
        self.node = node
        self.poolSize = poolSize
        self.broadcastPoolSize = broadcastPoolSize
        self.maximumEnvelopeSize = maximumEnvelopeSize
        self.receiver = receiver
        self.logger = logger
        self.metricsFactory = metricsFactory
    }
}
