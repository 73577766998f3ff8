/// How the registry spreads subscriptions over its ``PubSub/Configuration/registrySize`` partitions.
///
/// The counterpart of Combo.PubSub's `:group_by` option.
public enum RegistryPartitioning: Sendable, Hashable {
    /// A subscriber's subscriptions all live in one partition (chosen by its
    /// id): subscribing contends only with that partition, and a broadcast visits
    /// every partition. The default, as upstream's `group_by: :pid`.
    case bySubscriber
    /// A topic's subscriptions all live in one partition (chosen by the
    /// topic's hash): a broadcast visits exactly one partition. As upstream's
    /// `group_by: :key`.
    case byTopic
}
