/// A change in a remote replica's liveness, as one shard saw it (upstream's
/// `report_events_to` messages); logged and counted.
enum ReplicaEvent: Sendable, Equatable {
    case up(NodeIdentity)
    case down(NodeIdentity)
    case permdown(NodeIdentity)
}
