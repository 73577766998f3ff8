import Combo
import Testing

/// Subscribes, unsubscribes, closes and broadcasts from many tasks at once,
/// then checks that the registry agrees with every subscriber: the locks
/// neither deadlock nor lose or leak a subscription.
@Suite("Concurrency stress")
struct ConcurrencyStressTests {
    @Test(
        "concurrent subscribe, unsubscribe, close and broadcast keep the registry consistent",
        arguments: [(1, RegistryPartitioning.bySubscriber), (4, .bySubscriber), (4, .byTopic)]
    )
    func consistency(registrySize: Int, partitioning: RegistryPartitioning) async throws {
        let pubsub = try PubSub(configuration: .init(
            name: "stress", poolSize: 4, registrySize: registrySize, registryPartitioning: partitioning,
            subscriberOptions: .init(capacity: 64, overflowPolicy: .dropOldest)
        ))
        let topics = (0..<8).map { "topic:\($0)" }
        let subscribers = (0..<64).map { _ in pubsub.makeSubscriber() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    var generator = SeededGenerator(seed: UInt64(worker + 1))
                    for _ in 0..<3_000 {
                        let subscriber = subscribers[Int(generator.next() % UInt64(subscribers.count))]
                        let topic = topics[Int(generator.next() % UInt64(topics.count))]
                        switch generator.next() % 10 {
                        case 0..<5: try? subscriber.subscribe(to: topic, metadata: Int(generator.next() % 3))
                        case 5..<7: subscriber.unsubscribe(from: topic)
                        case 7..<9: subscriber.unsubscribe(from: topic, matching: Int(generator.next() % 3))
                        default: if generator.next() % 20 == 0 { subscriber.close() }
                        }
                    }
                }
            }
            for broadcaster in 0..<2 {
                group.addTask {
                    for round in 0..<2_000 {
                        try pubsub.localBroadcast(round, to: topics[(round + broadcaster) % topics.count])
                    }
                }
            }
            try await group.waitForAll()
        }
        for topic in topics {
            var registered: [SubscriberID: Int] = [:]
            for entry in pubsub.subscriptions(of: topic) { registered[entry.subscriber, default: 0] += 1 }
            var expected: [SubscriberID: Int] = [:]
            for subscriber in subscribers {
                if let count = subscriber.topics[topic] { expected[subscriber.id] = count }
            }
            #expect(registered == expected, "topic \(topic)")
            #expect(subscribers.filter(\.isClosed).allSatisfy { registered[$0.id] == nil })
        }
        subscribers.forEach { $0.close() }
        for topic in topics { #expect(pubsub.subscriptions(of: topic).isEmpty) }
    }
}
