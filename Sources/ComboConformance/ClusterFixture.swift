import Combo
import ComboTestKit
import Logging
import ServiceLifecycle
import Synchronization

/// The nodes of one scenario: starts each node's ``PubSub``, runs it, waits
/// until the cluster exchanges messages, and stops everything at the end.
final class ClusterFixture: Sendable {
    struct RunningNode: Sendable {
        let pubsub: PubSub
        let task: Task<Void, any Error>
    }

    struct RunningTracker: Sendable {
        let tracker: Tracker
        let task: Task<Void, any Error>
    }

    /// A node whose PubSub and Tracker run in a `ServiceGroup`, as an application runs them.
    struct RunningGroup: Sendable {
        let group: ServiceGroup
        let task: Task<Void, any Error>
    }

    let transport: any ConformanceTransport
    let timeout: Duration
    let pubSubName: String
    private let nodes = Mutex<[NodeName: RunningNode]>([:])
    private let trackers = Mutex<[NodeName: RunningTracker]>([:])
    private let groups = Mutex<[NodeName: RunningGroup]>([:])
    /// Errors thrown by nodes' `run()` other than at cancellation: an adapter failure.
    private let failures = Mutex<[String]>([])
    private let logger: Logger

    init(transport: any ConformanceTransport, timeout: Duration, pubSubName: String, logger: Logger) {
        self.transport = transport
        self.timeout = timeout
        self.pubSubName = pubSubName
        self.logger = logger
    }

    /// Runs `body` with a fixture and always stops every node and tears the transport down.
    static func with<Result: Sendable>(
        harness: any ConformanceHarness,
        timeout: Duration,
        logger: Logger,
        _ body: (ClusterFixture) async throws -> Result
    ) async throws -> Result {
        let transport = try await harness.makeCluster()
        let fixture = ClusterFixture(
            transport: transport,
            timeout: timeout,
            pubSubName: "conformance",
            logger: logger
        )
        let result: Result
        do {
            result = try await body(fixture)
        } catch {
            await fixture.stopAll()
            await transport.tearDown()
            throw fixture.nodeFailures.isEmpty ? error : ConformanceFailure("\(error); \(fixture.nodeFailures)")
        }
        await fixture.stopAll()
        await transport.tearDown()
        if !fixture.nodeFailures.isEmpty { throw ConformanceFailure(fixture.nodeFailures) }
        return result
    }

    /// The configuration every scenario starts from.
    func configuration(poolSize: Int, broadcastPoolSize: Int? = nil) -> PubSub.Configuration {
        var configuration = PubSub.Configuration(name: pubSubName, poolSize: poolSize, broadcastPoolSize: broadcastPoolSize)
        configuration.dispatchers = [TaggingDispatcher()]
        configuration.subscriberOptions = SubscriberOptions(capacity: 100_000, overflowPolicy: .fail)
        return configuration
    }

    /// Starts a node and runs its PubSub (not yet waiting for the cluster).
    func start(_ name: NodeName, configuration: PubSub.Configuration) async throws -> PubSub {
        let adapter = try await transport.adapter(for: name)
        let pubsub = try PubSub(configuration: configuration, adapter: adapter, logger: logger)
        let task = Task { [self] in
            do {
                try await pubsub.run()
            } catch is CancellationError {
            } catch {
                failures.withLock { $0.append("node \(name)'s run() failed: \(error)") }
                throw error
            }
        }
        nodes.withLock { $0[name] = RunningNode(pubsub: pubsub, task: task) }
        return pubsub
    }

    /// Starts several nodes with one configuration each and waits until they are connected.
    func startCluster(_ specs: [(NodeName, PubSub.Configuration)]) async throws -> [PubSub] {
        var pubsubs: [PubSub] = []
        for (name, configuration) in specs {
            pubsubs.append(try await start(name, configuration: configuration))
        }
        try await awaitConnected(pubsubs)
        return pubsubs
    }

    /// Starts `count` nodes named `node0`, `node1`… with the same pool size.
    func startCluster(count: Int, poolSize: Int) async throws -> [PubSub] {
        try await startCluster((0..<count).map { index in
            (try! NodeName("node\(index)"), configuration(poolSize: poolSize))
        })
    }

    /// What went wrong in nodes' `run()`, as one line ("" when nothing did).
    var nodeFailures: String { failures.withLock { $0.joined(separator: "; ") } }

    /// Stops a node: cancels its PubSub's run and waits for it to end.
    /// Starts a tracker on a running node; it stops with the node.
    func startTracker(on pubsub: PubSub, configuration: Tracker.Configuration) throws -> Tracker {
        let tracker = try Tracker(configuration: configuration, pubsub: pubsub, logger: logger)
        let name = pubsub.nodeName
        let task = Task { [self] in
            do {
                try await tracker.run()
            } catch is CancellationError {
            } catch {
                failures.withLock { $0.append("node \(name)'s tracker run() failed: \(error)") }
                throw error
            }
        }
        trackers.withLock { $0[name] = RunningTracker(tracker: tracker, task: task) }
        return tracker
    }

