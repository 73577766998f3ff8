import Metrics
import Synchronization

/// The instruments of `combo node` itself: the commands it refuses or fails
/// to carry out, and its metrics endpoint.
///
/// | metric | counts |
/// | --- | --- |
/// | `combo_node_rejected_lines_total{reason}` | input lines refused: `too_long` (over ``StandardInputLines/maximumLineLength`` bytes) or `invalid` (not a command) |
/// | `combo_node_command_failures_total{command}` | commands that were understood but failed (`error` printed) |
/// | `combo_metrics_requests_total{status}` | requests to the metrics endpoint, by the status answered |
/// | `combo_metrics_rejected_connections_total{reason}` | connections to the endpoint closed unanswered: `limit` (too many at once) or `idle` (no complete request in time) |
final class NodeMetrics: Sendable {
    private let factory: any MetricsFactory
    private let counters = Mutex<[String: Counter]>([:])

    init(factory: any MetricsFactory) {
        self.factory = factory
    }

    func rejectedLine(_ reason: String) { counter("combo_node_rejected_lines_total", "reason", reason).increment() }
    func commandFailed(_ command: String) { counter("combo_node_command_failures_total", "command", command).increment() }
    func request(status: Int) { counter("combo_metrics_requests_total", "status", "\(status)").increment() }
    func rejectedConnection(_ reason: String) {
        counter("combo_metrics_rejected_connections_total", "reason", reason).increment()
    }

    /// The counter of `label` with one dimension, made once and kept.
    private func counter(_ label: String, _ dimension: String, _ value: String) -> Counter {
        counters.withLock { counters in
            let key = label + "|" + value
            if let counter = counters[key] { return counter }
            let counter = Counter(label: label, dimensions: [(dimension, value)], factory: factory)
            counters[key] = counter
            return counter
        }
    }
}
