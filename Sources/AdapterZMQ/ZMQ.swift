import Combo
import CZMQ

/// The configuration of a node whose cluster talks over ZeroMQ PUB/SUB: what
/// you pass to `PubSub.init`.
///
/// ```swift
/// // Brokerless peers: each node binds, and knows at least one other node.
/// let zmq = ZMQ(nodeName: "web-2", topology: .peers(bind: "tcp://10.0.0.2:5560", peers: ["tcp://10.0.0.1:5560"]))
/// // Or through a proxy that `combo zmq-proxy` runs.
/// let viaProxy = ZMQ(nodeName: "web-2", topology: .forwarder(xsub: "tcp://10.0.0.9:5560", xpub: "tcp://10.0.0.9:5561"))
/// let pubsub = try PubSub(configuration: .init(name: "chat"), adapter: zmq)
/// ```
///
/// | option | default |
/// | --- | --- |
/// | ``nodeName`` | required |
/// | ``topology`` | required |
/// | ``channelPrefix`` | `"combo"` |
/// | ``sendHighWaterMark`` / ``receiveHighWaterMark`` | 100,000 messages |
/// | ``curve`` | none |
/// | ``reconnectInterval`` / ``reconnectIntervalMax`` | 100 ms / 5 s |
/// | ``heartbeatInterval`` / ``heartbeatTimeout`` | 1 s / 5 s |
/// | ``sendQueueCapacity`` | 16,384 envelopes |
/// | ``inboundLaneCapacity`` | 65,536 envelopes |
///
/// Every node of a cluster uses the same ``channelPrefix`` and PubSub name;
/// together they make the topics that keep clusters sharing a proxy apart.
/// `docs/ADAPTER_ZMQ.md` describes the sockets, threads and messages.
public struct ZMQ: AdapterFactory {
    /// The node's cluster-unique name.
    public var nodeName: NodeName
    /// How the cluster's nodes are connected.
    public var topology: ZMQTopology
    /// The first part of every topic, so several clusters can share a proxy.
    public var channelPrefix: String
    /// Messages queued for one subscriber before newer ones are dropped
    /// (`ZMQ_SNDHWM`; 0 for no limit). libzmq's default of 1,000 drops most of
    /// any sizable burst; 100,000 holds a burst of that many envelopes per
    /// peer, at a memory cost of that many queued envelopes when a peer stalls.
    /// Drops show up as sequence gaps at the receiver.
    public var sendHighWaterMark: Int
    /// Messages queued on the subscribing socket before libzmq stops reading
    /// (`ZMQ_RCVHWM`; 0 for no limit); the sender's high-water mark then drops.
    public var receiveHighWaterMark: Int
    /// CURVE encryption and authentication; `nil` for none.
    public var curve: ZMQCurve?
    /// The first delay before reconnecting a lost or refused connection (`ZMQ_RECONNECT_IVL`).
    public var reconnectInterval: Duration
    /// The longest reconnection delay; the delay doubles up to it (`ZMQ_RECONNECT_IVL_MAX`).
    public var reconnectIntervalMax: Duration
    /// How often ZMTP heartbeats are sent on an idle connection (`ZMQ_HEARTBEAT_IVL`).
    public var heartbeatInterval: Duration
    /// How long a connection may stay silent after a heartbeat before it is
    /// closed and reconnected (`ZMQ_HEARTBEAT_TIMEOUT`): a stopped peer or proxy.
    public var heartbeatTimeout: Duration
    /// Envelopes queued between the broadcasting tasks and the socket's thread.
    /// A broadcast that finds it full waits briefly for room, then throws
    /// ``ZMQError/sendQueueFull``.
    public var sendQueueCapacity: Int
    /// Received envelopes queued per lane before newer ones are dropped
    /// (counted as `combo_zmq_inbound_dropped_total`). Lanes exist with a
    /// `poolSize` above 1; with one, the subscriber thread delivers each
    /// burst itself and nothing is queued here.
    public var inboundLaneCapacity: Int

