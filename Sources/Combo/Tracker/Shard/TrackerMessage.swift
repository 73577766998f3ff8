/// What the shards of one tracker say to each other over the PubSub: the
/// messages of Phoenix.Tracker's shard protocol.
///
/// Every message names its sender's replica (node name and incarnation) so a
/// restarted node is told apart from its previous life.
enum TrackerMessage: Sendable, Equatable {
    /// Sent every broadcast period to all: the changes since the last heartbeat
    /// (or `nil` for an empty keep-alive), and the sender's clocks so receivers
    /// can tell whether they missed something.
    case heartbeat(sender: NodeIdentity, delta: TrackerDelta?, clocks: VersionVector)
    /// Sent to one replica whose clock dominates ours: "send me what I lack".
    case transferRequest(ref: UInt64, sender: NodeIdentity, clocks: VersionVector)
    /// The answer: the smallest delta generation covering the gap, or the whole state.
    case transferAck(ref: UInt64, sender: NodeIdentity, payload: TrackerPayload)
    /// The sender is leaving for good: drop its presences now rather than
    /// after the permdown period.
    case gracefulPermdown(sender: NodeIdentity)

    /// The replica that sent the message.
    var sender: NodeIdentity {
        switch self {
        case .heartbeat(let sender, _, _), .transferRequest(_, let sender, _), .transferAck(_, let sender, _),
            .gracefulPermdown(let sender):
            sender
        }
    }
}
