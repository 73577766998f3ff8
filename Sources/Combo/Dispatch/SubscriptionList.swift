/// The subscriptions a ``Dispatcher`` is asked to deliver to: a random-access
/// collection of ``Subscription``, valid for the duration of the call.
public struct SubscriptionList: RandomAccessCollection, Sendable {
    // Flattened from TopicEntries so that indexing is a plain array access.
    private let single: RegistryEntry?
    private let entries: ContiguousArray<RegistryEntry>
    private let delivery: LocalDelivery

    init(entries: TopicSnapshot, delivery: LocalDelivery) {
        switch entries {
        case .one(let entry):
            self.single = entry
            self.entries = []
        case .many(let entries):
            self.single = nil
            self.entries = entries
        }
        self.delivery = delivery
    }

    public var startIndex: Int { 0 }

    public var endIndex: Int { single == nil ? entries.count : 1 }

    public subscript(position: Int) -> Subscription {
        if let single {
            precondition(position == 0, "index out of range")
            return Subscription(entry: single, delivery: delivery)
        }
        return Subscription(entry: entries[position], delivery: delivery)
    }
}
