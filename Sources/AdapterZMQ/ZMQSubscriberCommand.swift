/// What the publisher thread asks of the subscriber thread, which alone may
/// touch the subscribing socket.
enum ZMQSubscriberCommand: Sendable, Hashable {
    /// Subscribe to the publishing socket at this endpoint (a peer announced itself).
    case connect(String)
    /// Stop subscribing to a peer that was learned, not configured, and left.
    case disconnect(String)
}
