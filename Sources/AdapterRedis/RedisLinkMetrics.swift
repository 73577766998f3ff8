import Metrics

/// The instruments of one connection (the subscriber, or one publisher); see ``RedisMetrics``.
struct RedisLinkMetrics: Sendable {
    let connects: Counter
    let reconnects: Counter
    let connectionFailures: Counter
    let disconnects: Counter
    let connected: Gauge
}
