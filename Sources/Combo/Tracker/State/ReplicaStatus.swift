/// Whether a replica's presences are visible.
///
/// A replica is down while the shard has not heard from it for its down period:
/// its presences are kept but hidden until it comes back up or is permanently
/// forgotten (``TrackerState/permdown(_:)``).
enum ReplicaStatus: Hashable, Sendable {
    /// Heard from recently; its presences are visible.
    case up
    /// Silent; its presences are hidden.
    case down
}
