/// One behaviour every adapter must have. Run them all with
/// ``ConformanceSuite/run(_:poolSize:)``, each as its own test case:
///
/// ```swift
/// @Test(arguments: ConformanceScenario.allCases, [1, 8])
/// func conformance(_ scenario: ConformanceScenario, poolSize: Int) async throws {
///     try await ConformanceSuite(harness: MyHarness()).run(scenario, poolSize: poolSize)
/// }
/// ```
public enum ConformanceScenario: String, CaseIterable, Sendable, CustomStringConvertible {
    /// `nodeName` is the adapter's node, and every node's name is distinct.
    case nodeName
    /// Subscribe, look up, unsubscribe; unsubscribing from a topic never subscribed is a no-op.
    case subscribeAndUnsubscribe
    /// `unsubscribe(matching:)` removes exactly the subscriptions with equal metadata.
    case unsubscribeMatchingMetadata
    /// Two subscriptions of one subscriber to one topic get each message twice, on every node.
    case duplicateSubscriptions
    /// A broadcast reaches the topic's subscribers on every node, the sender's included.
    case broadcastReachesEveryNode
    /// A broadcast reaches no subscriber of another topic.
    case topicsAreIsolated
    /// `from:` skips only the sender's subscriptions, on every node.
    case broadcastFromSkipsSender
    /// A local broadcast reaches this node's subscribers only.
    case localBroadcastStaysLocal
    /// A local broadcast with `from:` skips the sender.
    case localBroadcastFromSkipsSender
    /// A direct broadcast reaches the target node only.
    case directBroadcastReachesOnlyTarget
    /// A direct broadcast to the sending node is delivered there.
    case directBroadcastToOwnNode
    /// A direct broadcast to an unknown node is not an error and reaches nobody.
    case directBroadcastToUnknownNode
    /// A custom dispatcher runs on every node, seeing each subscription's metadata and the `from`.
    case customDispatcherAcrossNodes
    /// A configured default dispatcher is used by broadcasts that name none, on every node.
    case configuredDefaultDispatcher
    /// One node's messages on one topic arrive in order, none lost, on every node.
    case perTopicOrdering
    /// Payloads from 0 bytes to 1 MiB, raw and encoded, arrive intact.
    case payloadSizes
    /// Thousands of topics, each reaching its own subscriber on another node.
    case thousandsOfTopics
    /// Nodes with pool sizes 1, 2 (broadcasting on 1) and 2 in one cluster lose no message.
    case poolSizeMigration
    /// A node that stops is gone; restarted, it has a new incarnation and receives again.
    case nodeLeavesAndRejoins
    /// The end of a subscriber's scope removes its subscriptions.
    case scopeEndUnsubscribes
    /// Codable values sent by one node decode on another, with their origin and sender.
    case codablePayloadsAcrossNodes
    /// Presences tracked on three nodes, an update and an untrack reach every node.
    case trackerPresencesReplicate
    /// The end of an owner's scope removes its presences on every node, with leave events.
    case trackerOwnerEndLeavesEverywhere
    /// A node stopped without a goodbye has its presences dropped after the down period.
    case trackerKilledNodeLeaves
    /// `gracefulPermdown()` removes the node's presences from the others at once.
    case trackerGracefulPermdown
    /// A node whose PubSub and Tracker stop by graceful shutdown in a
    /// `ServiceGroup` (tracker stopped first) has its presences gone from the
    /// other nodes within a second, with a down period of 30 s: its leave is
    /// out before its transport closes.
    case trackerGracefulShutdownLeaves
    /// The same when the group stops the PubSub before the tracker.
    case trackerGracefulShutdownLeavesWhenPubSubStopsFirst

    public var description: String { rawValue }
}
