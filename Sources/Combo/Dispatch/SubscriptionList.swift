/// The subscriptions a ``Dispatcher`` is asked to deliver to: a random-access
/// collection of ``Subscription``, valid for the duration of the call.
public struct SubscriptionList: RandomAccessCollection, Sendable {
    let entries: TopicEntries
    let delivery: LocalDelivery

    init(entries: TopicEntries, delivery: LocalDelivery) {
        self.entries = entries
        self.delivery = delivery
    }

    public var startIndex: Int { 0 }

    public var endIndex: Int { entries.count }

    public subscript(position: Int) -> Subscription {
        switch entries {
        case .one(let entry):
            precondition(position == 0, "index out of range")
            return Subscription(entry: entry, delivery: delivery)
        case .many(let many):
            return Subscription(entry: many[position], delivery: delivery)
        }
    }
}
