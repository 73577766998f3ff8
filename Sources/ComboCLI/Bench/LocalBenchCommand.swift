import ArgumentParser
import Combo
import Foundation

/// `combo bench local`: fan-out throughput and memory of one node's PubSub.
///
/// Every subscriber is read by its own task, as a server's connections would
/// be; a case ends when every subscriber has read every message, so the
/// figures are deliveries completed, not messages queued.
struct LocalBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "local",
        abstract: "Local fan-out throughput and memory per subscription."
    )

    @Option(help: "Deliveries per fan-out case.")
    var deliveries = 5_000_000

    @Option(help: "Topics in the many-topics case (one subscriber each).")
    var topics = 100_000

    @Option(help: "Broadcasts in the many-topics case.")
    var topicBroadcasts = 1_000_000

    @Option(help: "Subscribers in the memory case.")
    var memorySubscribers = 100_000

    @Option(help: "Comma-separated cases to run: fanout, topics, memory.")
    var cases = "fanout,topics,memory"

    @Flag(help: "Skip the raw AsyncStream baselines.")
    var noBaseline = false

    func run() async throws {
        let selected = Set(cases.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        let unknown = selected.subtracting(["fanout", "topics", "memory"])
        guard unknown.isEmpty else { throw ValidationError("unknown cases: \(unknown.sorted().joined(separator: ", "))") }
        var results: [BenchResult] = []
        if selected.contains("fanout") {
            for subscribers in [1, 100, 10_000] {
                if !noBaseline { results.append(try await rawFanOut(subscribers: subscribers)) }
                results.append(try await fanOut(subscribers: subscribers))
            }
        }
        if selected.contains("topics") {
            if !noBaseline { results.append(try await rawManyTopics()) }
            results.append(try await manyTopics())
            results.append(try await manyTopicsFastlane())
        }
        if selected.contains("memory") { results += try memory() }
        BenchReport.print(title: "combo bench local", results: results)
    }

    private func makePubSub() throws -> PubSub {
        try PubSub(configuration: .init(name: "bench"))
    }

    /// Broadcasts on one topic to `subscribers` subscribers until `deliveries` are read.
    private func fanOut(subscribers count: Int) async throws -> BenchResult {
        let pubsub = try makePubSub()
        let messages = max(1, deliveries / count)
        let options = SubscriberOptions(capacity: messages, overflowPolicy: .fail)
        let subscribers = (0..<count).map { _ in pubsub.makeSubscriber(options: options) }
        for subscriber in subscribers { try subscriber.subscribe(to: "fanout") }
        let elapsed = try await measure(subscribers: subscribers, perSubscriber: messages) {
            for sequence in 0..<messages {
                try await pubsub.broadcast(sequence, to: "fanout")
            }
        }
        let total = Double(messages * count)
        return BenchResult(
            name: "fan-out to \(count) subscriber\(count == 1 ? "" : "s")",
            value: total / elapsed.delivered,
            unit: "deliveries/s",
            detail: "\(messages) broadcasts, \(Int(total)) deliveries read in \(seconds(elapsed.delivered)) "
                + "(broadcasting took \(seconds(elapsed.published)))"
        )
    }

    /// The raw transport of local delivery, for comparison: one `AsyncStream`
    /// per subscriber, the publisher yielding to every stream itself.
    private func rawFanOut(subscribers count: Int) async throws -> BenchResult {
        let messages = max(1, deliveries / count)
        let streams = (0..<count).map { _ in AsyncStream<Int>.makeStream() }
        let elapsed = try await measureRaw(streams: streams.map(\.stream), perSubscriber: messages) {
            for sequence in 0..<messages {
                for stream in streams { stream.continuation.yield(sequence) }
            }
        }
        let total = Double(messages * count)
        return BenchResult(
            name: "  raw AsyncStream, \(count) reader\(count == 1 ? "" : "s")",
            value: total / elapsed.delivered,
            unit: "deliveries/s",
            detail: "same shape, no PubSub (yielding took \(seconds(elapsed.published)))"
        )
    }

    /// The raw transport of the many-topics case: one `AsyncStream` per topic.
    private func rawManyTopics() async throws -> BenchResult {
        let perTopic = max(1, topicBroadcasts / topics)
        let streams = (0..<topics).map { _ in AsyncStream<Int>.makeStream() }
        let elapsed = try await measureRaw(streams: streams.map(\.stream), perSubscriber: perTopic) {
            for round in 0..<perTopic {
                for stream in streams { stream.continuation.yield(round) }
            }
        }
        let total = Double(perTopic * topics)
        return BenchResult(
            name: "  raw AsyncStream, \(topics) streams",
            value: total / elapsed.delivered,
            unit: "messages/s",
            detail: "same shape, no PubSub (yielding took \(seconds(elapsed.published)))"
        )
    }

    /// Broadcasts round-robin over `topics` topics with one subscriber each.
    private func manyTopics() async throws -> BenchResult {
        let pubsub = try makePubSub()
        let perTopic = max(1, topicBroadcasts / topics)
        let options = SubscriberOptions(capacity: perTopic, overflowPolicy: .fail)
        let names = (0..<topics).map { "topic:\($0)" }
        let subscribers = names.map { name in
            let subscriber = pubsub.makeSubscriber(options: options)
            try! subscriber.subscribe(to: name)
            return subscriber
        }
        let elapsed = try await measure(subscribers: subscribers, perSubscriber: perTopic) {
            for round in 0..<perTopic {
                for name in names {
                    try await pubsub.broadcast(round, to: name)
                }
            }
        }
        let total = Double(perTopic * topics)
        return BenchResult(
            name: "\(topics) topics, 1 subscriber each",
            value: total / elapsed.delivered,
            unit: "broadcasts/s",
            detail: "\(Int(total)) broadcasts read in \(seconds(elapsed.delivered)) "
                + "(broadcasting took \(seconds(elapsed.published)), \(Int(total / elapsed.published)) broadcasts/s)"
        )
    }

    /// The many-topics case through ``FastlaneDispatcher``: each message is
    /// handed to its subscription's target during the broadcast, no mailbox.
    private func manyTopicsFastlane() async throws -> BenchResult {
        let pubsub = try PubSub(configuration: .init(name: "bench", dispatchers: [FastlaneDispatcher()]))
        let perTopic = max(1, topicBroadcasts / topics)
        let names = (0..<topics).map { "topic:\($0)" }
        let targets = names.map { _ in FastlaneDispatcher.Target() }
        let subscribers = try zip(names, targets).map { name, target in
            let subscriber = pubsub.makeSubscriber()
            try subscriber.subscribe(to: name, metadata: target)
            return subscriber
        }
        let clock = ContinuousClock()
        let start = clock.now
        for round in 0..<perTopic {
            for name in names {
                try await pubsub.broadcast(round, to: name, dispatcher: FastlaneDispatcher.name)
            }
        }
        let elapsed = Self.seconds(start.duration(to: clock.now))
        let received = targets.reduce(0) { $0 + $1.received.load(ordering: .relaxed) }
        withExtendedLifetime(subscribers) {}
        let total = perTopic * topics
        guard received == total else { throw ValidationError("fastlane delivered \(received) of \(total)") }
        return BenchResult(
            name: "\(topics) topics, fastlane dispatcher",
            value: Double(total) / elapsed,
            unit: "broadcasts/s",
            detail: "\(total) broadcasts handed to their targets in \(seconds(elapsed)) (no mailbox, no reader task)"
        )
    }

    /// Starts a reading task per subscriber, runs `broadcast`, and returns the
    /// seconds until the broadcasts were made and until every subscriber has
    /// read `perSubscriber` messages.
    private func measure(
        subscribers: [Subscriber],
        perSubscriber: Int,
        broadcast: @escaping @Sendable () async throws -> Void
    ) async throws -> (published: Double, delivered: Double) {
        let elapsed = try await measureReaders(
            subscribers.map { subscriber in
                {
                    var read = 0
                    do {
                        for try await _ in subscriber {
                            read += 1
                            if read == perSubscriber { break }
                        }
                    } catch {}
                    return read
                }
            },
            perReader: perSubscriber,
            publish: broadcast
        )
        let dropped = subscribers.reduce(0) { $0 + $1.droppedCount }
        guard dropped == 0 else { throw ValidationError("\(dropped) messages were dropped") }
        return elapsed
    }

    /// ``measure(subscribers:perSubscriber:broadcast:)`` for raw streams.
    private func measureRaw(
        streams: [AsyncStream<Int>],
        perSubscriber: Int,
        publish: @escaping @Sendable () async throws -> Void
    ) async throws -> (published: Double, delivered: Double) {
        try await measureReaders(
            streams.map { stream in
                {
                    var read = 0
                    for await _ in stream {
                        read += 1
                        if read == perSubscriber { break }
                    }
                    return read
                }
            },
            perReader: perSubscriber,
            publish: publish
        )
    }

    /// Runs each reader in its own task, then `publish`, and returns the
    /// seconds until `publish` returned and until every reader has read
    /// `perReader` messages.
    ///
    /// The readers are unstructured tasks joined by a latch: a task group
    /// removes each finished child with a scan of its children, which at
    /// 100,000 readers would cost more than everything measured here.
    private func measureReaders(
        _ readers: [@Sendable () async -> Int],
        perReader: Int,
        publish: @escaping @Sendable () async throws -> Void
    ) async throws -> (published: Double, delivered: Double) {
        let clock = ContinuousClock()
        let latch = CompletionLatch(count: readers.count)
        let tasks = readers.map { reader in Task { latch.arrive(reading: await reader()) } }
        let start = clock.now
        try await publish()
        let published = start.duration(to: clock.now)
        let read = await latch.wait()
        let delivered = start.duration(to: clock.now)
        for task in tasks { await task.value }
        guard read == perReader * readers.count else {
            throw ValidationError("only \(read) of \(perReader * readers.count) messages were read")
        }
        return (Self.seconds(published), Self.seconds(delivered))
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Bytes per subscriber and per subscription, from malloc's own accounting.
    private func memory() throws -> [BenchResult] {
        let pubsub = try makePubSub()
        let count = memorySubscribers
        let firstTopics = (0..<count).map { "topic:\($0)" }
        let secondTopics = (0..<count).map { "other:\($0)" }
        var subscribers: [Subscriber] = []
        subscribers.reserveCapacity(count)

        let start = MemoryProbe.allocatedBytes()
        for topic in firstTopics {
            let subscriber = pubsub.makeSubscriber()
            try subscriber.subscribe(to: topic)
            subscribers.append(subscriber)
        }
        let afterSubscribers = MemoryProbe.allocatedBytes()
        for (subscriber, topic) in zip(subscribers, secondTopics) {
            try subscriber.subscribe(to: topic)
        }
        let afterNewTopics = MemoryProbe.allocatedBytes()
        for subscriber in subscribers {
            try subscriber.subscribe(to: "shared")
        }
        let afterShared = MemoryProbe.allocatedBytes()
        withExtendedLifetime(subscribers) {}

        func perItem(_ bytes: Int) -> Double { Double(bytes) / Double(count) }
        return [
            BenchResult(
                name: "new subscriber + 1 subscription",
                value: perItem(afterSubscribers - start),
                unit: "bytes",
                detail: "\(count) subscribers, each on its own topic"
            ),
            BenchResult(
                name: "extra subscription, new topic",
                value: perItem(afterNewTopics - afterSubscribers),
                unit: "bytes",
                detail: "each subscriber joins one more topic of its own"
            ),
            BenchResult(
                name: "extra subscription, shared topic",
                value: perItem(afterShared - afterNewTopics),
                unit: "bytes",
                detail: "every subscriber joins one common topic"
            ),
        ]
    }

    private func seconds(_ value: Double) -> String {
        "\((value * 1000).rounded() / 1000) s"
    }
}
