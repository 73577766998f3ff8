@testable import Combo
import MetricsTestKit
import NIOCore
import Testing

@Suite("Inbound envelopes")
struct InboundReceiverTests {
    let metrics = TestMetrics()
    let factory = CapturingAdapterFactory(nodeName: "me")
    let pubsub: PubSub
    let subscriber: Subscriber

    init() throws {
        pubsub = try PubSub(configuration: .init(name: "in", codec: JSONPayloadCodec()), adapter: factory, metricsFactory: metrics)
        subscriber = pubsub.makeSubscriber()
        try subscriber.subscribe(to: "t")
    }

    var receiver: InboundReceiver { factory.adapter.receiver }

    func envelope(
        kind: EnvelopeKind = .broadcast,
        origin: NodeIdentity = NodeIdentity(name: "peer", incarnation: Incarnation(rawValue: 1)),
        target: NodeName? = nil,
        dispatcher: String? = nil,
        codec: UInt8 = JSONPayloadCodec.id,
        payload: String = "\"hello\""
    ) throws -> ByteBuffer {
        try Envelope(
            kind: kind, shard: 0, origin: origin, target: target, topic: "t",
            dispatcher: dispatcher, codec: codec, payload: ByteBuffer(string: payload)
        ).encoded()
    }

    func failures(_ reason: String) throws -> Int64 {
        try metrics.expectCounter("combo_decode_failures_total", [("pubsub", "in"), ("reason", reason)]).totalValue
    }

    @Test("a valid envelope from a peer is dispatched")
    func dispatches() async throws {
        #expect(try receiver.receive(try envelope()) == .dispatched)
        var iterator = subscriber.makeAsyncIterator()
        let message = try #require(try await iterator.next())
        #expect(try message.decode(String.self) == "hello")
        #expect(message.origin.name == "peer")
    }

    @Test("garbage is rejected, counted, and does not disturb the next message")
    func garbage() async throws {
        #expect(throws: InboundError.malformed(.badMagic)) { try receiver.receive(ByteBuffer(bytes: [1, 2, 3])) }
        #expect(throws: InboundError.self) { try receiver.receive(ByteBuffer()) }
        var truncated = try envelope()
        truncated.moveWriterIndex(to: truncated.writerIndex - 3)
        #expect(throws: InboundError.malformed(.truncated(field: "payload"))) { try receiver.receive(truncated) }
        #expect(try failures("bad_magic") == 1)
        #expect(try failures("truncated") == 2)
        #expect(subscriber.bufferedCount == 0)
        try receiver.receive(try envelope())
        #expect(subscriber.bufferedCount == 1)
    }

    @Test("unknown codecs and dispatchers are rejected and counted")
    func unknowns() throws {
        #expect(throws: InboundError.unknownCodec(99)) { try receiver.receive(try envelope(codec: 99)) }
        #expect(throws: InboundError.unknownDispatcher("x")) { try receiver.receive(try envelope(dispatcher: "x")) }
        #expect(try failures("unknown_codec") == 1)
        #expect(try failures("unknown_dispatcher") == 1)
        #expect(subscriber.bufferedCount == 0)
    }

    @Test("a direct envelope for another node is rejected; one for this node is delivered")
    func directTargets() throws {
        #expect(throws: InboundError.misdirected(target: "other")) { try receiver.receive(try envelope(kind: .direct, target: "other")) }
        #expect(try failures("misdirected") == 1)
        #expect(try receiver.receive(try envelope(kind: .direct, target: "me")) == .dispatched)
        #expect(subscriber.bufferedCount == 1)
    }

    @Test("the node's own echo is ignored, but the same name with another incarnation is a peer")
    func echoes() throws {
        #expect(try receiver.receive(try envelope(origin: pubsub.node)) == .ownEcho)
        #expect(subscriber.bufferedCount == 0)
        let previousBoot = NodeIdentity(name: pubsub.nodeName, incarnation: Incarnation(rawValue: pubsub.node.incarnation.rawValue - 1))
        #expect(try receiver.receive(try envelope(origin: previousBoot)) == .dispatched)
    }

    @Test("a payload that does not decode fails at the subscriber, typed, without affecting others")
    func undecodablePayload() async throws {
        try receiver.receive(try envelope(payload: "{not json"))
        try receiver.receive(try envelope(payload: "\"fine\""))
        var iterator = subscriber.makeAsyncIterator()
        let bad = try #require(try await iterator.next())
        #expect(throws: MessageDecodingError.self) { try bad.decode(String.self) }
        #expect(try #require(try await iterator.next()).decode(String.self) == "fine")
    }
}
