import ComboTestKit
import CoreMetrics
import Testing
import Logging
import Synchronization
@testable import Combo

/// PubSubs on an in-memory cluster, each with a running Tracker, stopped at the
/// end of ``with(nodes:poolSize:configure:_:)`` whatever happens.
struct TrackerTestCluster {
    let pubsubs: [PubSub]
    let trackers: [Tracker]

    /// A down period far beyond any test, so a starved heartbeat on a busy
    /// machine never makes a node look down in the middle of a test.
    static func configuration(poolSize: Int) -> Tracker.Configuration {
        Tracker.Configuration(
            name: "test", poolSize: poolSize, broadcastPeriod: .milliseconds(20), maxSilentPeriods: 2,
            downPeriod: .seconds(30), permdownPeriod: .seconds(120))
    }

    static func with(
        nodes count: Int, poolSize: Int = 1, handlers: [(any TrackerHandler)?] = [],
        configuration trackerConfiguration: Tracker.Configuration? = nil,
        metricsFactory: (any MetricsFactory)? = nil,
        _ body: (TrackerTestCluster) async throws -> Void
    ) async throws {
        let cluster = InMemoryCluster()
        let logger = Logger(label: "combo.test.tracker")
        var pubsubs: [PubSub] = []
        var trackers: [Tracker] = []
        for index in 0..<count {
            let pubsub = try PubSub(configuration: .init(name: "test"), adapter: cluster.node(try NodeName("n\(index)")), logger: logger)
            pubsubs.append(pubsub)
            trackers.append(try Tracker(
                configuration: trackerConfiguration ?? configuration(poolSize: poolSize), pubsub: pubsub,
                handler: index < handlers.count ? handlers[index] : nil, logger: logger, metricsFactory: metricsFactory))
        }
        let tasks = zip(pubsubs, trackers).map { pubsub, tracker in
            Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await pubsub.run() }
                    group.addTask { try await tracker.run() }
                    try await group.waitForAll()
                }
            }
        }
        defer { tasks.forEach { $0.cancel() } }
        try await cluster.waitForMembers(Set(pubsubs.map(\.nodeName)))
        try await body(TrackerTestCluster(pubsubs: pubsubs, trackers: trackers))
        tasks.forEach { $0.cancel() }
        for task in tasks { _ = await task.result }
    }
}

/// Waits until `condition` holds, failing after `timeout`.
func eventually(
    _ what: String, timeout: Duration = .seconds(30), sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("\(what) did not happen within \(timeout)", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        try await Task.sleep(for: .milliseconds(5))
    }
}

/// A handler that keeps every diff it is given.
final class RecordingHandler: TrackerHandler {
    let diffs = Mutex<[PresenceDiff]>([])

    func handleDiff(_ diff: PresenceDiff) async {
        diffs.withLock { $0.append(diff) }
    }
}
