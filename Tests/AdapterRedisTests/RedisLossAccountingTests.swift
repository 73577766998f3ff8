@testable import AdapterRedis
import Combo
import ComboTestKit
import Foundation
import Logging
import MetricsTestKit
import NIOCore
import ServiceLifecycle
import Synchronization
import Testing

/// Every broadcast that returned but did not arrive is counted: Redis frozen,
/// Redis killed, confirmed broadcasts, receiver counts and the graceful
/// drain. Each test starts its own `redis-server` and stops it in every case.
@Suite("Redis loss accounting")
struct RedisLossAccountingTests {
    /// Two nodes, `a` and `b`, with metrics of their own; `b`'s subscribers
    /// hold 100,000 messages. `slowB` makes `b` reconnect 0.8 to 2 s after a
    /// loss, while `a` comes back within 0.2 s: `a` then publishes while `b`
    /// is not subscribed.
    private func makeNodes(server: RedisServer, slowB: Bool = false) throws -> (a: PubSub, b: PubSub, metricsA: TestMetrics) {
        let metricsA = TestMetrics()
        let prefix = "loss-\(server.port)"
        let a = try PubSub(
            configuration: .init(name: "loss"),
            adapter: testRedis("a", server: server, prefix: prefix),
            metricsFactory: metricsA
        )
        var configurationB = PubSub.Configuration(name: "loss")
        configurationB.subscriberOptions = SubscriberOptions(capacity: 100_000)
        var redisB = testRedis("b", server: server, prefix: prefix)
        if slowB {
            redisB.reconnectBackoffBase = .milliseconds(1600)
            redisB.reconnectBackoffCap = .milliseconds(2000)
        }
        let b = try PubSub(configuration: configurationB, adapter: redisB)
        return (a, b, metricsA)
    }

    /// Waits until every node is connected and knows every other one from its hellos.
    private func waitReady(_ nodes: PubSub...) async throws {
        for node in nodes {
            let adapter = redisAdapter(of: node)
            try await withDeadline(.seconds(10), "\(node.nodeName) to connect") { await adapter.waitUntilConnected() }
            let others = Set(nodes.map(\.nodeName)).subtracting([node.nodeName])
            try await eventually("\(node.nodeName) to know \(others)") { adapter.knownNodes == others }
        }
    }

    /// The broadcasts `a` counted as lost: unconfirmed and underdelivered.
    private func counted(_ metrics: TestMetrics) -> Int64 {
        metrics.counterTotal(label: "combo_redis_unconfirmed_publishes_total")
            + metrics.counterTotal(label: "combo_redis_underdelivered_publishes_total")
    }

    /// Broadcasts `Note("load", i)` on `topic` about 100 times a second until
    /// stopped (at most 3,000), and records the `i` of those that returned
    /// without throwing.
    private final class Load: Sendable {
        let acknowledged = Mutex<[Int]>([])
        private let stopped = Atomic<Bool>(false)
        private let task = Mutex<Task<Void, Never>?>(nil)

        init(from pubsub: PubSub, topic: String) {
            let task = Task { [self] in
                for count in 0..<3_000 where !stopped.load(ordering: .relaxed) {
                    if (try? await pubsub.broadcast(Note(text: "load", count: count), to: topic)) != nil {
                        acknowledged.withLock { $0.append(count) }
                    }
                    // The pace of the load, not a synchronisation.
                    try? await Task.sleep(for: .milliseconds(10))
                }
            }
            self.task.withLock { $0 = task }
        }

        var acknowledgedCount: Int { acknowledged.withLock { $0.count } }

        /// Stops the load and waits for its last broadcast to return.
        func stop() async {
            stopped.store(true, ordering: .relaxed)
            await task.withLock { $0 }?.value
        }
    }

