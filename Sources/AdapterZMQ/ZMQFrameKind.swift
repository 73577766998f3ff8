/// What a Combo ZeroMQ message carries, after its topic and header.
enum ZMQFrameKind: UInt8, Sendable {
    /// An envelope of `docs/WIRE.md`, for the `InboundReceiver`.
    case envelope = 1
    /// Peer topology: a node confirms that it holds the recipient's
    /// subscriptions, and lists the peers it knows.
    case welcome = 2
}
