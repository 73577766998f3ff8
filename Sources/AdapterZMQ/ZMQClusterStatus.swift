import Combo
import Synchronization

/// What a node knows about its cluster: which peers are up and whether its
/// own subscriptions are known to be in place (readiness). Updated by the
/// socket threads on rare events (subscriptions, welcomes, lost connections),
/// read by tasks; waiters are resumed when a predicate starts to hold.
final class ZMQClusterStatus: Sendable {
    struct Peer: Sendable {
        var incarnation: Incarnation
        var endpoint: String
        /// Its hello (its subscriptions) arrived at this node's publishing socket.
        var subscribedHere = false
        /// It welcomed this node: it holds this node's subscriptions.
        var welcomedUs = false

        var isUp: Bool { subscribedHere && welcomedUs }
    }

    struct State: Sendable {
        var running = false
        var forwarder = false
        var staticEndpoints: [String] = []
        var ownEndpoint = ""
        /// Forwarder: this node's own direct subscription came back through the proxy.
        var ownSubscriptionVisible = false
        /// Peer topology, by name.
        var peers: [NodeName: Peer] = [:]
        /// Forwarder: the nodes whose direct subscriptions are visible through the proxy.
        var visible: Set<NodeName> = []

        var isReady: Bool {
            guard running else { return false }
            if forwarder { return ownSubscriptionVisible }
            return staticEndpoints.allSatisfy { endpoint in
                endpoint == ownEndpoint || peers.values.contains { $0.endpoint == endpoint && $0.isUp }
            }
        }

        var up: [NodeName: Incarnation?] {
            if forwarder { return Dictionary(uniqueKeysWithValues: visible.map { ($0, nil) }) }
            return peers.filter(\.value.isUp).mapValues { $0.incarnation }
        }
    }

    private struct Waiter {
        let predicate: @Sendable (State) -> Bool
        let continuation: CheckedContinuation<Void, Never>
    }

    private struct Guarded {
        var state = State()
        var waiters: [UInt64: Waiter] = [:]
        var streams: [UInt64: AsyncStream<ZMQPeerEvent>.Continuation] = [:]
        var nextID: UInt64 = 0
    }

    private let guarded = Mutex(Guarded())
    private let metrics: ZMQMetrics
    /// Unread events one ``events()`` sequence may hold.
    let eventLimit: Int

    /// The default of ``eventLimit``.
    static let defaultEventLimit = 1024

    init(metrics: ZMQMetrics, eventLimit: Int = ZMQClusterStatus.defaultEventLimit) {
        self.metrics = metrics
        self.eventLimit = eventLimit
    }

    var snapshot: State { guarded.withLock { $0.state } }

    /// Changes the state, reports the peers that came up or went down, and
    /// resumes the waiters whose predicate now holds.
    func update(_ change: (inout State) -> Void) {
        let (ready, resumed) = guarded.withLock { guarded -> (Bool, [CheckedContinuation<Void, Never>]) in
            let before = guarded.state.up
            change(&guarded.state)
            let after = guarded.state.up
            var events: [ZMQPeerEvent] = []
            for (name, incarnation) in before.sorted(by: { $0.key < $1.key }) where after[name] != incarnation {
                events.append(.down(name, incarnation))
            }
            for (name, incarnation) in after.sorted(by: { $0.key < $1.key }) where before[name] != incarnation {
                events.append(.up(name, incarnation))
            }
            // Yielding under the lock keeps every subscriber's events in the order of the changes.
            for event in events {
                for stream in guarded.streams.values { publish(event, to: stream) }
            }
            let state = guarded.state
            let satisfied = guarded.waiters.filter { $0.value.predicate(state) }
            for id in satisfied.keys { guarded.waiters[id] = nil }
            return (state.isReady, satisfied.values.map(\.continuation))
        }
        metrics.ready.record(ready ? 1 : 0)
        for continuation in resumed { continuation.resume() }
    }

    /// Returns once `predicate` holds, or once the task is cancelled.
    func wait(until predicate: @escaping @Sendable (State) -> Bool) async {
        let id = guarded.withLock { guarded in
            guarded.nextID += 1
            return guarded.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = guarded.withLock { guarded -> Bool in
                    if predicate(guarded.state) || Task.isCancelled { return true }
                    guarded.waiters[id] = Waiter(predicate: predicate, continuation: continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = guarded.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.continuation.resume()
        }
    }

    /// The peers that are up now (as `up` events), then every change; at most
    /// ``eventLimit`` unread, the oldest dropped and counted beyond.
    func events() -> AsyncStream<ZMQPeerEvent> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: ZMQPeerEvent.self, bufferingPolicy: .bufferingNewest(eventLimit))
        let id = guarded.withLock { guarded in
            guarded.nextID += 1
            for (name, incarnation) in guarded.state.up.sorted(by: { $0.key < $1.key }) {
                publish(.up(name, incarnation), to: continuation)
            }
            guarded.streams[guarded.nextID] = continuation
            return guarded.nextID
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.guarded.withLock { $0.streams.removeValue(forKey: id) }
        }
        return stream
    }

    /// Hands an event to one reader, counting it if the reader's buffer was full.
    private func publish(_ event: ZMQPeerEvent, to stream: AsyncStream<ZMQPeerEvent>.Continuation) {
        if case .dropped = stream.yield(event) { metrics.count(.peerEventsDropped) }
    }
}
