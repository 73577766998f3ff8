/// What one step of a ``ShardCore`` produced: presences that changed, messages
/// to send and replica liveness changes. The shard applies them in order.
struct ShardEffects: Sendable {
    var diff = TrackerDiff(joins: [], leaves: [])
    var outbound: [ShardOutbound] = []
    var replicaEvents: [ReplicaEvent] = []
    /// Downs and permdowns put off because this node's own timing was unhealthy.
    var downsDeferred = 0

    mutating func append(_ other: TrackerDiff) {
        diff.joins.append(contentsOf: other.joins)
        diff.leaves.append(contentsOf: other.leaves)
    }
}
