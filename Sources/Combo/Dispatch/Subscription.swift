/// One local subscription, as a ``Dispatcher`` sees it.
public struct Subscription: Sendable {
    let entry: RegistryEntry
    let delivery: LocalDelivery

    init(entry: RegistryEntry, delivery: LocalDelivery) {
        self.entry = entry
        self.delivery = delivery
    }

    /// The subscriber that holds the subscription.
    public var subscriber: SubscriberID { entry.inbox.id }

    /// The metadata given when subscribing, if any.
    public var metadata: (any Hashable & Sendable)? { entry.metadata?.value }

    /// Puts `message` in the subscriber's buffer (or hands it to its waiting
    /// consumer), applying the subscriber's overflow policy.
    ///
    /// - Returns: whether the message was accepted: false when it was dropped
    ///   or the subscriber is closed.
    @discardableResult
    public func deliver(_ message: Message) -> Bool {
        delivery.deliver(message, to: entry.inbox)
    }
}
