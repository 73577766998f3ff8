import Atomics
import Metrics
import Synchronization

/// The instruments of an adapter or proxy, made with the PubSub's metrics
/// factory and labelled with the PubSub's name, and the same counts kept in
/// atomics for ``ZMQStatistics``.
///
/// | metric | counts |
/// | --- | --- |
/// | `combo_zmq_sent_total` | messages handed to libzmq |
/// | `combo_zmq_send_failures_total` | broadcasts refused (not running, send queue full) |
/// | `combo_zmq_unsent_at_stop_total` | envelopes still in the send queue when the adapter stopped |
/// | `combo_zmq_received_total` | envelopes handed to the receiver |
/// | `combo_zmq_echoes_dropped_total` | own broadcasts back from a proxy |
/// | `combo_zmq_rejected_total` | messages rejected before the envelope, by `reason` |
/// | `combo_zmq_gaps_total` | messages lost, from sequence gaps |
/// | `combo_zmq_duplicates_total` | messages received twice, dropped |
/// | `combo_zmq_inbound_dropped_total` | envelopes dropped because their lane was full |
/// | `combo_zmq_peer_events_dropped_total` | peer events a reader of `peerEvents()` lost by falling behind |
/// | `combo_zmq_authentication_failures_total` | clients refused by the ZAP handler |
/// | `combo_zmq_handshake_failures_total` | failed handshakes of this side's sockets |
/// | `combo_zmq_connections_total` / `combo_zmq_disconnections_total` | connections made and lost |
/// | `combo_zmq_reconnects_forced_total` | connections libzmq abandoned (a protocol error, such as an oversized frame) and the adapter re-made |
/// | `combo_zmq_ready` | gauge: 1 while the node's subscriptions are known to be in place |
final class ZMQMetrics: Sendable {
    enum Count: Int, CaseIterable {
        case sent, sendFailures, unsentAtStop, received, echoesDropped, gaps, duplicates, inboundDropped
        case authenticationFailures, authenticationSuccesses, handshakeFailures, connections, disconnections
        case reconnectsForced, peerEventsDropped

        var label: String {
            switch self {
            case .sent: "combo_zmq_sent_total"
            case .sendFailures: "combo_zmq_send_failures_total"
            case .unsentAtStop: "combo_zmq_unsent_at_stop_total"
            case .received: "combo_zmq_received_total"
            case .echoesDropped: "combo_zmq_echoes_dropped_total"
            case .gaps: "combo_zmq_gaps_total"
            case .duplicates: "combo_zmq_duplicates_total"
            case .inboundDropped: "combo_zmq_inbound_dropped_total"
            case .authenticationFailures: "combo_zmq_authentication_failures_total"
            case .authenticationSuccesses: "combo_zmq_authentication_successes_total"
            case .handshakeFailures: "combo_zmq_handshake_failures_total"
            case .connections: "combo_zmq_connections_total"
            case .disconnections: "combo_zmq_disconnections_total"
            case .reconnectsForced: "combo_zmq_reconnects_forced_total"
            case .peerEventsDropped: "combo_zmq_peer_events_dropped_total"
            }
        }
    }

    private let counters: [Counter]
    private let values: [ManagedAtomic<Int>]
    private let rejections = Mutex<[String: Int]>([:])
    private let dimensions: [(String, String)]
    private let factory: any MetricsFactory
    let ready: Gauge

    init(dimensions: [(String, String)], factory: any MetricsFactory) {
        self.dimensions = dimensions
        self.factory = factory
        counters = Count.allCases.map { Counter(label: $0.label, dimensions: dimensions, factory: factory) }
        values = Count.allCases.map { _ in ManagedAtomic(0) }
        ready = Gauge(label: "combo_zmq_ready", dimensions: dimensions, factory: factory)
    }

    func count(_ count: Count, by amount: Int = 1) {
        guard amount > 0 else { return }
        counters[count.rawValue].increment(by: Int64(amount))
        values[count.rawValue].wrappingIncrement(by: amount, ordering: .relaxed)
    }

    /// Counts a rejected message; returns how many of this reason so far.
    @discardableResult
    func reject(_ error: ZMQFrameError) -> Int {
        let reason = error.reason
        Counter(label: "combo_zmq_rejected_total", dimensions: dimensions + [("reason", reason)], factory: factory)
            .increment()
        return rejections.withLock { counts in
            counts[reason, default: 0] += 1
            return counts[reason]!
        }
    }

    var statistics: ZMQStatistics {
        func value(_ count: Count) -> Int { values[count.rawValue].load(ordering: .relaxed) }
        var statistics = ZMQStatistics()
        statistics.sent = value(.sent)
        statistics.sendFailures = value(.sendFailures)
        statistics.received = value(.received)
        statistics.echoesDropped = value(.echoesDropped)
        statistics.rejected = rejections.withLock { $0 }
        statistics.gaps = value(.gaps)
        statistics.duplicates = value(.duplicates)
        statistics.inboundDropped = value(.inboundDropped)
        statistics.authenticationFailures = value(.authenticationFailures)
        statistics.authenticationSuccesses = value(.authenticationSuccesses)
        statistics.handshakeFailures = value(.handshakeFailures)
        statistics.connections = value(.connections)
        statistics.disconnections = value(.disconnections)
        statistics.peerEventsDropped = value(.peerEventsDropped)
        return statistics
    }
}
