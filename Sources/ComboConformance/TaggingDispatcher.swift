import Combo

/// The custom dispatcher of the suite: hands every subscription (including the
/// sender's) a ``Tagged`` message that shows the subscription's metadata and
/// the `from` the dispatcher was given, on whichever node it runs.
struct TaggingDispatcher: Dispatcher {
    static let name = "combo.conformance.tagging"

    var name: String { Self.name }

    func dispatch(_ subscriptions: SubscriptionList, from: SubscriberID?, message: Message) -> Int {
        var delivered = 0
        for subscription in subscriptions {
            let tagged = Tagged(metadata: subscription.metadata as? String, from: from, original: message)
            let wrapped = Message(topic: message.topic, payload: .value(tagged), from: from, origin: message.origin)
            if subscription.deliver(wrapped) { delivered += 1 }
        }
        return delivered
    }
}
