/// A message a shard decided to send, queued in decision order and sent by the
/// shard's sender task outside the shard's lock.
enum ShardOutbound: Sendable {
    /// To the same shard on every other node.
    case broadcast(TrackerMessage)
    /// To the same shard on the node named `node` only.
    case direct(TrackerMessage, to: NodeName)
}
