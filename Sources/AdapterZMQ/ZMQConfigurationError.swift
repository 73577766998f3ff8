/// Why a ZeroMQ configuration was refused, before any socket is made.
public enum ZMQConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// An endpoint is not of the form `transport://address` (for example `tcp://10.0.0.1:5560`).
    case invalidEndpoint(String)
    /// The peer topology binds a wildcard address (`*`, `0.0.0.0`, `::`) and no
    /// advertised endpoint says where peers can reach it.
    case advertisedEndpointRequired(bind: String)
    /// The channel prefix is empty.
    case emptyChannelPrefix
    /// The channel key (`prefix:pubsub`) contains a NUL byte, which ends keys on the wire.
    case channelKeyContainsNUL
    /// A high-water mark is negative (0 means no limit).
    case invalidHighWaterMark(option: String, value: Int)
    /// A duration that must be positive is not (named by the option).
    case invalidDuration(option: String)
    /// The send queue capacity is below 2 or above 2^24 slots.
    case invalidSendQueueCapacity(Int)
    /// The inbound lane capacity is below 1.
    case invalidInboundLaneCapacity(Int)
    /// A CURVE key is not 40 Z85 characters (or 32 bytes).
    case invalidCurveKey(String)
    /// The linked libzmq was built without CURVE.
    case curveUnavailable
    /// The peer topology serves (every node binds): CURVE needs the server's secret key there.
    case curveServerSecretKeyRequired
    /// The server secret key does not belong to the server public key.
    case curveServerKeyMismatch
    /// A node or proxy that serves with CURVE lists no authorized client key:
    /// it would refuse everyone (and libzmq without ZAP would accept everyone).
    case curveNoAuthorizedClients

    /// A sentence saying what went wrong, for logs.
    public var description: String {
        switch self {
        case .invalidEndpoint(let endpoint): "invalid ZeroMQ endpoint \(endpoint.debugDescription)"
        case .advertisedEndpointRequired(let bind):
            "binding the wildcard address \(bind) needs an advertised endpoint that peers can reach"
        case .emptyChannelPrefix: "the ZeroMQ channel prefix is empty"
        case .channelKeyContainsNUL: "the channel prefix and PubSub name must not contain a NUL byte"
        case .invalidHighWaterMark(let option, let value): "\(option) must not be negative, not \(value)"
        case .invalidDuration(let option): "\(option) must be positive"
        case .invalidSendQueueCapacity(let capacity): "sendQueueCapacity must be in 2...16777216, not \(capacity)"
        case .invalidInboundLaneCapacity(let capacity): "inboundLaneCapacity must be at least 1, not \(capacity)"
        case .invalidCurveKey(let reason): "invalid CURVE key: \(reason)"
        case .curveUnavailable: "the linked libzmq was built without CURVE"
        case .curveServerSecretKeyRequired: "CURVE in the peer topology needs the server secret key on every node"
        case .curveServerKeyMismatch: "the CURVE server secret key does not match the server public key"
        case .curveNoAuthorizedClients: "CURVE serving needs at least one authorized client key"
        }
    }
}