    /// A configuration with the defaults above.
    public init(nodeName: NodeName, topology: ZMQTopology, channelPrefix: String = "combo") {
        self.nodeName = nodeName
        self.topology = topology
        self.channelPrefix = channelPrefix
        sendHighWaterMark = 100_000
        receiveHighWaterMark = 100_000
        curve = nil
        reconnectInterval = .milliseconds(100)
        reconnectIntervalMax = .seconds(5)
        heartbeatInterval = .seconds(1)
        heartbeatTimeout = .seconds(5)
        sendQueueCapacity = 16_384
        inboundLaneCapacity = 65_536
    }

    /// Checks every option.
    ///
    /// - Throws: ``ZMQConfigurationError`` naming the first invalid option.
    public func validate() throws(ZMQConfigurationError) {
        switch topology {
        case .peers(let bind, let advertise, let peers):
            try Self.checkEndpoint(bind)
            if let advertise {
                try Self.checkEndpoint(advertise)
            } else if Self.isWildcard(bind) {
                throw .advertisedEndpointRequired(bind: bind)
            }
            for peer in peers { try Self.checkEndpoint(peer) }
        case .forwarder(let xsub, let xpub):
            try Self.checkEndpoint(xsub)
            try Self.checkEndpoint(xpub)
        }
        guard !channelPrefix.isEmpty else { throw .emptyChannelPrefix }
        guard !channelPrefix.utf8.contains(0) else { throw .channelKeyContainsNUL }
        for (option, value) in [("sendHighWaterMark", sendHighWaterMark), ("receiveHighWaterMark", receiveHighWaterMark)]
        where value < 0 || value > Int(Int32.max) {
            throw .invalidHighWaterMark(option: option, value: value)
        }
        for (option, value) in [
            ("reconnectInterval", reconnectInterval), ("reconnectIntervalMax", reconnectIntervalMax),
            ("heartbeatInterval", heartbeatInterval), ("heartbeatTimeout", heartbeatTimeout),
        ] where value <= .zero {
            throw .invalidDuration(option: option)
        }
        guard (2...(1 << 24)).contains(sendQueueCapacity) else { throw .invalidSendQueueCapacity(sendQueueCapacity) }
        guard inboundLaneCapacity >= 1 else { throw .invalidInboundLaneCapacity(inboundLaneCapacity) }
        if let curve {
            guard LibZMQ.hasCurve else { throw .curveUnavailable }
            if case .peers = topology {
                guard let secret = curve.serverSecretKey else { throw .curveServerSecretKeyRequired }
                guard try ZMQCurveKeyPair(secretKey: secret).publicKey == curve.serverPublicKey else {
                    throw .curveServerKeyMismatch
                }
                guard !curve.authorizedClientKeys.isEmpty else { throw .curveNoAuthorizedClients }
            }
        }
    }

    /// Validates the configuration and makes the adapter; opens no socket.
    ///
    /// - Throws: ``ZMQConfigurationError`` for an invalid option.
    public func makeAdapter(context: AdapterContext) throws -> any Adapter {
        try validate()
        guard !context.pubSubName.utf8.contains(0) else { throw ZMQConfigurationError.channelKeyContainsNUL }
        return try ZMQAdapter(configuration: self, context: context)
    }

    static func checkEndpoint(_ endpoint: String) throws(ZMQConfigurationError) {
        guard let separator = endpoint.firstRange(of: "://"), separator.lowerBound != endpoint.startIndex,
            separator.upperBound != endpoint.endIndex, !endpoint.utf8.contains(0)
        else { throw .invalidEndpoint(endpoint) }
    }

    static func isWildcard(_ endpoint: String) -> Bool {
        guard let separator = endpoint.firstRange(of: "://") else { return false }
        let address = endpoint[separator.upperBound...]
        return address.hasPrefix("*") || address.hasPrefix("0.0.0.0") || address.hasPrefix("[::]")
            || address.hasPrefix("::")
    }
}
