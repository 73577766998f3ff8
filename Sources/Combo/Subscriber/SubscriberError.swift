/// How a ``Subscriber``'s message sequence can end with an error.
public enum SubscriberError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The buffer was full under ``OverflowPolicy/fail``: the subscriber fell
    /// behind by more than `capacity` messages and was unsubscribed.
    case slowConsumer(capacity: Int)

    public var description: String {
        switch self {
        case .slowConsumer(let capacity):
            "the subscriber fell more than \(capacity) messages behind and was unsubscribed"
        }
    }
}
