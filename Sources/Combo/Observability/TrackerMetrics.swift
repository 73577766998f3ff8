import Metrics
import Synchronization

/// The swift-metrics instruments of one ``Tracker``, labelled with its name.
///
/// | metric | meaning |
/// | --- | --- |
/// | `combo_tracker_messages_sent_total{kind}` | heartbeats, transfer requests and acks, permdowns sent |
/// | `combo_tracker_messages_received_total{kind}` | the same, received and applied |
/// | `combo_tracker_rejected_total{reason}` | messages from the network that were refused: malformed, wrong version, from a replica claiming this node's name |
/// | `combo_tracker_send_failures_total` | messages the adapter failed to send (they are repaired by later transfers) |
/// | `combo_tracker_replica_events_total{event}` | replicas seen `up`, `down` or `permdown` |
/// | `combo_tracker_joins_total` / `combo_tracker_leaves_total` | presences that appeared or went away on this node's view |
/// | `combo_tracker_ticks_deferred_total` | heartbeat ticks put off by one period because a merge held the shard |
/// | `combo_tracker_down_deferred_total` | replica downs (and permdowns) put off a tick because this node's own timers ran late or it had just woken from a pause (see `LocalHealth`) |
/// | `combo_tracker_outbound_dropped_total` | messages not queued for sending because the shard's send queue was full (repaired by later heartbeats and transfers) |
/// | `combo_tracker_handler_diffs_dropped_total` | diffs the handler lost because it fell `handlerBufferLimit` diffs behind |
/// | `combo_tracker_merge_steps_total` | steps, after the first, of full transfers merged a bounded amount at a time, the shard's lock released between them |
final class TrackerMetrics: Sendable {
    let joins: Counter
    let leaves: Counter
    let sendFailures: Counter
    let ticksDeferred: Counter
    let mergeSteps: Counter
    let downsDeferred: Counter
    let outboundDropped: Counter
    let handlerDiffsDropped: Counter
    private let counters: Mutex<[String: Counter]>
    private let factory: any MetricsFactory
    private let name: String

    init(trackerName: String, factory: any MetricsFactory) {
        self.factory = factory
        self.name = trackerName
        let dimensions = [("tracker", trackerName)]
        joins = Counter(label: "combo_tracker_joins_total", dimensions: dimensions, factory: factory)
        leaves = Counter(label: "combo_tracker_leaves_total", dimensions: dimensions, factory: factory)
        sendFailures = Counter(label: "combo_tracker_send_failures_total", dimensions: dimensions, factory: factory)
        ticksDeferred = Counter(label: "combo_tracker_ticks_deferred_total", dimensions: dimensions, factory: factory)
        mergeSteps = Counter(label: "combo_tracker_merge_steps_total", dimensions: dimensions, factory: factory)
        downsDeferred = Counter(label: "combo_tracker_down_deferred_total", dimensions: dimensions, factory: factory)
        outboundDropped = Counter(label: "combo_tracker_outbound_dropped_total", dimensions: dimensions, factory: factory)
        handlerDiffsDropped = Counter(
            label: "combo_tracker_handler_diffs_dropped_total", dimensions: dimensions, factory: factory)
        counters = Mutex([:])
    }

    func sent(_ kind: String) { counter("combo_tracker_messages_sent_total", "kind", kind).increment() }
    func received(_ kind: String) { counter("combo_tracker_messages_received_total", "kind", kind).increment() }
    func rejected(_ reason: String) { counter("combo_tracker_rejected_total", "reason", reason).increment() }
    func replicaEvent(_ event: String) { counter("combo_tracker_replica_events_total", "event", event).increment() }

    private func counter(_ label: String, _ dimension: String, _ value: String) -> Counter {
        counters.withLock { counters in
            let cacheKey = label + "|" + value
            if let counter = counters[cacheKey] { return counter }
            let counter = Counter(label: label, dimensions: [("tracker", name), (dimension, value)], factory: factory)
            counters[cacheKey] = counter
            return counter
        }
    }
}
