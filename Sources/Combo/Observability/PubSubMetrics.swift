import Metrics
import Synchronization

/// The swift-metrics instruments of one ``PubSub``, all labelled with its name.
///
/// | metric | meaning |
/// | --- | --- |
/// | `combo_broadcasts_total{scope}` | broadcasts made on this node; scope is `cluster`, `local` or `direct` |
/// | `combo_deliveries_total` | messages put into local subscribers' buffers |
/// | `combo_dropped_total` | messages dropped by a subscriber's overflow policy |
/// | `combo_slow_consumers_total` | subscribers ended by ``OverflowPolicy/fail`` |
/// | `combo_remote_received_total` | envelopes received from other nodes and dispatched |
/// | `combo_decode_failures_total{reason}` | envelopes rejected: malformed, unknown codec or dispatcher, misdirected |
final class PubSubMetrics: Sendable {
    let clusterBroadcasts: Counter
    let localBroadcasts: Counter
    let directBroadcasts: Counter
    let deliveries: Counter
    let dropped: Counter
    let slowConsumers: Counter
    let remoteReceived: Counter
    private let decodeFailures: Mutex<[String: Counter]>
    private let factory: any MetricsFactory
    private let name: String

    init(pubSubName: String, factory: any MetricsFactory) {
        let dimensions = [("pubsub", pubSubName)]
        self.factory = factory
        self.name = pubSubName
        clusterBroadcasts = Counter(label: "combo_broadcasts_total", dimensions: dimensions + [("scope", "cluster")], factory: factory)
        localBroadcasts = Counter(label: "combo_broadcasts_total", dimensions: dimensions + [("scope", "local")], factory: factory)
        directBroadcasts = Counter(label: "combo_broadcasts_total", dimensions: dimensions + [("scope", "direct")], factory: factory)
        deliveries = Counter(label: "combo_deliveries_total", dimensions: dimensions, factory: factory)
        dropped = Counter(label: "combo_dropped_total", dimensions: dimensions, factory: factory)
        slowConsumers = Counter(label: "combo_slow_consumers_total", dimensions: dimensions, factory: factory)
        remoteReceived = Counter(label: "combo_remote_received_total", dimensions: dimensions, factory: factory)
        decodeFailures = Mutex([:])
    }

    /// Counts a rejected envelope under a short, bounded reason label.
    func decodeFailed(reason: String) {
        let counter = decodeFailures.withLock { counters in
            if let counter = counters[reason] { return counter }
            let counter = Counter(
                label: "combo_decode_failures_total",
                dimensions: [("pubsub", name), ("reason", reason)],
                factory: factory
            )
            counters[reason] = counter
            return counter
        }
        counter.increment()
    }
}
