@testable import Combo
import MetricsTestKit
import NIOCore
import Testing

@Suite("Inbound envelopes in bursts")
struct InboundBatchTests {
    /// Delivers each message to every subscription, tagging nothing: a custom
    /// dispatcher whose deliveries must stay in order with the batched ones.
    struct Passthrough: Dispatcher {
        var name: String { "passthrough" }
        func dispatch(_ subscriptions: SubscriptionList, from: SubscriberID?, message: Message) -> Int {
            subscriptions.reduce(0) { $0 + ($1.deliver(message) ? 1 : 0) }
        }
    }

    let metrics = TestMetrics()
    let factory = CapturingAdapterFactory(nodeName: "me")
    let pubsub: PubSub

    init() throws {
        pubsub = try PubSub(
            configuration: .init(name: "in", dispatchers: [Passthrough()], codec: JSONPayloadCodec()),
            adapter: factory, metricsFactory: metrics)
    }

    var receiver: InboundReceiver { factory.adapter.receiver }

    static let peer = NodeIdentity(name: "peer", incarnation: Incarnation(rawValue: 1))

    func envelope(
        _ text: String, topic: String = "t", origin: NodeIdentity = Self.peer, from: SubscriberID? = nil,
        dispatcher: String? = nil
    ) throws -> ByteBuffer {
        try Envelope(
            kind: .broadcast, shard: 0, origin: origin, topic: topic, dispatcher: dispatcher, from: from,
            codec: JSONPayloadCodec.id, payload: ByteBuffer(string: "\"\(text)\"")
        ).encoded()
    }

    func counter(_ label: String) -> Int64 {
        (try? metrics.expectCounter(label, [("pubsub", "in")]).totalValue) ?? 0
    }

    /// Reads exactly `count` messages, as (topic, origin name, text).
    func read(_ subscriber: Subscriber, _ count: Int) async throws -> [String] {
        var iterator = subscriber.makeAsyncIterator()
        var result: [String] = []
        for _ in 0..<count {
            let message = try #require(try await iterator.next())
            result.append("\(message.topic)/\(message.origin.name)/\(try message.decode(String.self))")
        }
        return result
    }

