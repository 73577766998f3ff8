import Combo
import NIOCore
import Synchronization
import Testing

/// An adapter whose sending methods are plain `async` (not
/// `nonisolated(nonsending)`), as adapters written before Combo declared them
/// so: it must still conform and work.
final class PlainAsyncAdapter: Adapter, Sendable {
    let node: NodeIdentity
    let sent = Mutex<[(ByteBuffer, NodeName?)]>([])

    init(context: AdapterContext) {
        node = context.node
    }

    func broadcast(_ envelope: ByteBuffer, shard: Int) async throws {
        sent.withLock { $0.append((envelope, nil)) }
    }

    func directBroadcast(_ envelope: ByteBuffer, to node: NodeName, shard: Int) async throws {
        sent.withLock { $0.append((envelope, node)) }
    }

    func run() async throws {}
}

struct PlainAsyncAdapterFactory: AdapterFactory {
    final class Box: Sendable {
        let adapter = Mutex<PlainAsyncAdapter?>(nil)
    }

    let nodeName: NodeName = "plain"
    let box = Box()

    func makeAdapter(context: AdapterContext) throws -> any Adapter {
        let adapter = PlainAsyncAdapter(context: context)
        box.adapter.withLock { $0 = adapter }
        return adapter
    }
}

/// Broadcasts from inside an actor.
actor Broadcaster {
    let pubsub: PubSub

    init(pubsub: PubSub) {
        self.pubsub = pubsub
    }

    func broadcastAndDirect() async throws {
        try await pubsub.broadcast("hello", to: "t")
        try await pubsub.directBroadcast("there", to: "t", on: "elsewhere")
    }
}

@Suite("Where adapters' sending methods run")
struct AdapterIsolationTests {
    @Test("broadcasts reach the adapter on the caller's actor, with no switch to the global executor")
    func callerIsolation() async throws {
        let factory = CapturingAdapterFactory()
        let pubsub = try PubSub(configuration: .init(name: "iso"), adapter: factory)
        let broadcaster = Broadcaster(pubsub: pubsub)
        try await broadcaster.broadcastAndDirect()
        try await pubsub.broadcast("from no actor", to: "t")
        let sent = factory.adapter.sentEnvelopes
        #expect(sent.count == 3)
        #expect(sent.prefix(2).allSatisfy { $0.isolation == ObjectIdentifier(broadcaster) })
        #expect(sent.last?.isolation == nil)
    }

    @Test("an adapter with plain async sending methods still conforms and receives every envelope")
    func plainAsyncAdapter() async throws {
        let factory = PlainAsyncAdapterFactory()
        let pubsub = try PubSub(configuration: .init(name: "plain"), adapter: factory)
        try await Broadcaster(pubsub: pubsub).broadcastAndDirect()
        let sent = try #require(factory.box.adapter.withLock { $0 }).sent.withLock { $0 }
        #expect(sent.map(\.1) == [nil, "elsewhere"])
        let envelopes = try sent.map { try Envelope(decoding: $0.0) }
        #expect(envelopes.map(\.kind) == [.broadcast, .direct] && envelopes.allSatisfy { $0.topic == "t" })
    }
}
