@testable import Combo
import ComboTestKit
import MetricsTestKit
import NIOCore
import Testing

@Suite("PubSub")
struct PubSubTests {
    struct Note: Codable, Sendable, Equatable {
        let text: String
    }

    @Test("local delivery never encodes; a remote broadcast encodes once")
    func encodesOnce() async throws {
        let codec = CountingCodec()
        let factory = CapturingAdapterFactory()
        let pubsub = try PubSub(configuration: .init(name: "t", codec: codec), adapter: factory)
        let subscribers = try (0..<50).map { _ in
            let subscriber = pubsub.makeSubscriber()
            try subscriber.subscribe(to: "room")
            return subscriber
        }
        try pubsub.localBroadcast(Note(text: "a"), to: "room")
        #expect(codec.encodeCount == 0)
        try await pubsub.broadcast(Note(text: "b"), to: "room")
        #expect(codec.encodeCount == 1)
        #expect(factory.adapter.sentEnvelopes.count == 1)
        #expect(subscribers.allSatisfy { $0.bufferedCount == 2 })
        try await pubsub.directBroadcast(Note(text: "c"), to: "room", on: pubsub.nodeName)
        #expect(codec.encodeCount == 1)
        #expect(factory.adapter.sentEnvelopes.count == 1)
        try await pubsub.directBroadcast(Note(text: "d"), to: "room", on: "elsewhere")
        #expect(codec.encodeCount == 2)
        #expect(factory.adapter.sentEnvelopes.last?.target == "elsewhere")
    }

    @Test("a remote message is decoded once per node, however many subscribers read it")
    func decodesOnce() async throws {
        let codec = CountingCodec()
        let cluster = InMemoryCluster()
        let configuration = PubSub.Configuration(name: "t", codec: codec)
        let sender = try PubSub(configuration: configuration, adapter: cluster.node("a"))
        let receiver = try PubSub(configuration: configuration, adapter: cluster.node("b"))
        try await withRunning([sender, receiver]) {
            try await cluster.waitForMembers(["a", "b"])
            let probes = try (0..<10).map { _ in
                let subscriber = receiver.makeSubscriber()
                try subscriber.subscribe(to: "room")
                return SubscriberProbe(subscriber)
            }
            try await sender.broadcast(Note(text: "x"), to: "room")
            for probe in probes {
                #expect(try await probe.next().decode(Note.self) == Note(text: "x"))
                probe.stop()
            }
            #expect(codec.encodeCount == 1)
            #expect(codec.decodeCount == 1)
        }
    }

    @Test("when the adapter fails, the broadcast throws and nothing is delivered locally")
    func adapterFailure() async throws {
        let factory = CapturingAdapterFactory()
        let pubsub = try PubSub(configuration: .init(name: "t"), adapter: factory)
        let subscriber = pubsub.makeSubscriber()
        try subscriber.subscribe(to: "room")
        factory.adapter.failing.store(true, ordering: .relaxed)
        await #expect(throws: PubSubError.self) { try await pubsub.broadcast(1, to: "room") }
        #expect(subscriber.bufferedCount == 0)
        await #expect(throws: PubSubError.self) { try await pubsub.directBroadcast(1, to: "room", on: "other") }
    }

    @Test("messages too large for the cluster, and topics too long for the wire, are refused")
    func limits() async throws {
        let pubsub = try PubSub(configuration: .init(name: "t", maximumEnvelopeSize: 2048), adapter: CapturingAdapterFactory())
        await #expect(throws: PubSubError.self) { try await pubsub.broadcast(RawBytes([UInt8](repeating: 1, count: 4096)), to: "t") }
        await #expect(throws: PubSubError.self) { try await pubsub.broadcast(1, to: String(repeating: "t", count: 70_000)) }
        await #expect(throws: PubSubError.self) { try await pubsub.broadcast(1, to: "t", dispatcher: "nope") }
    }