    @Test("messages wait for the flush, then arrive in order, counted once")
    func heldUntilFlush() async throws {
        let subscriber = pubsub.makeSubscriber()
        try subscriber.subscribe(to: "t")
        let batch = receiver.makeBatch()
        for index in 0..<5 { #expect(try batch.receive(try envelope("m\(index)")) == .dispatched) }
        #expect(subscriber.bufferedCount == 0)
        #expect(counter("combo_remote_received_total") == 0)
        batch.flush()
        #expect(try await read(subscriber, 5) == (0..<5).map { "t/peer/m\($0)" })
        #expect(counter("combo_remote_received_total") == 5)
        #expect(counter("combo_deliveries_total") == 5)
        batch.flush()
        #expect(counter("combo_remote_received_total") == 5)
    }

    @Test("a custom dispatcher's message keeps its place among batched ones")
    func customDispatcherKeepsOrder() async throws {
        let subscriber = pubsub.makeSubscriber()
        try subscriber.subscribe(to: "t")
        let batch = receiver.makeBatch()
        try batch.receive(try envelope("a"))
        try batch.receive(try envelope("b", dispatcher: "passthrough"))
        // The custom dispatcher flushed what was held, then delivered its own.
        #expect(subscriber.bufferedCount == 2)
        try batch.receive(try envelope("c"))
        batch.flush()
        #expect(try await read(subscriber, 3) == ["t/peer/a", "t/peer/b", "t/peer/c"])
    }

    @Test("the sender's own subscription is skipped; every other subscriber gets its messages")
    func fromExcluded() async throws {
        let sender = pubsub.makeSubscriber()
        let other = pubsub.makeSubscriber()
        try sender.subscribe(to: "t")
        try other.subscribe(to: "t")
        try other.subscribe(to: "u")
        let batch = receiver.makeBatch()
        try batch.receive(try envelope("1", from: sender.id))
        try batch.receive(try envelope("2", topic: "u"))
        try batch.receive(try envelope("3"))
        batch.flush()
        #expect(try await read(other, 3) == ["t/peer/1", "u/peer/2", "t/peer/3"])
        #expect(try await read(sender, 1) == ["t/peer/3"])
        #expect(sender.bufferedCount == 0)
    }

    @Test("origins and topics that change between envelopes are decoded afresh")
    func decodingCacheFollowsChanges() async throws {
        let subscriber = pubsub.makeSubscriber()
        for topic in ["t", "tt", "room:1"] { try subscriber.subscribe(to: topic) }
        let other = NodeIdentity(name: "peerx", incarnation: Incarnation(rawValue: 2))
        let sameNameLaterBoot = NodeIdentity(name: "peer", incarnation: Incarnation(rawValue: 3))
        let batch = receiver.makeBatch()
        let sent: [(String, NodeIdentity)] = [
            ("t", Self.peer), ("t", Self.peer), ("tt", Self.peer), ("t", other), ("room:1", other),
            ("room:1", sameNameLaterBoot), ("t", Self.peer),
        ]
        for (index, (topic, origin)) in sent.enumerated() {
            try batch.receive(try envelope("\(index)", topic: topic, origin: origin))
        }
        batch.flush()
        var iterator = subscriber.makeAsyncIterator()
        for (index, (topic, origin)) in sent.enumerated() {
            let message = try #require(try await iterator.next())
            #expect(message.topic == topic && message.origin == origin)
            #expect(try message.decode(String.self) == "\(index)")
        }
    }

    @Test("a single subscriber's messages share their storage but not their payloads; shared topics get one message each")
    func storageSharing() async throws {
        let alone = pubsub.makeSubscriber()
        let first = pubsub.makeSubscriber()
        let second = pubsub.makeSubscriber()
        try alone.subscribe(to: "t")
        try first.subscribe(to: "both")
        try second.subscribe(to: "both")
        let other = NodeIdentity(name: "other", incarnation: Incarnation(rawValue: 5))
        let batch = receiver.makeBatch()
        try batch.receive(try envelope("a"))
        try batch.receive(try envelope("b"))
        try batch.receive(try envelope("c", origin: other))
        try batch.receive(try envelope("x", topic: "both"))
        try batch.receive(try envelope("d"))
        batch.flush()

        var iterator = alone.makeAsyncIterator()
        var messages: [Message] = []
        for _ in 0..<4 { messages.append(try #require(try await iterator.next())) }
        #expect(try messages.map { try $0.decode(String.self) } == ["a", "b", "c", "d"])
        #expect(messages.map(\.origin) == [Self.peer, Self.peer, other, Self.peer])
        #expect(messages.allSatisfy { $0.ownBytes != nil && $0.topic == "t" && $0.from == nil })
        #expect(messages[0].storage === messages[1].storage)
        #expect(messages[1].storage !== messages[2].storage)
        #expect(messages.map { $0.bytes.map { String(buffer: $0) } } == ["\"a\"", "\"b\"", "\"c\"", "\"d\""])
        if case .encoded(let bytes, let codec) = messages[3].payload {
            #expect(String(buffer: bytes) == "\"d\"" && codec.id == JSONPayloadCodec.id)
        } else {
            Issue.record("expected an encoded payload, got \(messages[3].payload)")
        }
        #expect(throws: MessageDecodingError.self) { try messages[0].decode(Int.self) }

        var firstIterator = first.makeAsyncIterator()
        var secondIterator = second.makeAsyncIterator()
        let fromFirst = try #require(try await firstIterator.next())
        let fromSecond = try #require(try await secondIterator.next())
        #expect(fromFirst.ownBytes == nil && fromFirst.storage === fromSecond.storage)
        #expect(try fromFirst.decode(String.self) == "x" && fromSecond.decode(String.self) == "x")
    }

    @Test("a batch flushes by itself at its limit")
    func limit() async throws {
        let subscriber = pubsub.makeSubscriber()
        try subscriber.subscribe(to: "t")
        let batch = receiver.makeBatch(limit: 3)
        for index in 0..<7 { try batch.receive(try envelope("\(index)")) }
        #expect(subscriber.bufferedCount == 6)
        batch.flush()
        #expect(subscriber.bufferedCount == 7)
    }

    @Test("rejections are thrown and counted at once; held messages are unaffected")
    func rejections() async throws {
        let subscriber = pubsub.makeSubscriber()
        try subscriber.subscribe(to: "t")
        let batch = receiver.makeBatch()
        try batch.receive(try envelope("kept"))
        #expect(throws: InboundError.malformed(.badMagic)) { try batch.receive(ByteBuffer(bytes: [1, 2, 3])) }
        #expect(throws: InboundError.unknownDispatcher("x")) { try batch.receive(try envelope("no", dispatcher: "x")) }
        #expect(try batch.receive(try envelope("echo", origin: pubsub.node)) == .ownEcho)
        #expect(try metrics.expectCounter("combo_decode_failures_total", [("pubsub", "in"), ("reason", "bad_magic")]).totalValue == 1)
        batch.flush()
        #expect(try await read(subscriber, 1) == ["t/peer/kept"])
        #expect(subscriber.bufferedCount == 0)
    }

    @Test("each subscriber's overflow policy applies to a burst as to single messages")
    func overflow() async throws {
        let newest = pubsub.makeSubscriber(options: .init(capacity: 2, overflowPolicy: .dropNewest))
        let oldest = pubsub.makeSubscriber(options: .init(capacity: 2, overflowPolicy: .dropOldest))
        let failing = pubsub.makeSubscriber(options: .init(capacity: 2, overflowPolicy: .fail))
        for subscriber in [newest, oldest, failing] { try subscriber.subscribe(to: "t") }
        let batch = receiver.makeBatch()
        for index in 0..<5 { try batch.receive(try envelope("\(index)")) }
        batch.flush()
        #expect(try await read(newest, 2) == ["t/peer/0", "t/peer/1"])
        #expect(try await read(oldest, 2) == ["t/peer/3", "t/peer/4"])
        #expect(counter("combo_dropped_total") == 3 + 3 + 1)
        #expect(counter("combo_slow_consumers_total") == 1)
        // The failed subscriber is unsubscribed: the next burst does not reach it.
        try batch.receive(try envelope("later"))
        batch.flush()
        var iterator = failing.makeAsyncIterator()
        #expect(try await iterator.next()?.decode(String.self) == "0")
        #expect(try await iterator.next()?.decode(String.self) == "1")
        await #expect(throws: SubscriberError.slowConsumer(capacity: 2)) { _ = try await iterator.next() }
    }

    /// The same envelope with its payload length field replaced.
    func withPayloadLength(_ envelope: ByteBuffer, payload: Int, claimed: UInt32) -> ByteBuffer {
        var altered = envelope
        altered.setInteger(claimed, at: envelope.readerIndex + envelope.readableBytes - payload - 4)
        return altered
    }

    @Test("envelopes that repeat a header are read through it, each with its own payload of any length")
    func repeatedHeaders() async throws {
        let subscriber = pubsub.makeSubscriber()
        try subscriber.subscribe(to: "t")
        let sender = SubscriberID(node: Self.peer, sequence: 7)
        let batch = receiver.makeBatch()
        let texts = ["a", "a much longer payload than the first", "", "b", "a much longer payload than the first"]
        for text in texts { try batch.receive(try envelope(text, from: sender)) }
        for text in texts { try batch.receive(try envelope(text)) }
        batch.flush()
        var iterator = subscriber.makeAsyncIterator()
        for (index, text) in (texts + texts).enumerated() {
            let message = try #require(try await iterator.next())
            #expect(try message.decode(String.self) == text)
            #expect(message.from == (index < texts.count ? sender : nil) && message.origin == Self.peer)
        }
        #expect(counter("combo_remote_received_total") == Int64(2 * texts.count))
    }

    @Test("a repeated header with a wrong payload length is rejected as it would be without one")
    func repeatedHeaderWrongLength() async throws {
        let subscriber = pubsub.makeSubscriber()
        try subscriber.subscribe(to: "t")
        let batch = receiver.makeBatch()
        let good = try envelope("good")
        let payload = "\"good\"".utf8.count
        try batch.receive(good)
        #expect(throws: InboundError.malformed(.truncated(field: "payload"))) {
            try batch.receive(withPayloadLength(good, payload: payload, claimed: UInt32(payload + 1)))
        }
        #expect(throws: InboundError.malformed(.trailingBytes(1))) {
            try batch.receive(withPayloadLength(good, payload: payload, claimed: UInt32(payload - 1)))
        }
        var extended = good
        extended.writeInteger(UInt8(0))
        #expect(throws: InboundError.malformed(.trailingBytes(1))) { try batch.receive(extended) }
        try batch.receive(good)
        batch.flush()
        #expect(try await read(subscriber, 2) == ["t/peer/good", "t/peer/good"])
        #expect(subscriber.bufferedCount == 0)
        #expect(try metrics.expectCounter("combo_decode_failures_total", [("pubsub", "in"), ("reason", "truncated")]).totalValue == 1)
        #expect(try metrics.expectCounter("combo_decode_failures_total", [("pubsub", "in"), ("reason", "trailing_bytes")]).totalValue == 2)
    }

    @Test("a repeated header does not let an envelope past the size limit")
    func repeatedHeaderOversized() async throws {
        let factory = CapturingAdapterFactory(nodeName: "small")
        let small = try PubSub(
            configuration: .init(name: "small", codec: JSONPayloadCodec(), maximumEnvelopeSize: 1024), adapter: factory)
        let subscriber = small.makeSubscriber()
        try subscriber.subscribe(to: "t")
        let batch = factory.adapter.receiver.makeBatch()
        try batch.receive(try envelope("fits"))
        let large = try envelope(String(repeating: "x", count: 1100))
        #expect(throws: InboundError.malformed(.oversized(size: large.readableBytes, limit: 1024))) {
            try batch.receive(large)
        }
        batch.flush()
        #expect(subscriber.bufferedCount == 1)
    }

