/// What one step of a ``ShardCore`` produced: presences that changed, messages
/// to send and replica liveness changes. The shard applies them in order.
struct ShardEffects: Sendable {
    var diff = TrackerDiff(joins: [], leaves: [])
    var outbound: [ShardOutbound] = []
    var replicaEvents: [ReplicaEvent] = []

    mutating func append(_ other: TrackerDiff) {
        diff.joins.append(contentsOf: other.joins)
        diff.leaves.append(contentsOf: other.leaves)
    }
}
