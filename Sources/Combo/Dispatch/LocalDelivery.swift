/// Puts messages into inboxes and deals with what that entails: waking a
/// waiting consumer, counting drops, unsubscribing a subscriber whose
/// overflow policy ended it.
final class LocalDelivery: Sendable {
    let registry: Registry
    let metrics: PubSubMetrics

    init(registry: Registry, metrics: PubSubMetrics) {
        self.registry = registry
        self.metrics = metrics
    }

    func deliver(_ message: Message, to inbox: Inbox) -> Bool {
        switch inbox.offer(message) {
        case .buffered:
            return true
        case .resumed(let waiter):
            waiter.resume(returning: .success(message))
            return true
        case .dropped:
            metrics.dropped.increment()
            return false
        case .overflowFailed:
            metrics.dropped.increment()
            metrics.slowConsumers.increment()
            registry.removeAll(inbox, topics: inbox.takeTopicsAfterFailure())
            return false
        case .closed:
            return false
        }
    }

    /// Runs `dispatcher` over the local subscriptions of `topic`.
    func dispatch(topic: String, message: Message, from: SubscriberID?, dispatcher: any Dispatcher) {
        var delivered = 0
        registry.forEachEntries(of: topic) { entries in
            delivered += dispatcher.dispatch(SubscriptionList(entries: entries, delivery: self), from: from, message: message)
        }
        if delivered > 0 { metrics.deliveries.increment(by: Int64(delivered)) }
    }
}
