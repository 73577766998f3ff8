import CZMQ

/// The options a node's sockets share, in libzmq's units, with the CURVE
/// roles of each socket.
struct ZMQSocketOptions: Sendable {
    var sendHighWaterMark: Int32
    var receiveHighWaterMark: Int32
    /// The largest frame the subscribing socket accepts (`ZMQ_MAXMSGSIZE`):
    /// the largest envelope plus the largest topic and header.
    var maximumMessageSize: Int64
    var reconnectInterval: Int32
    var reconnectIntervalMax: Int32
    var heartbeatInterval: Int32
    var heartbeatTimeout: Int32
    var curve: ZMQCurve?

    /// The largest subscription a publishing socket accepts: hellos are a few hundred bytes.
    static let maximumSubscriptionSize: Int64 = 64 * 1024

    init(configuration: ZMQ, maximumEnvelopeSize: Int, topics: ZMQTopics) {
        sendHighWaterMark = Int32(clamping: configuration.sendHighWaterMark)
        receiveHighWaterMark = Int32(clamping: configuration.receiveHighWaterMark)
        // Topic: stem, 'a', name (≤ 255), NUL; header: 3 + name (≤ 255) + 16.
        let overhead = topics.stem.count + 2 + 255 + 3 + 255 + 16
        maximumMessageSize = Int64(maximumEnvelopeSize + overhead)
        reconnectInterval = configuration.reconnectInterval.zmqMilliseconds
        reconnectIntervalMax = configuration.reconnectIntervalMax.zmqMilliseconds
        heartbeatInterval = configuration.heartbeatInterval.zmqMilliseconds
        heartbeatTimeout = configuration.heartbeatTimeout.zmqMilliseconds
        curve = configuration.curve
    }

    /// Options every socket of a node gets.
    func applyCommon(to socket: ZMQSocket) throws(ZMQError) {
        try socket.set(ZMQ_RECONNECT_IVL, reconnectInterval)
        try socket.set(ZMQ_RECONNECT_IVL_MAX, reconnectIntervalMax)
        try socket.set(ZMQ_HEARTBEAT_IVL, heartbeatInterval)
        try socket.set(ZMQ_HEARTBEAT_TIMEOUT, heartbeatTimeout)
        try socket.set(ZMQ_HEARTBEAT_TTL, heartbeatTimeout)
    }

    /// Makes `socket` a CURVE server whose clients the ZAP handler checks.
    static func applyCurveServer(secretKey: ZMQCurveKey, to socket: ZMQSocket) throws(ZMQError) {
        try socket.set(ZMQ_CURVE_SERVER, Int32(1))
        try socket.set(ZMQ_CURVE_SECRETKEY, bytes: secretKey.bytes)
        try socket.set(ZMQ_ZAP_DOMAIN, bytes: Array(ZMQAuthenticator.domain.utf8))
        // Refuse clients if the handler were ever missing (a draft option: ignored where unknown).
        _ = socket.trySet(93 /* ZMQ_ZAP_ENFORCE_DOMAIN */, 1)
    }

    /// Makes `socket` a CURVE client of the servers of `curve`.
    static func applyCurveClient(_ curve: ZMQCurve, to socket: ZMQSocket) throws(ZMQError) {
        try socket.set(ZMQ_CURVE_SERVERKEY, bytes: curve.serverPublicKey.bytes)
        try socket.set(ZMQ_CURVE_PUBLICKEY, bytes: curve.clientKeys.publicKey.bytes)
        try socket.set(ZMQ_CURVE_SECRETKEY, bytes: curve.clientKeys.secretKey.bytes)
    }
}
