import Combo
import ComboTestKit
import Logging

/// The shared conformance suite: the behaviour every Combo adapter must have,
/// from upstream's shared and distributed pubsub tests and Combo's own
/// guarantees. `docs/CUSTOM_ADAPTER.md` shows how to run it from your package.
public struct ConformanceSuite: Sendable {
    let harness: any ConformanceHarness
    let timeout: Duration
    let logger: Logger

    /// Creates the suite for an adapter.
    ///
    /// - Parameters:
    ///   - harness: makes clusters of the adapter.
    ///   - timeout: how long any one expected event may take.
    ///   - logger: where the nodes log (nowhere by default).
    public init(
        harness: some ConformanceHarness,
        timeout: Duration = .seconds(30),
        logger: Logger = Logger(label: "combo.conformance", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.harness = harness
        self.timeout = timeout
        self.logger = logger
    }

    /// Runs one scenario on fresh nodes with the given ``PubSub/Configuration/poolSize``.
    ///
    /// - Throws: ``ConformanceFailure`` when the adapter misbehaves, or any
    ///   error the adapter or Combo throws.
    public func run(_ scenario: ConformanceScenario, poolSize: Int) async throws {
        try await ClusterFixture.with(harness: harness, timeout: timeout, logger: logger) { fixture in
            let scenarios = Scenarios(fixture: fixture, poolSize: poolSize, timeout: timeout)
            switch scenario {
            case .nodeName: try await scenarios.nodeName()
            case .subscribeAndUnsubscribe: try await scenarios.subscribeAndUnsubscribe()
            case .unsubscribeMatchingMetadata: try await scenarios.unsubscribeMatchingMetadata()
            case .duplicateSubscriptions: try await scenarios.duplicateSubscriptions()
            case .broadcastReachesEveryNode: try await scenarios.broadcastReachesEveryNode()
            case .topicsAreIsolated: try await scenarios.topicsAreIsolated()
            case .broadcastFromSkipsSender: try await scenarios.broadcastFromSkipsSender()
            case .localBroadcastStaysLocal: try await scenarios.localBroadcastStaysLocal()
            case .localBroadcastFromSkipsSender: try await scenarios.localBroadcastFromSkipsSender()
            case .directBroadcastReachesOnlyTarget: try await scenarios.directBroadcastReachesOnlyTarget()
            case .directBroadcastToOwnNode: try await scenarios.directBroadcastToOwnNode()
            case .directBroadcastToUnknownNode: try await scenarios.directBroadcastToUnknownNode()
            case .customDispatcherAcrossNodes: try await scenarios.customDispatcherAcrossNodes()
            case .configuredDefaultDispatcher: try await scenarios.configuredDefaultDispatcher()
            case .perTopicOrdering: try await scenarios.perTopicOrdering()
            case .payloadSizes: try await scenarios.payloadSizes()
            case .thousandsOfTopics: try await scenarios.thousandsOfTopics()
            case .poolSizeMigration: try await scenarios.poolSizeMigration()
            case .nodeLeavesAndRejoins: try await scenarios.nodeLeavesAndRejoins()
            case .scopeEndUnsubscribes: try await scenarios.scopeEndUnsubscribes()
            case .codablePayloadsAcrossNodes: try await scenarios.codablePayloadsAcrossNodes()
            case .trackerPresencesReplicate: try await scenarios.trackerPresencesReplicate()
            case .trackerOwnerEndLeavesEverywhere: try await scenarios.trackerOwnerEndLeavesEverywhere()
            case .trackerKilledNodeLeaves: try await scenarios.trackerKilledNodeLeaves()
            case .trackerGracefulPermdown: try await scenarios.trackerGracefulPermdown()
            case .trackerGracefulShutdownLeaves:
                try await scenarios.trackerGracefulShutdownLeaves(pubSubStopsFirst: false)
            case .trackerGracefulShutdownLeavesWhenPubSubStopsFirst:
                try await scenarios.trackerGracefulShutdownLeaves(pubSubStopsFirst: true)
            }
        }
    }
}
