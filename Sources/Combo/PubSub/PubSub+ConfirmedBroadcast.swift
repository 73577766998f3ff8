extension PubSub {
    /// Broadcasts `message` to the subscribers of `topic` on every node, like
    /// ``broadcast(_:to:from:dispatcher:)``, and returns only once the
    /// transport has confirmed it, with the transport's receipt.
    ///
    /// ``broadcast(_:to:from:dispatcher:)`` returns once the adapter has
    /// queued the envelope; a connection lost before the envelope went out
    /// loses it (counted by the adapter, not thrown). This call waits for the
    /// transport's answer instead (for Redis, the reply to the `PUBLISH`, with
    /// the number of subscriber connections that received it), which costs a
    /// round trip: use it for the messages whose sender must know. It keeps
    /// the order of the node's broadcasts on the same topic.
    ///
    /// This node's subscribers get the message once the transport has
    /// answered, as with a broadcast; when it throws, nothing was delivered
    /// locally, and other nodes may or may not have received it.
    ///
    /// - Parameters:
    ///   - from: a subscriber whose own subscriptions are skipped, on every node.
    ///   - dispatcher: the registered name of the dispatcher every node runs;
    ///     `nil` for ``Configuration/defaultDispatcher``.
    /// - Returns: the transport's ``BroadcastReceipt``; compare its
    ///   ``BroadcastReceipt/receivers`` with ``BroadcastReceipt/expectedReceivers``
    ///   to learn whether a node missed it.
    /// - Throws: ``PubSubError/confirmationUnsupported(adapter:)`` when the
    ///   adapter is not a ``ConfirmingAdapter`` (``SingleNode`` is not: with
    ///   no other node there is nothing to confirm); otherwise as
    ///   ``broadcast(_:to:from:dispatcher:)``, with the adapter's error in
    ///   ``PubSubError/adapterFailed(_:)`` when the transport did not confirm.
    public nonisolated(nonsending) func confirmedBroadcast(
        _ message: some Encodable & Sendable,
        to topic: String,
        from: SubscriberID? = nil,
        dispatcher: String? = nil
    ) async throws(PubSubError) -> BroadcastReceipt {
        let dispatcher = try resolve(dispatcher)
        guard let adapter = adapter as? any ConfirmingAdapter else {
            throw .confirmationUnsupported(adapter: "\(type(of: adapter))")
        }
        let shard = shard(of: topic)
        let envelope = try encode(
            message, kind: .broadcast, target: nil, topic: topic, shard: shard, from: from, dispatcher: dispatcher)
        let receipt: BroadcastReceipt
        do {
            receipt = try await adapter.confirmedBroadcast(envelope, shard: shard)
        } catch {
            throw .adapterFailed(error)
        }
        metrics.clusterBroadcasts.increment()
        delivery.dispatch(topic: topic, from: from, dispatcher: dispatcher) {
            localMessage(message, topic: topic, from: from)
        }
        return receipt
    }
}