    @Test("an envelope over the size limit is refused with its size, raw or encoded, and nothing is sent or delivered")
    func tooLargeExactly() async throws {
        let factory = CapturingAdapterFactory()
        let pubsub = try PubSub(configuration: .init(name: "t", codec: JSONPayloadCodec(), maximumEnvelopeSize: 1024), adapter: factory)
        let subscriber = pubsub.makeSubscriber()
        try subscriber.subscribe(to: "t")
        func refusal(_ body: () async throws -> Void) async -> (size: Int, limit: Int)? {
            do {
                try await body()
            } catch let error as PubSubError {
                if case .messageTooLarge(let size, let limit) = error { return (size, limit) }
            } catch {}
            return nil
        }
        // The header of an envelope from node "capture" on topic "t" is 29 bytes, its payload length 4.
        let header = 33
        let raw = await refusal { try await pubsub.broadcast(RawBytes([UInt8](repeating: 1, count: 1024 - header + 1)), to: "t") }
        #expect(raw?.size == 1025 && raw?.limit == 1024)
        let encoded = await refusal { try await pubsub.broadcast(String(repeating: "x", count: 2000), to: "t") }
        #expect(encoded?.size == header + 2002 && encoded?.limit == 1024)
        #expect(factory.adapter.sentEnvelopes.isEmpty && subscriber.bufferedCount == 0)
        try await pubsub.broadcast(RawBytes([UInt8](repeating: 1, count: 1024 - header)), to: "t")
        #expect(factory.adapter.sentEnvelopes.map(\.envelope.readableBytes) == [1024])
        #expect(subscriber.bufferedCount == 1)
    }

    @Test("shards are stable across processes and stay within broadcastPoolSize")
    func shards() throws {
        #expect(stableTopicHash("") == 0x811C_9DC5)
        #expect(stableTopicHash("a") == 0xE40C_292C)
        #expect(stableTopicHash("foobar") == 0xBF9C_F968)
        let pubsub = try PubSub(configuration: .init(name: "t", poolSize: 8, broadcastPoolSize: 3), adapter: CapturingAdapterFactory())
        let shards = Set((0..<1000).map { pubsub.shard(of: "topic:\($0)") })
        #expect(shards == [0, 1, 2])
        #expect(pubsub.shard(of: "room:7") == pubsub.shard(of: "room:7"))
    }

    @Test("broadcasts carry the shard of their topic to the adapter")
    func shardOnTheWire() async throws {
        let factory = CapturingAdapterFactory()
        let pubsub = try PubSub(configuration: .init(name: "t", poolSize: 4), adapter: factory)
        try await pubsub.broadcast(1, to: "room:42")
        let sent = try #require(factory.adapter.sentEnvelopes.first)
        let envelope = try Envelope(decoding: sent.envelope)
        #expect(sent.shard == pubsub.shard(of: "room:42"))
        #expect(Int(envelope.shard) == sent.shard)
        #expect(envelope.origin == pubsub.node)
        #expect(envelope.codec == MessagePackPayloadCodec.id)
    }

