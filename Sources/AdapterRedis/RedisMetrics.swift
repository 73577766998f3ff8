import Metrics

/// The adapter's instruments, made with the PubSub's metrics factory and
/// labelled with the PubSub's name.
///
/// | metric | counts |
/// | --- | --- |
/// | `combo_redis_published_total` | envelopes handed to a publishing connection |
/// | `combo_redis_compressed_total` | of those, envelopes published compressed (``Redis/compressionLevel`` above 0 and the frame smaller) |
/// | `combo_redis_publish_failures_total` | broadcasts refused (the connection down or its queue full), and `PUBLISH` error replies |
/// | `combo_redis_unconfirmed_publishes_total` | `PUBLISH`es accepted (the broadcast returned) whose connection closed before Redis answered them: written and unanswered, or still queued |
/// | `combo_redis_underdelivered_publishes_total` | `PUBLISH`es Redis answered with fewer receivers than expected (broadcasts: this node's subscriber and every other node it knows; direct: 1) |
/// | `combo_redis_missing_receivers_total` | the receivers those `PUBLISH`es missed, summed |
/// | `combo_redis_reply_timeouts_total` | connections closed because Redis left a command unanswered for ``Redis/replyTimeout`` |
/// | `combo_redis_malformed_hellos_total` | membership messages (on the `#nodes` channel) that could not be read |
/// | `combo_redis_known_nodes` | gauge: the other nodes this node knows to be up, from their hellos |
/// | `combo_redis_connects_total` | connections established (handshake done), by `role` |
/// | `combo_redis_reconnects_total` | connections re-established after a loss, by `role` |
/// | `combo_redis_connection_failures_total` | failed connection attempts, by `role` |
/// | `combo_redis_disconnects_total` | established connections lost, by `role` |
/// | `combo_redis_ping_timeouts_total` | connections closed because Redis did not answer a `PING` in time |
/// | `combo_redis_protocol_errors_total` | replies that are not RESP or that nothing asked for |
/// | `combo_redis_inbound_dropped_total` | received envelopes dropped because their lane was full |
/// | `combo_redis_decompression_failures_total` | received compressed envelopes rejected, by `reason` (``CompressedEnvelopeError/reason``) |
/// | `combo_redis_connected` | gauge: 1 while the connection of `role` (and `index`) is up |
struct RedisMetrics: Sendable {
    let published: Counter
    let compressed: Counter
    let publishFailures: Counter
    let pingTimeouts: Counter
    let protocolErrors: Counter
    let inboundDropped: Counter
    let unconfirmed: Counter
    let underdelivered: Counter
    let missingReceivers: Counter
    let replyTimeouts: Counter
    let malformedHellos: Counter
    let knownNodes: Gauge
    private let pubSubName: String
    private let factory: any MetricsFactory

    init(pubSubName: String, factory: any MetricsFactory) {
        let dimensions = [("pubsub", pubSubName)]
        self.pubSubName = pubSubName
        self.factory = factory
        published = Counter(label: "combo_redis_published_total", dimensions: dimensions, factory: factory)
        compressed = Counter(label: "combo_redis_compressed_total", dimensions: dimensions, factory: factory)
        publishFailures = Counter(label: "combo_redis_publish_failures_total", dimensions: dimensions, factory: factory)
        pingTimeouts = Counter(label: "combo_redis_ping_timeouts_total", dimensions: dimensions, factory: factory)
        protocolErrors = Counter(label: "combo_redis_protocol_errors_total", dimensions: dimensions, factory: factory)
        inboundDropped = Counter(label: "combo_redis_inbound_dropped_total", dimensions: dimensions, factory: factory)
        unconfirmed = Counter(label: "combo_redis_unconfirmed_publishes_total", dimensions: dimensions, factory: factory)
        underdelivered = Counter(label: "combo_redis_underdelivered_publishes_total", dimensions: dimensions, factory: factory)
        missingReceivers = Counter(label: "combo_redis_missing_receivers_total", dimensions: dimensions, factory: factory)
        replyTimeouts = Counter(label: "combo_redis_reply_timeouts_total", dimensions: dimensions, factory: factory)
        malformedHellos = Counter(label: "combo_redis_malformed_hellos_total", dimensions: dimensions, factory: factory)
        knownNodes = Gauge(label: "combo_redis_known_nodes", dimensions: dimensions, factory: factory)
    }

    /// The connection instruments of one connection role ("subscriber" or "publisher").
    func link(role: String, index: Int) -> RedisLinkMetrics {
        let dimensions = [("pubsub", pubSubName), ("role", role)]
        return RedisLinkMetrics(
            connects: Counter(label: "combo_redis_connects_total", dimensions: dimensions, factory: factory),
            reconnects: Counter(label: "combo_redis_reconnects_total", dimensions: dimensions, factory: factory),
            connectionFailures: Counter(label: "combo_redis_connection_failures_total", dimensions: dimensions, factory: factory),
            disconnects: Counter(label: "combo_redis_disconnects_total", dimensions: dimensions, factory: factory),
            connected: Gauge(
                label: "combo_redis_connected",
                dimensions: dimensions + [("index", "\(index)")],
                factory: factory
            )
        )
    }
}
