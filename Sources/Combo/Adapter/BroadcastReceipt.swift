/// What a transport reported about one confirmed broadcast: returned by
/// ``PubSub/confirmedBroadcast(_:to:from:dispatcher:)`` and
/// ``ConfirmingAdapter/confirmedBroadcast(_:shard:)`` once the transport has
/// answered.
///
/// The counts are the transport's, not the subscribers': a receiver is
/// whatever the transport delivers to (for Redis, a subscriber connection on
/// the broadcast channel, this node's own included), and a node that received
/// the envelope may still drop it (a full lane, a malformed payload), as with
/// every broadcast.
public struct BroadcastReceipt: Sendable, Hashable, CustomStringConvertible {
    /// How many receivers the transport says it handed the envelope to; `nil`
    /// when the transport confirms acceptance without a count.
    public var receivers: Int?
    /// How many receivers the adapter expected, from its view of the cluster;
    /// `nil` when it has none. A `receivers` count below it means that some
    /// node did not receive the envelope.
    public var expectedReceivers: Int?

    /// A receipt with the transport's counts.
    public init(receivers: Int?, expectedReceivers: Int? = nil) {
        self.receivers = receivers
        self.expectedReceivers = expectedReceivers
    }

    /// Whether the transport reached fewer receivers than expected (`false` when either count is unknown).
    public var isUnderdelivered: Bool {
        guard let receivers, let expectedReceivers else { return false }
        return receivers < expectedReceivers
    }

    public var description: String {
        "BroadcastReceipt(receivers: \(receivers.map(String.init) ?? "unknown"), expected: \(expectedReceivers.map(String.init) ?? "unknown"))"
    }
}
