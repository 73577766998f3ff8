import Logging
import MetricsTestKit
import Testing
@testable import Combo

@Suite("Tracker queues are bounded")
struct TrackerBoundsTests {
    let replica = NodeIdentity(name: "bounded", incarnation: .next())

    @Test("a full send queue drops and counts what does not fit; what was queued goes out in order")
    func outboundOverflow() async throws {
        let metrics = TestMetrics()
        let configuration = Tracker.Configuration(name: "bounded")
        let shard = TrackerShard(
            number: 0, trackerName: "bounded", replica: replica, configuration: configuration,
            metrics: TrackerMetrics(trackerName: "bounded", factory: metrics),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), diffSink: nil,
            outboundLimit: 2, health: LocalHealth())
        let owner = PresenceOwnerID(node: replica, sequence: 1)
        // Each tick after a change broadcasts a heartbeat with its delta; nothing sends them.
        for index in 0..<5 {
            shard.perform { core in
                let (_, diff) = try! core.track(owner: owner, topic: "room", key: "k\(index)", values: [:])
                var effects = core.tick(now: .now)
                effects.append(diff)
                return ((), effects)
            }
        }
        #expect(metrics.counterTotal(label: "combo_tracker_outbound_dropped_total") == 3)
        // The permdown announced at the end finds the queue full too: counted, not lost silently.
        shard.finishOutbound(with: shard.inspect { $0.gracefulPermdownMessage() })
        #expect(metrics.counterTotal(label: "combo_tracker_outbound_dropped_total") == 4)
        var keys: [[String]] = []
        for await message in shard.outbound {
            guard case .broadcast(.heartbeat(_, let delta?, _)) = message else {
                Issue.record("expected a heartbeat with a delta, got \(message)")
                continue
            }
            keys.append(delta.values.values.flatMap { $0.map(\.key) }.sorted())
        }
        #expect(keys == [["k0"], ["k1"]])
    }

    @Test("a handler that falls behind loses the oldest diffs, counted")
    func handlerOverflow() async throws {
        let metrics = TestMetrics()
        let pubsub = try PubSub(configuration: .init(name: "bounded"))
        let handler = RecordingHandler()
        var configuration = Tracker.Configuration(name: "bounded")
        configuration.handlerBufferLimit = 3
        let tracker = try Tracker(configuration: configuration, pubsub: pubsub, handler: handler, metricsFactory: metrics)
        // Not running: nothing takes the diffs from the handler's queue.
        try await tracker.withOwner { owner in
            for index in 0..<10 { try owner.track(topic: "room", key: "k\(index)") }
        }
        // Ten joins, then the owner's ten leaves in one diff: 11 diffs, 3 kept.
        #expect(metrics.counterTotal(label: "combo_tracker_handler_diffs_dropped_total") == 8)
        #expect(throws: TrackerConfigurationError.invalidHandlerBufferLimit(0)) {
            var invalid = Tracker.Configuration(name: "bounded")
            invalid.handlerBufferLimit = 0
            try invalid.validate()
        }
    }
}
