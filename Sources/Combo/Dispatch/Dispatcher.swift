/// Decides which local subscriptions of a topic get a message, and what they get.
///
/// The counterpart of a Phoenix.PubSub dispatcher module. A broadcast names its
/// dispatcher (or uses the ``PubSub``'s default); the dispatcher's ``name``
/// travels with the message, and every receiving node runs its own dispatcher of
/// that name over its own subscriptions. Register the same dispatchers on every
/// node (``PubSub/Configuration/dispatchers``).
///
/// `dispatch` is called once per registry partition that holds subscriptions
/// of the topic, on the broadcasting task (for a local broadcast) or on the
/// adapter's receiving lane (for a remote one). It must not block.
public protocol Dispatcher: Sendable {
    /// The name the dispatcher is registered and sent under: 1 to 255 UTF-8 bytes, unique per ``PubSub``.
    var name: String { get }

    /// Delivers `message` to some or all of `subscriptions`.
    ///
    /// - Parameters:
    ///   - subscriptions: the topic's subscriptions in one registry partition,
    ///     each with its metadata.
    ///   - from: the subscriber that broadcast with `from:`, on whichever node it
    ///     lives, or `nil`.
    ///   - message: the message.
    /// - Returns: how many deliveries were made (for `combo_deliveries_total`).
    func dispatch(_ subscriptions: SubscriptionList, from: SubscriberID?, message: Message) -> Int
}
