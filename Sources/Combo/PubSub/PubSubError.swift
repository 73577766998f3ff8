/// The errors of ``PubSub``'s operations.
///
/// Elixir's `{:error, reason}` returns and the `!` variants' exceptions map to
/// these thrown errors.
public enum PubSubError: Error, Sendable, CustomStringConvertible {
    /// The configuration was rejected at start.
    case invalidConfiguration(ConfigurationError)
    /// A broadcast named a dispatcher that is not registered.
    case unknownDispatcher(String)
    /// The message could not be encoded for other nodes.
    case encodingFailed(type: String, reason: String)
    /// An envelope field does not fit the wire format (topic over 65,535 bytes…).
    case invalidEnvelope(EnvelopeError)
    /// The encoded message is larger than the cluster accepts.
    case messageTooLarge(size: Int, limit: Int)
    /// The adapter could not send the message to other nodes; nothing was delivered locally.
    case adapterFailed(any Error & Sendable)
    /// The subscriber is closed and cannot subscribe.
    case subscriberClosed(SubscriberID)
    /// The subscriber belongs to another ``PubSub``.
    case foreignSubscriber(SubscriberID)
    /// ``PubSub/run()`` was called while the PubSub was already running.
    case alreadyRunning
    /// ``PubSub/confirmedBroadcast(_:to:from:dispatcher:)`` was called on a
    /// PubSub whose adapter (named by its type) is not a ``ConfirmingAdapter``;
    /// nothing was sent.
    case confirmationUnsupported(adapter: String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let error): "invalid configuration: \(error)"
        case .unknownDispatcher(let name): "no dispatcher is registered as \(name.debugDescription)"
        case .encodingFailed(let type, let reason): "could not encode a \(type): \(reason)"
        case .invalidEnvelope(let error): "cannot send: \(error)"
        case .messageTooLarge(let size, let limit): "the encoded message is \(size) bytes, over the \(limit)-byte limit"
        case .adapterFailed(let error): "broadcast failed: \(error)"
        case .subscriberClosed(let id): "subscriber \(id) is closed"
        case .foreignSubscriber(let id): "subscriber \(id) belongs to another PubSub"
        case .alreadyRunning: "the PubSub is already running"
        case .confirmationUnsupported(let adapter): "confirmed broadcasts are not supported by the adapter \(adapter)"
        }
    }
}
