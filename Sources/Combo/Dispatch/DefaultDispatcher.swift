/// The built-in dispatcher: every subscription gets the message, except those
/// of the `from` subscriber. Duplicate subscriptions get it once per subscription.
public struct DefaultDispatcher: Dispatcher {
    /// The name of the built-in dispatcher (sent on the wire as an empty name).
    public static let name = "combo.default"

    public var name: String { Self.name }

    /// Creates the dispatcher.
    public init() {}

    public func dispatch(_ subscriptions: SubscriptionList, from: SubscriberID?, message: Message) -> Int {
        var delivered = 0
        if let from {
            for subscription in subscriptions where subscription.subscriber != from {
                if subscription.deliver(message) { delivered += 1 }
            }
        } else {
            for subscription in subscriptions {
                if subscription.deliver(message) { delivered += 1 }
            }
        }
        return delivered
    }
}
