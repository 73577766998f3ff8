import Combo

/// What ``TaggingDispatcher`` delivers.
struct Tagged: Sendable {
    let metadata: String?
    let from: SubscriberID?
    let original: Message

    /// The tagged message carried by `message`, if it is one.
    static func from(_ message: Message) -> Tagged? {
        if case .value(let value) = message.payload { return value as? Tagged }
        return nil
    }
}
