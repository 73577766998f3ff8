import Combo

/// The configuration of a ``ZMQProxy``: where it listens and how much it queues.
public struct ZMQProxyConfiguration: Sendable, Hashable {
    /// Where the proxy's XSUB socket binds: nodes' publishing sockets connect here.
    public var xsub: String
    /// Where the proxy's XPUB socket binds: nodes' subscribing sockets connect here.
    public var xpub: String
    /// Messages queued per connection in each direction before newer ones are
    /// dropped (`ZMQ_SNDHWM` and `ZMQ_RCVHWM`; 0 for no limit). 100,000, for
    /// the same reason as ``ZMQ/sendHighWaterMark``.
    public var highWaterMark: Int
    /// The largest frame accepted from a publisher (`ZMQ_MAXMSGSIZE`); a
    /// publisher that sends a larger one is disconnected. Set it to the
    /// cluster's maximum envelope size plus 1 KiB for topic and header.
    public var maximumMessageSize: Int
    /// The server key pair, when clients must use CURVE; `nil` for none.
    public var serverKeys: ZMQCurveKeyPair?
    /// The client public keys accepted (with ``serverKeys``), checked by the proxy's ZAP handler.
    public var authorizedClientKeys: Set<ZMQCurveKey>
    /// ZMTP heartbeats on idle connections, and how long a silent one is kept.
    public var heartbeatInterval: Duration
    /// See ``heartbeatInterval``.
    public var heartbeatTimeout: Duration

    /// A configuration with a high-water mark of 100,000 and Combo's default maximum envelope size.
    public init(xsub: String, xpub: String) {
        self.xsub = xsub
        self.xpub = xpub
        highWaterMark = 100_000
        maximumMessageSize = Envelope.defaultMaximumSize + 1024
        serverKeys = nil
        authorizedClientKeys = []
        heartbeatInterval = .seconds(1)
        heartbeatTimeout = .seconds(5)
    }

    /// Checks every option.
    ///
    /// - Throws: ``ZMQConfigurationError`` naming the first invalid option.
    public func validate() throws(ZMQConfigurationError) {
        try ZMQ.checkEndpoint(xsub)
        try ZMQ.checkEndpoint(xpub)
        guard (0...Int(Int32.max)).contains(highWaterMark) else {
            throw .invalidHighWaterMark(option: "highWaterMark", value: highWaterMark)
        }
        guard heartbeatInterval > .zero else { throw .invalidDuration(option: "heartbeatInterval") }
        guard heartbeatTimeout > .zero else { throw .invalidDuration(option: "heartbeatTimeout") }
        if serverKeys != nil {
            guard LibZMQ.hasCurve else { throw .curveUnavailable }
            guard !authorizedClientKeys.isEmpty else { throw .curveNoAuthorizedClients }
        }
    }
}