    /// Starts a node whose PubSub and Tracker run in one `ServiceGroup`, so
    /// that a graceful shutdown reaches them as in an application. With
    /// `trackerFirst` the services are listed tracker first, so the group
    /// shuts the PubSub down before the tracker.
    func startServiceGroup(
        _ name: NodeName, configuration: PubSub.Configuration, trackerConfiguration: Tracker.Configuration,
        trackerFirst: Bool
    ) async throws -> (PubSub, Tracker, ServiceGroup) {
        let adapter = try await transport.adapter(for: name)
        let pubsub = try PubSub(configuration: configuration, adapter: adapter, logger: logger)
        let tracker = try Tracker(configuration: trackerConfiguration, pubsub: pubsub, logger: logger)
        let services: [ServiceGroupConfiguration.ServiceConfiguration] =
            trackerFirst ? [.init(service: tracker), .init(service: pubsub)] : [.init(service: pubsub), .init(service: tracker)]
        let group = ServiceGroup(configuration: .init(services: services, logger: logger))
        let task = Task { [self] in
            do {
                try await group.run()
            } catch is CancellationError {
            } catch {
                failures.withLock { $0.append("node \(name)'s service group failed: \(error)") }
                throw error
            }
        }
        groups.withLock { $0[name] = RunningGroup(group: group, task: task) }
        return (pubsub, tracker, group)
    }

    /// Waits until the service group of `name` has ended by itself (after a
    /// graceful shutdown), within the timeout; cancels it and throws if not.
    func awaitServiceGroupEnded(_ name: NodeName) async throws {
        guard let running = groups.withLock({ $0.removeValue(forKey: name) }) else { return }
        let ended = await withTaskGroup(of: Bool.self) { race in
            race.addTask {
                _ = await running.task.result
                return true
            }
            race.addTask { [timeout] in
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await race.next() ?? false
            race.cancelAll()
            if !first { running.task.cancel() }
            return first
        }
        guard ended else {
            throw ConformanceFailure("node \(name)'s services did not stop within \(timeout) of a graceful shutdown")
        }
    }

    /// Forgets a tracker that stopped by itself (after a graceful permdown).
    func trackerStopped(on name: NodeName) async {
        guard let running = trackers.withLock({ $0.removeValue(forKey: name) }) else { return }
        _ = await running.task.result
    }

    func stop(_ name: NodeName) async {
        if let tracker = trackers.withLock({ $0.removeValue(forKey: name) }) {
            tracker.task.cancel()
            _ = await tracker.task.result
        }
        guard let node = nodes.withLock({ $0.removeValue(forKey: name) }) else { return }
        node.task.cancel()
        _ = await node.task.result
    }

    func stopAll() async {
        let allGroups = groups.withLock { groups in
            defer { groups.removeAll() }
            return Array(groups.values)
        }
        for group in allGroups { group.task.cancel() }
        for group in allGroups { _ = await group.task.result }
        let allTrackers = trackers.withLock { trackers in
            defer { trackers.removeAll() }
            return Array(trackers.values)
        }
        for tracker in allTrackers { tracker.task.cancel() }
        for tracker in allTrackers { _ = await tracker.task.result }
        let all = nodes.withLock { nodes in
            defer { nodes.removeAll() }
            return Array(nodes.values)
        }
        for node in all { node.task.cancel() }
        for node in all { _ = await node.task.result }
    }

    /// Waits until every node in `pubsubs` has received a broadcast from every
    /// other one: the adapter-neutral proof that the cluster is connected.
    ///
    /// Every node re-broadcasts a probe each round until all have heard from
    /// all; a round ends as soon as a new probe arrives, or after a short
    /// period, so a transport that needs time to connect is retried rather
    /// than waited for blindly.
    func awaitConnected(_ pubsubs: [PubSub]) async throws {
        guard pubsubs.count > 1 else { return }
        let topic = "combo.conformance.ready"
        let subscribers = pubsubs.map { $0.makeSubscriber() }
        defer { subscribers.forEach { $0.close() } }
        for (pubsub, subscriber) in zip(pubsubs, subscribers) {
            try pubsub.subscribe(subscriber, to: topic)
        }
        let probes = subscribers.map(SubscriberProbe.init)
        defer { probes.forEach { $0.stop() } }
        let names = Set(pubsubs.map(\.nodeName.rawValue))
        var heard = Array(repeating: Set<String>(), count: pubsubs.count)
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var lastError: (any Error)?
        while ContinuousClock.now < deadline {
            for pubsub in pubsubs {
                // A node whose adapter is still starting may refuse to send: retry next round.
                do {
                    try await pubsub.broadcast(
                        ReadyProbe(node: pubsub.nodeName.rawValue), to: topic, dispatcher: DefaultDispatcher.name
                    )
                } catch {
                    lastError = error
                }
            }
            for (index, probe) in probes.enumerated() {
                while let message = try? await probe.next(within: .milliseconds(index == 0 ? 50 : 1)) {
                    if let probe = try? message.decode(ReadyProbe.self) { heard[index].insert(probe.node) }
                }
            }
            let complete = zip(pubsubs, heard).allSatisfy { pubsub, heard in
                heard.union([pubsub.nodeName.rawValue]) == names
            }
            if complete { return }
        }
        throw ConformanceFailure(
            "the cluster did not connect within \(timeout): heard \(heard.map { $0.sorted() }), "
                + "last send error: \(lastError.map { "\($0)" } ?? "none"), node failures: \(nodeFailures.isEmpty ? "none" : nodeFailures)"
        )
    }
}
