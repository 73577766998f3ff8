import DequeModule

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

    /// Offers `messages` to `inbox` in order, taking its lock once, and leaves
    /// `messages` empty; returns how many it took. Drops and an overflow
    /// failure are handled as ``deliver(_:to:)`` handles them.
    func deliver(_ messages: inout Inbox.Messages, to inbox: Inbox) -> Int {
        let outcome = inbox.offer(contentsOf: &messages)
        for (waiter, message) in outcome.resumed { waiter.resume(returning: .success(message)) }
        if outcome.dropped > 0 { metrics.dropped.increment(by: Int64(outcome.dropped)) }
        if outcome.failed {
            metrics.slowConsumers.increment()
            registry.removeAll(inbox, topics: inbox.takeTopicsAfterFailure())
        }
        return outcome.delivered
    }

    /// Runs `dispatcher` over the subscriptions of `topic` with `message`.
    func dispatch(topic: String, message: Message, from: SubscriberID?, dispatcher: any Dispatcher) {
        dispatch(topic: topic, from: from, dispatcher: dispatcher) { message }
    }

    /// Runs `dispatcher` over the subscriptions of `topic` with the message
    /// `makeMessage` makes, which it calls only if the topic has subscribers
    /// here: a node that broadcasts to topics it does not subscribe to
    /// allocates nothing for local delivery.
    func dispatch(topic: String, from: SubscriberID?, dispatcher: any Dispatcher, makeMessage: () -> Message) {
        var message: Message?
        var delivered = 0
        registry.forEachEntries(of: topic) { entries in
            let made = message ?? makeMessage()
            message = made
            delivered += dispatcher.dispatch(SubscriptionList(entries: entries, delivery: self), from: from, message: made)
        }
        if delivered > 0 { metrics.deliveries.increment(by: Int64(delivered)) }
    }
}
