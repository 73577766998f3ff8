import Combo
import ComboTestKit
import MetricsTestKit
import Testing

@Suite("Subscribers")
struct SubscriberTests {
    func makePubSub(metrics: TestMetrics = TestMetrics()) throws -> PubSub {
        try PubSub(configuration: .init(name: "test"), metricsFactory: metrics)
    }

    func read(_ subscriber: Subscriber, _ count: Int) async throws -> [Int] {
        var iterator = subscriber.makeAsyncIterator()
        var values: [Int] = []
        for _ in 0..<count {
            guard let message = try await iterator.next() else { break }
            values.append(try message.decode(Int.self))
        }
        return values
    }

    @Test("dropOldest keeps the latest messages and counts the drops")
    func dropOldest() async throws {
        let metrics = TestMetrics()
        let pubsub = try makePubSub(metrics: metrics)
        let subscriber = pubsub.makeSubscriber(options: .init(capacity: 3, overflowPolicy: .dropOldest))
        try subscriber.subscribe(to: "t")
        for value in 1...5 { try pubsub.localBroadcast(value, to: "t") }
        #expect(subscriber.droppedCount == 2)
        #expect(try await read(subscriber, 3) == [3, 4, 5])
        #expect(try metrics.expectCounter("combo_dropped_total", [("pubsub", "test")]).totalValue == 2)
        #expect(try metrics.expectCounter("combo_deliveries_total", [("pubsub", "test")]).totalValue == 3)
    }

    @Test("dropNewest keeps the earliest messages")
    func dropNewest() async throws {
        let pubsub = try makePubSub()
        let subscriber = pubsub.makeSubscriber(options: .init(capacity: 3, overflowPolicy: .dropNewest))
        try subscriber.subscribe(to: "t")
        for value in 1...5 { try pubsub.localBroadcast(value, to: "t") }
        #expect(subscriber.droppedCount == 2)
        #expect(try await read(subscriber, 3) == [1, 2, 3])
    }

    @Test("fail ends the sequence with a slow-consumer error after the buffered messages, and unsubscribes")
    func failPolicy() async throws {
        let metrics = TestMetrics()
        let pubsub = try makePubSub(metrics: metrics)
        let subscriber = pubsub.makeSubscriber(options: .init(capacity: 2, overflowPolicy: .fail))
        try subscriber.subscribe(to: "t")
        for value in 1...4 { try pubsub.localBroadcast(value, to: "t") }
        #expect(pubsub.subscriptions(of: "t").isEmpty)
        var iterator = subscriber.makeAsyncIterator()
        #expect(try await iterator.next()?.decode(Int.self) == 1)
        #expect(try await iterator.next()?.decode(Int.self) == 2)
        await #expect(throws: SubscriberError.slowConsumer(capacity: 2)) { try await iterator.next() }
        #expect(try await iterator.next() == nil)
        #expect(throws: PubSubError.self) { try subscriber.subscribe(to: "t") }
        #expect(try metrics.expectCounter("combo_slow_consumers_total", [("pubsub", "test")]).totalValue == 1)
    }

    @Test("close ends a waiting consumer and removes every subscription")
    func closeEndsConsumer() async throws {
        let pubsub = try makePubSub()
        let subscriber = pubsub.makeSubscriber()
        try subscriber.subscribe(to: "a")
        try subscriber.subscribe(to: "b", metadata: 1)
        let probe = SubscriberProbe(subscriber)
        subscriber.close()
        let ending = try await probe.waitForEnd()
        #expect((try? ending.get()) != nil)
        #expect(pubsub.subscriptions(of: "a").isEmpty && pubsub.subscriptions(of: "b").isEmpty)
        #expect(subscriber.isClosed)
        subscriber.close()  // idempotent
    }

    @Test("cancelling the consuming task ends its iteration without closing the subscriber")
    func cancellation() async throws {
        let pubsub = try makePubSub()
        let subscriber = pubsub.makeSubscriber()
        try subscriber.subscribe(to: "t")
        let task = Task {
            var count = 0
            for try await _ in subscriber { count += 1 }
            return count
        }
        task.cancel()
        #expect(try await task.value == 0)
        #expect(!subscriber.isClosed)
        try pubsub.localBroadcast(1, to: "t")
        #expect(try await read(subscriber, 1) == [1])
    }

    @Test("several consumers of one subscriber share its messages, each message once")
    func sharedConsumers() async throws {
        let pubsub = try makePubSub()
        let subscriber = pubsub.makeSubscriber(options: .init(capacity: 10_000))
        try subscriber.subscribe(to: "t")
        let total = 2_000
        let values = try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<2 {
                group.addTask {
                    var seen: [Int] = []
                    for try await message in subscriber {
                        let value = try message.decode(Int.self)
                        if value < 0 { break }
                        seen.append(value)
                    }
                    return seen
                }
            }
            for value in 0..<total { try pubsub.localBroadcast(value, to: "t") }
            // One end marker per consumer.
            try pubsub.localBroadcast(-1, to: "t")
            try pubsub.localBroadcast(-1, to: "t")
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(values.sorted() == Array(0..<total))
    }

    @Test("dropping an iterator loses no message")
    func iteratorsShareTheBuffer() async throws {
        let pubsub = try makePubSub()
        let subscriber = pubsub.makeSubscriber()
        try subscriber.subscribe(to: "t")
        for value in 1...4 { try pubsub.localBroadcast(value, to: "t") }
        #expect(try await read(subscriber, 1) == [1])
        #expect(subscriber.bufferedCount == 3)
        #expect(try await read(subscriber, 3) == [2, 3, 4])
    }

    @Test("a subscriber of another PubSub is refused")
    func foreignSubscriber() throws {
        let first = try makePubSub()
        let second = try makePubSub()
        let subscriber = first.makeSubscriber()
        #expect(throws: PubSubError.self) { try second.subscribe(subscriber, to: "t") }
        #expect(second.unsubscribe(subscriber, from: "t", matching: 1) == 0)
    }

    @Test("subscriber ids are unique and carry the node")
    func identities() throws {
        let pubsub = try makePubSub()
        let ids = (0..<100).map { _ in pubsub.makeSubscriber().id }
        #expect(Set(ids).count == 100)
        #expect(ids.allSatisfy { $0.node == pubsub.node })
    }
}