    @Test("every registry layout delivers to every subscription", arguments: [
        (1, RegistryPartitioning.bySubscriber), (4, .bySubscriber), (4, .byTopic),
    ])
    func registryLayouts(size: Int, partitioning: RegistryPartitioning) async throws {
        let pubsub = try PubSub(configuration: .init(name: "t", poolSize: 4, registrySize: size, registryPartitioning: partitioning))
        let subscribers = try (0..<40).map { index in
            let subscriber = pubsub.makeSubscriber()
            try subscriber.subscribe(to: "topic:\(index % 3)")
            try subscriber.subscribe(to: "all")
            return subscriber
        }
        try pubsub.localBroadcast("x", to: "all")
        try pubsub.localBroadcast("y", to: "topic:1")
        #expect(subscribers.enumerated().allSatisfy { index, subscriber in
            subscriber.bufferedCount == (index % 3 == 1 ? 2 : 1)
        })
        #expect(pubsub.subscriptions(of: "all").count == 40)
        subscribers[0].unsubscribe(from: "all")
        #expect(pubsub.subscriptions(of: "all").count == 39)
        subscribers.forEach { $0.close() }
        #expect(pubsub.registry.topicCount == 0)
    }

    @Test("large topics stay consistent under random unsubscribes, duplicates and metadata", arguments: [10, 200])
    func largeTopics(subscriberCount: Int) throws {
        let pubsub = try PubSub(configuration: .init(name: "t"))
        var generator = SeededGenerator(seed: UInt64(subscriberCount))
        let subscribers = try (0..<subscriberCount).map { index in
            let subscriber = pubsub.makeSubscriber()
            try subscriber.subscribe(to: "big", metadata: index % 3)
            if index % 7 == 0 { try subscriber.subscribe(to: "big", metadata: "dup") }
            return subscriber
        }
        var expected = Dictionary(uniqueKeysWithValues: subscribers.map { ($0.id, $0.topics["big"]!) })
        for subscriber in subscribers.shuffled(using: &generator) {
            switch generator.next() % 3 {
            case 0:
                subscriber.unsubscribe(from: "big")
                expected[subscriber.id] = nil
            case 1:
                let removed = subscriber.unsubscribe(from: "big", matching: "dup")
                if removed > 0 { expected[subscriber.id]! -= removed }
            default:
                subscriber.close()
                expected[subscriber.id] = nil
            }
            var actual: [SubscriberID: Int] = [:]
            for entry in pubsub.subscriptions(of: "big") { actual[entry.subscriber, default: 0] += 1 }
            #expect(actual == expected.filter { $0.value > 0 })
        }
        try pubsub.localBroadcast(1, to: "big")
        for subscriber in subscribers where !subscriber.isClosed {
            #expect(subscriber.bufferedCount == (expected[subscriber.id] ?? 0))
        }
    }

    @Test("metrics count broadcasts and deliveries")
    func metrics() async throws {
        let metrics = TestMetrics()
        let pubsub = try PubSub(configuration: .init(name: "m"), adapter: CapturingAdapterFactory(), metricsFactory: metrics)
        let subscribers = try (0..<3).map { _ in
            let subscriber = pubsub.makeSubscriber()
            try subscriber.subscribe(to: "t")
            return subscriber
        }
        try await pubsub.broadcast(1, to: "t", from: subscribers[0].id)
        try pubsub.localBroadcast(2, to: "t")
        try await pubsub.directBroadcast(3, to: "t", on: "other")
        #expect(try metrics.expectCounter("combo_broadcasts_total", [("pubsub", "m"), ("scope", "cluster")]).totalValue == 1)
        #expect(try metrics.expectCounter("combo_broadcasts_total", [("pubsub", "m"), ("scope", "local")]).totalValue == 1)
        #expect(try metrics.expectCounter("combo_broadcasts_total", [("pubsub", "m"), ("scope", "direct")]).totalValue == 1)
        #expect(try metrics.expectCounter("combo_deliveries_total", [("pubsub", "m")]).totalValue == 5)
    }

    @Test("raw bytes pass through untouched, locally and remotely")
    func rawBytes() async throws {
        let factory = CapturingAdapterFactory()
        let pubsub = try PubSub(configuration: .init(name: "t"), adapter: factory)
        let subscriber = pubsub.makeSubscriber()
        try subscriber.subscribe(to: "t")
        try await pubsub.broadcast(RawBytes([1, 2, 3]), to: "t")
        let envelope = try Envelope(decoding: try #require(factory.adapter.sentEnvelopes.first).envelope)
        #expect(envelope.codec == 0)
        #expect(Array(envelope.payload.readableBytesView) == [1, 2, 3])
        var iterator = subscriber.makeAsyncIterator()
        let message = try #require(try await iterator.next())
        #expect(message.bytes.map { Array($0.readableBytesView) } == [1, 2, 3])
        #expect(try message.decode(RawBytes.self).bytes == [1, 2, 3])
    }
}

/// Runs the PubSubs for the duration of `body`, then cancels them.
func withRunning(_ pubsubs: [PubSub], _ body: () async throws -> Void) async throws {
    let tasks = pubsubs.map { pubsub in Task { try await pubsub.run() } }
    do {
        try await body()
    } catch {
        tasks.forEach { $0.cancel() }
        for task in tasks { _ = await task.result }
        throw error
    }
    tasks.forEach { $0.cancel() }
    for task in tasks { _ = await task.result }
}
