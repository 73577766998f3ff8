/// What a ZeroMQ adapter or proxy has counted since it was made: the same
/// figures as its metrics, readable without a metrics backend (by tests,
/// `combo node`, a health endpoint).
public struct ZMQStatistics: Sendable, Hashable {
    /// Messages handed to libzmq for sending (envelopes and welcomes).
    public var sent = 0
    /// Broadcasts refused: the adapter was not running or its send queue stayed full.
    public var sendFailures = 0
    /// Envelopes handed to the `InboundReceiver`.
    public var received = 0
    /// The node's own broadcasts that came back through a proxy, dropped unread.
    public var echoesDropped = 0
    /// Messages rejected before their envelope was read, by ``ZMQFrameError/reason``.
    public var rejected: [String: Int] = [:]
    /// Messages that never arrived, counted from gaps in the senders' sequence numbers.
    public var gaps = 0
    /// Messages that arrived twice (a second connection to one sender), dropped.
    public var duplicates = 0
    /// Received envelopes dropped because their lane was full.
    public var inboundDropped = 0
    /// Clients refused by this side's ZAP handler (an unknown CURVE key).
    public var authenticationFailures = 0
    /// Clients accepted by this side's ZAP handler.
    public var authenticationSuccesses = 0
    /// Handshakes of this side's sockets that failed (a server that refused its key, a protocol error).
    public var handshakeFailures = 0
    /// Connections established (handshake done) by this side's sockets.
    public var connections = 0
    /// Established connections lost.
    public var disconnections = 0
    /// Peer events a reader of ``ZMQAdapter/peerEvents()`` lost by falling behind.
    public var peerEventsDropped = 0

    /// The total of ``rejected``.
    public var totalRejected: Int { rejected.values.reduce(0, +) }
}
