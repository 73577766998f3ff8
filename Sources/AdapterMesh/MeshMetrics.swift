import Logging
import Metrics
import Synchronization

/// The mesh's own instruments, labelled with the PubSub's name.
final class MeshMetrics: Sendable {
    private let factory: any MetricsFactory
    private let pubSubName: String
    private let rejections = Mutex<[MeshRejection: (counter: Counter, occurrences: Int)]>([:])
    /// Envelopes not handed to a connection: its queue was full, it was
    /// closing, or (a direct broadcast) no node of that name is known.
    let droppedEnvelopes: Counter
    /// Connections closed because the peer did not keep up with what was sent to it.
    let slowPeerDisconnects: Counter
    /// Connections closed because the peer stayed silent for the liveness timeout.
    let livenessTimeouts: Counter
    /// Peers not declared down (yet) because this node's own timers ran late
    /// or it had just woken from a pause (see `LocalHealth`).
    let downsDeferred: Counter
    /// Membership events a reader of `membershipEvents()` lost by falling behind.
    let membershipEventsDropped: Counter
    /// Background jobs (peer sessions) not started because too many were waiting to start.
    let jobsDropped: Counter
    /// The most bytes one connection held at once (waiting to be written to
    /// its socket), over the connections closed so far: for tests and diagnostics.
    private let peakHeld = Atomic<Int>(0)

    init(pubSubName: String, factory: any MetricsFactory) {
        self.factory = factory
        self.pubSubName = pubSubName
        droppedEnvelopes = Counter(
            label: "combo_mesh_dropped_envelopes_total", dimensions: [("pubsub", pubSubName)], factory: factory
        )
        slowPeerDisconnects = Counter(
            label: "combo_mesh_slow_peer_disconnects_total", dimensions: [("pubsub", pubSubName)], factory: factory
        )
        livenessTimeouts = Counter(
            label: "combo_mesh_liveness_timeouts_total", dimensions: [("pubsub", pubSubName)], factory: factory
        )
        downsDeferred = Counter(
            label: "combo_mesh_down_deferred_total", dimensions: [("pubsub", pubSubName)], factory: factory
        )
        membershipEventsDropped = Counter(
            label: "combo_mesh_membership_events_dropped_total", dimensions: [("pubsub", pubSubName)], factory: factory
        )
        jobsDropped = Counter(
            label: "combo_mesh_dropped_jobs_total", dimensions: [("pubsub", pubSubName)], factory: factory
        )
    }

    /// Takes in the most bytes a closing connection held at once.
    func recordPeakHeld(_ bytes: Int) {
        _ = peakHeld.max(bytes, ordering: .relaxed)
    }

    /// The most bytes one connection held at once, over the connections closed so far.
    var peakHeldBytes: Int { peakHeld.load(ordering: .relaxed) }

    /// Counts a refused connection under `combo_mesh_rejected_connections_total{reason}`
    /// and logs it at the 1st, 2nd, 4th, 8th… occurrence of each reason, so a
    /// flood of bad connections cannot flood the log.
    func rejected(_ reason: MeshRejection, logger: Logger) {
        let (counter, occurrences) = rejections.withLock { counters in
            let counter = counters[reason]?.counter ?? Counter(
                label: "combo_mesh_rejected_connections_total",
                dimensions: [("pubsub", pubSubName), ("reason", reason.rawValue)],
                factory: factory
            )
            let occurrences = (counters[reason]?.occurrences ?? 0) + 1
            counters[reason] = (counter, occurrences)
            return (counter, occurrences)
        }
        counter.increment()
        if occurrences & (occurrences - 1) == 0 {
            logger.warning("mesh connection refused", metadata: ["reason": "\(reason)", "occurrences": "\(occurrences)"])
        }
    }
}