    @Test("a repeated echo is still an echo; a repeated misdirected envelope is rejected and counted each time")
    func repeatedEchoAndMisdirected() throws {
        let subscriber = pubsub.makeSubscriber()
        try subscriber.subscribe(to: "t")
        let batch = receiver.makeBatch()
        for _ in 0..<3 {
            #expect(try batch.receive(try envelope("echo", origin: pubsub.node)) == .ownEcho)
        }
        let misdirected = try Envelope(
            kind: .direct, shard: 0, origin: Self.peer, target: "elsewhere", topic: "t",
            codec: JSONPayloadCodec.id, payload: ByteBuffer(string: "\"no\"")
        ).encoded()
        for _ in 0..<3 {
            #expect(throws: InboundError.misdirected(target: "elsewhere")) { try batch.receive(misdirected) }
        }
        batch.flush()
        #expect(subscriber.bufferedCount == 0)
        #expect(try metrics.expectCounter("combo_decode_failures_total", [("pubsub", "in"), ("reason", "misdirected")]).totalValue == 3)
    }

    /// What decoding made of an envelope, comparable across decoders.
    func outcome(_ decode: () throws(InboundError) -> InboundReceiver.Inbound) -> String {
        do {
            switch try decode() {
            case .ownEcho:
                return "echo"
            case .message(let message, let dispatcher):
                return "\(message.topic)|\(message.origin)|\(String(describing: message.from))|"
                    + "\(message.codec?.id ?? 0)|\(Array(message.bytes.readableBytesView))|\(dispatcher?.name ?? "-")"
            }
        } catch {
            return "\(error)"
        }
    }

