import NIOCore

/// An ``Adapter`` that can tell when the transport has taken a broadcast:
/// what ``PubSub/confirmedBroadcast(_:to:from:dispatcher:)`` needs.
///
/// ``Adapter/broadcast(_:shard:)`` returns once the envelope is queued, and
/// a queued envelope can still be lost with its connection. A confirmed
/// broadcast returns only once the transport has answered for it (for Redis,
/// the reply to its `PUBLISH`), with what the transport reported, and throws
/// when it cannot get that answer. It costs a round trip to the transport,
/// so it is for the messages whose sender must know, not for every message.
public protocol ConfirmingAdapter: Adapter {
    /// Sends an encoded envelope to every other node of the cluster, like
    /// ``Adapter/broadcast(_:shard:)``, in order with the broadcasts on the
    /// same `shard`, and returns once the transport has confirmed it.
    ///
    /// - Returns: the transport's receipt.
    /// - Throws: when the envelope could not be handed over, or the transport
    ///   did not confirm it (the connection was lost first, the transport
    ///   refused it). The envelope may then have been delivered or not.
    nonisolated(nonsending) func confirmedBroadcast(_ envelope: ByteBuffer, shard: Int) async throws -> BroadcastReceipt
}