    /// Sends a confirmed marker after the load, waits until `probe` has it
    /// (so everything Redis delivered before it has arrived), and returns the
    /// load's counts the probe received.
    private func received(on probe: SubscriberProbe, after sender: PubSub, topic: String) async throws -> Set<Int> {
        // Redis may take a moment to be ready again: retry the marker until one is confirmed.
        try await withDeadline(.seconds(20), "a confirmed marker") {
            while (try? await sender.confirmedBroadcast(Note(text: "marker", count: 0), to: topic)) == nil {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        var counts = Set<Int>()
        while true {
            let message = try await probe.next(within: .seconds(10))
            let note = try message.decode(Note.self)
            if note.text == "marker" { return counts }
            counts.insert(note.count)
        }
    }

    @Test("Redis frozen under load: detected within 2 s by the reply timeout, every acknowledged broadcast lost is counted")
    func frozenRedisUnderLoad() async throws {
        try await withRedisServer { server in
            let (a, b, metricsA) = try makeNodes(server: server)
            try await withRunning([a, b]) {
                try await waitReady(a, b)
                let probe = SubscriberProbe(b.makeSubscriber())
                defer { probe.stop() }
                try b.subscribe(probe.subscriber, to: "load")

                let load = Load(from: a, topic: "load")
                try await eventually("a second of load") { load.acknowledgedCount >= 100 }
                let frozen = ContinuousClock.now
                server.signal(SIGSTOP)
                let detected: ContinuousClock.Instant
                do {
                    try await eventually("the reply timeout to close a connection", within: .seconds(10)) {
                        metricsA.counterTotal(label: "combo_redis_reply_timeouts_total") >= 1
                    }
                    detected = .now
                } catch {
                    server.signal(SIGCONT)
                    await load.stop()
                    throw error
                }
                server.signal(SIGCONT)
                #expect(detected - frozen < .seconds(2), "detected \(detected - frozen) after the freeze")

                try await withDeadline(.seconds(20), "the nodes to reconnect") {
                    await redisAdapter(of: a).waitUntilConnected()
                    await redisAdapter(of: b).waitUntilConnected()
                }
                let resumed = load.acknowledgedCount
                try await eventually("load after the thaw") { load.acknowledgedCount >= resumed + 50 }
                await load.stop()

                let arrived = try await received(on: probe, after: a, topic: "load")
                let lost = Set(load.acknowledged.withLock { $0 }).subtracting(arrived)
                #expect(metricsA.counterTotal(label: "combo_redis_unconfirmed_publishes_total") >= 1)
                #expect(counted(metricsA) >= lost.count, "lost \(lost.count), counted \(counted(metricsA))")
            }
        }
    }

    @Test("Redis killed and restarted under load, b resubscribing late: every acknowledged broadcast lost is counted")
    func killedRedisUnderLoad() async throws {
        try await withRedisServer { server in
            let (a, b, metricsA) = try makeNodes(server: server, slowB: true)
            try await withRunning([a, b]) {
                try await waitReady(a, b)
                let probe = SubscriberProbe(b.makeSubscriber())
                defer { probe.stop() }
                try b.subscribe(probe.subscriber, to: "load")

                let load = Load(from: a, topic: "load")
                try await eventually("a second of load") { load.acknowledgedCount >= 100 }
                await server.killHard()
                do {
                    try await withDeadline(.seconds(10), "the loss to be noticed") {
                        await redisAdapter(of: a).waitUntilUnsubscribed()
                        await redisAdapter(of: b).waitUntilUnsubscribed()
                    }
                    try await server.restart()
                    try await withDeadline(.seconds(20), "the nodes to reconnect") {
                        await redisAdapter(of: a).waitUntilConnected()
                        await redisAdapter(of: b).waitUntilConnected()
                    }
                    let resumed = load.acknowledgedCount
                    try await eventually("load after the restart") { load.acknowledgedCount >= resumed + 50 }
                } catch {
                    await load.stop()
                    throw error
                }
                await load.stop()

                let arrived = try await received(on: probe, after: a, topic: "load")
                let lost = Set(load.acknowledged.withLock { $0 }).subtracting(arrived)
                #expect(counted(metricsA) >= lost.count, "lost \(lost.count), counted \(counted(metricsA))")
            }
        }
    }

    @Test("a confirmed broadcast returns Redis' receiver count, and throws when Redis is down or frozen")
    func confirmedBroadcast() async throws {
        try await withRedisServer { server in
            let (a, b, metricsA) = try makeNodes(server: server)
            try await withRunning([a, b]) {
                try await waitReady(a, b)
                let probe = SubscriberProbe(b.makeSubscriber())
                defer { probe.stop() }
                try b.subscribe(probe.subscriber, to: "confirmed")
                let local = SubscriberProbe(a.makeSubscriber())
                defer { local.stop() }
                try a.subscribe(local.subscriber, to: "confirmed")

                let receipt = try await a.confirmedBroadcast(Note(text: "sure", count: 1), to: "confirmed")
                #expect(receipt == BroadcastReceipt(receivers: 2, expectedReceivers: 2))
                #expect(!receipt.isUnderdelivered)
                #expect(try await probe.next(within: .seconds(10)).decode(Note.self) == Note(text: "sure", count: 1))
                #expect(try await local.next(within: .seconds(10)).decode(Note.self) == Note(text: "sure", count: 1))

                // Frozen: the reply never comes, and the reply timeout ends the wait.
                server.signal(SIGSTOP)
                let outcome: Result<BroadcastReceipt, PubSubError>
                do {
                    outcome = try await withDeadline(.seconds(10), "a confirmed broadcast to a frozen Redis to end") {
                        do throws(PubSubError) {
                            return .success(try await a.confirmedBroadcast(Note(text: "frozen", count: 2), to: "confirmed"))
                        } catch {
                            return .failure(error)
                        }
                    }
                } catch {
                    server.signal(SIGCONT)
                    throw error
                }
                server.signal(SIGCONT)
                guard case .failure(.adapterFailed(let error)) = outcome else {
                    Issue.record("expected adapterFailed, got \(outcome)")
                    return
                }
                #expect(error as? RedisError == .connectionClosed)
                #expect(metricsA.counterTotal(label: "combo_redis_unconfirmed_publishes_total") >= 1)
                #expect(local.pending.isEmpty, "a broadcast that threw was delivered locally")

                // Down: refused at once.
                await server.killHard()
                try await withDeadline(.seconds(10), "the loss to be noticed") {
                    await redisAdapter(of: a).waitUntilUnsubscribed()
                }
                do {
                    _ = try await a.confirmedBroadcast(Note(text: "down", count: 3), to: "confirmed")
                    Issue.record("a confirmed broadcast with Redis down must throw")
                } catch PubSubError.adapterFailed(let error) {
                    // Refused, or accepted by a publishing connection whose loss is still being noticed.
                    #expect([.notConnected, .connectionClosed].contains(error as? RedisError))
                }
            }
        }
    }

    @Test("receiver counts: a broadcast that misses a known node, and a direct envelope to nobody, are counted")
    func underdeliveryIsCounted() async throws {
        try await withRedisServer { server in
            let (a, b, metricsA) = try makeNodes(server: server)
            let adapterA = redisAdapter(of: a)
            try await withRunning([a]) {
                // `b` runs for a while, then stops without a bye (cancelled, as after a crash).
                try await withRunning([b]) {
                    try await waitReady(a, b)
                }
                try await eventually("b's subscriber to be gone") {
                    (try? await server.subscriberCount(of: adapterA.broadcastChannel)) == 1
                }
                #expect(adapterA.knownNodes == ["b"], "b is known until it has been silent for a while")
                let receipt = try await a.confirmedBroadcast(Note(text: "missed", count: 1), to: "t")
                #expect(receipt == BroadcastReceipt(receivers: 1, expectedReceivers: 2))
                #expect(receipt.isUnderdelivered)
                #expect(metricsA.counterTotal(label: "combo_redis_underdelivered_publishes_total") == 1)
                #expect(metricsA.counterTotal(label: "combo_redis_missing_receivers_total") == 1)

                try await a.directBroadcast(Note(text: "nobody", count: 2), to: "t", on: "ghost")
                try await eventually("the direct envelope to nobody to be counted") {
                    metricsA.counterTotal(label: "combo_redis_underdelivered_publishes_total") == 2
                }
                #expect(metricsA.counterTotal(label: "combo_redis_missing_receivers_total") == 2)
                #expect(metricsA.counterTotal(label: "combo_redis_unconfirmed_publishes_total") == 0)
            }
        }
    }

    @Test("graceful shutdown drains: a burst queued behind a stalled Redis reaches the other node whole, and the node says bye")
    func gracefulShutdownDrains() async throws {
        try await withRedisServer { server in
            let metricsA = TestMetrics()
            let prefix = "drain-\(server.port)"
            var redisA = testRedis("a", server: server, prefix: prefix)
            // The stall below must not be taken for a dead Redis.
            redisA.replyTimeout = .seconds(20)
            let a = try PubSub(configuration: .init(name: "loss"), adapter: redisA, metricsFactory: metricsA)
            var configurationB = PubSub.Configuration(name: "loss")
            configurationB.subscriberOptions = SubscriberOptions(capacity: 100_000)
            var redisB = testRedis("b", server: server, prefix: prefix)
            redisB.pingTimeout = .seconds(20)
            let b = try PubSub(configuration: configurationB, adapter: redisB)
            let burst = 5_000
            try await withRunning([b]) {
                let probe = SubscriberProbe(b.makeSubscriber())
                defer { probe.stop() }
                try b.subscribe(probe.subscriber, to: "burst")
                let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
                let group = ServiceGroup(services: [a], logger: logger)
                let running = Task { try await group.run() }
                do {
                    try await waitReady(a, b)
                    // Redis stalls: the burst waits in `a`'s queue, unanswered, when the shutdown begins.
                    server.signal(SIGSTOP)
                    do {
                        for count in 0..<burst {
                            try await a.broadcast(Note(text: "burst", count: count), to: "burst")
                        }
                        await group.triggerGracefulShutdown()
                    } catch {
                        server.signal(SIGCONT)
                        throw error
                    }
                    server.signal(SIGCONT)
                    try await withDeadline(.seconds(30), "a to shut down") { try await running.value }
                } catch {
                    running.cancel()
                    _ = try? await running.value
                    throw error
                }
                let messages = try await probe.next(count: burst, within: .seconds(30))
                #expect(messages.map { try? $0.decode(Note.self).count } == Array(0..<burst))
                #expect(metricsA.counterTotal(label: "combo_redis_unconfirmed_publishes_total") == 0)
                // Sooner than the 5 s after which a silent node is forgotten.
                try await eventually("b to forget a at its bye", within: .seconds(3)) { redisAdapter(of: b).knownNodes.isEmpty }
            }
        }
    }
}