    @Test("mutated envelopes decode the same with and without a repeated header to match")
    func repeatedHeaderDifferential() throws {
        let sender = SubscriberID(node: Self.peer, sequence: 3)
        let good = try envelope("a payload of some length", from: sender, dispatcher: "passthrough")
        var generator = SystemRandomNumberGenerator()
        var accepted = 0
        for _ in 0..<5_000 {
            var bytes = Array(good.readableBytesView)
            switch Int.random(in: 0..<4, using: &generator) {
            case 0:
                bytes.removeLast(Int.random(in: 1...bytes.count, using: &generator))
            case 1:
                bytes.append(contentsOf: (0..<Int.random(in: 1...8, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) })
            default:
                for _ in 0..<Int.random(in: 1...3, using: &generator) {
                    bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
            }
            let mutated = ByteBuffer(bytes: bytes)
            var primedCache = EnvelopeDecodingCache()
            var template: InboundHeaderTemplate?
            _ = try receiver.decode(good, cache: &primedCache, template: &template)
            #expect(template != nil)
            let throughTemplate = outcome { () throws(InboundError) in
                try receiver.decode(mutated, cache: &primedCache, template: &template)
            }
            var freshCache = EnvelopeDecodingCache()
            let fieldByField = outcome { () throws(InboundError) in try receiver.decode(mutated, cache: &freshCache) }
            #expect(throughTemplate == fieldByField)
            if !throughTemplate.hasPrefix("malformed") && !throughTemplate.hasPrefix("unknown") { accepted += 1 }
        }
        // Mutations inside the payload are accepted: the comparison covered both outcomes.
        #expect(accepted > 100)
    }

    @Test("a burst wakes a waiting reader with its first message and buffers the rest in order, behind what was buffered")
    func burstOrderAroundWaitersAndBuffer() async throws {
        let subscriber = pubsub.makeSubscriber(options: .init(capacity: 4, overflowPolicy: .dropNewest))
        try subscriber.subscribe(to: "t")
        let batch = receiver.makeBatch()
        let reader = Task { try await read(subscriber, 1) }
        let deadline = ContinuousClock.now + .seconds(10)
        while subscriber.inbox.state.withLock({ $0.waiters.isEmpty }) {
            try #require(ContinuousClock.now < deadline, "the reader never waited")
            await Task.yield()
        }
        for text in ["a", "b", "c"] { try batch.receive(try envelope(text)) }
        batch.flush()
        #expect(try await reader.value == ["t/peer/a"])
        // Buffered: b, c. The next burst goes behind them; what exceeds the capacity is dropped.
        for text in ["d", "e", "f"] { try batch.receive(try envelope(text)) }
        batch.flush()
        #expect(try await read(subscriber, 4) == ["t/peer/b", "t/peer/c", "t/peer/d", "t/peer/e"])
        #expect(counter("combo_dropped_total") == 1)
        // An empty buffer takes a whole burst that fits; one that does not fit keeps the capacity's worth.
        for text in ["g", "h", "i", "j"] { try batch.receive(try envelope(text)) }
        batch.flush()
        for text in ["k", "l", "m", "n", "o"] { try batch.receive(try envelope(text)) }
        batch.flush()
        #expect(try await read(subscriber, 4) == ["t/peer/g", "t/peer/h", "t/peer/i", "t/peer/j"])
        for text in ["p", "q", "r", "s", "u"] { try batch.receive(try envelope(text)) }
        batch.flush()
        #expect(try await read(subscriber, 4) == ["t/peer/p", "t/peer/q", "t/peer/r", "t/peer/s"])
        #expect(subscriber.bufferedCount == 0)
        #expect(counter("combo_dropped_total") == 1 + 5 + 1)
    }
}
