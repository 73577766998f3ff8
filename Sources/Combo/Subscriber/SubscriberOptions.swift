/// How a ``Subscriber`` buffers messages.
public struct SubscriberOptions: Sendable, Hashable {
    /// How many messages wait for the consumer before ``overflowPolicy`` applies. At least 1.
    ///
    /// Consumers take waiting messages in batches (one lock per batch), so up to
    /// twice this many can be held in memory at a time.
    public var capacity: Int
    /// What happens to a message that arrives when the buffer is full.
    public var overflowPolicy: OverflowPolicy

    /// Creates options; the defaults keep the latest 1,024 messages.
    public init(capacity: Int = 1024, overflowPolicy: OverflowPolicy = .dropOldest) {
        self.capacity = capacity
        self.overflowPolicy = overflowPolicy
    }
}
