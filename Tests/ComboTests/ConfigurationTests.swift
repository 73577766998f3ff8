import Combo
import Testing

@Suite("PubSub configuration")
struct ConfigurationTests {
    func rejection(_ configuration: PubSub.Configuration) -> ConfigurationError? {
        do {
            _ = try PubSub(configuration: configuration)
            return nil
        } catch {
            if case .invalidConfiguration(let reason) = error { return reason }
            return nil
        }
    }

    @Test("documented defaults: pool 1, broadcast pool and registry size follow the pool size")
    func defaults() {
        let configuration = PubSub.Configuration(name: "app")
        #expect(configuration.poolSize == 1)
        #expect(configuration.effectiveBroadcastPoolSize == 1)
        #expect(configuration.effectiveRegistrySize == 1)
        #expect(configuration.registryPartitioning == .bySubscriber)
        #expect(configuration.defaultDispatcher == DefaultDispatcher.name)
        let sized = PubSub.Configuration(name: "app", poolSize: 4)
        #expect(sized.effectiveBroadcastPoolSize == 4)
        #expect(sized.effectiveRegistrySize == 4)
        let separate = PubSub.Configuration(name: "app", poolSize: 4, registrySize: 2)
        #expect(separate.effectiveRegistrySize == 2)
    }

    @Test("the name is required")
    func name() {
        #expect(rejection(.init(name: "")) == .emptyName)
    }

    @Test("broadcastPoolSize may not exceed poolSize")
    func broadcastPoolSize() {
        let error = rejection(.init(name: "app", poolSize: 1, broadcastPoolSize: 2))
        #expect(error == .broadcastPoolSizeExceedsPoolSize(broadcastPoolSize: 2, poolSize: 1))
        #expect(error?.description == "poolSize (1) must be greater than or equal to broadcastPoolSize (2)")
        #expect(rejection(.init(name: "app", poolSize: 2, broadcastPoolSize: 0)) == .invalidBroadcastPoolSize(0))
        #expect(rejection(.init(name: "app", poolSize: 2, broadcastPoolSize: 1)) == nil)
    }

    @Test("sizes must be positive and fit the wire")
    func sizes() {
        #expect(rejection(.init(name: "app", poolSize: 0)) == .invalidPoolSize(0))
        #expect(rejection(.init(name: "app", poolSize: 70_000)) == .invalidPoolSize(70_000))
        #expect(rejection(.init(name: "app", registrySize: 0)) == .invalidRegistrySize(0))
        #expect(rejection(.init(name: "app", maximumEnvelopeSize: 10)) == .invalidMaximumEnvelopeSize(10))
        #expect(rejection(.init(name: "app", subscriberOptions: .init(capacity: 0))) == .invalidSubscriberCapacity(0))
    }

    @Test("dispatchers are unique, named, and the default must be registered")
    func dispatchers() {
        struct Named: Dispatcher {
            let name: String
            func dispatch(_ subscriptions: SubscriptionList, from: SubscriberID?, message: Message) -> Int { 0 }
        }
        #expect(rejection(.init(name: "app", dispatchers: [Named(name: "a"), Named(name: "a")])) == .duplicateDispatcher("a"))
        #expect(rejection(.init(name: "app", dispatchers: [Named(name: "")])) == .invalidDispatcherName(""))
        #expect(rejection(.init(name: "app", dispatchers: [Named(name: DefaultDispatcher.name)])) == .duplicateDispatcher(DefaultDispatcher.name))
        #expect(rejection(.init(name: "app", defaultDispatcher: "missing")) == .unknownDefaultDispatcher("missing"))
        #expect(rejection(.init(name: "app", defaultDispatcher: "a", dispatchers: [Named(name: "a")])) == nil)
    }

    @Test("codec ids are unique, 0 is raw bytes and 1 to 127 are Combo's")
    func codecs() {
        struct Fake: PayloadCodec {
            let id: UInt8
            let name: String
            func encode<Value: Encodable>(_ value: Value, into buffer: inout NIOCore.ByteBuffer) throws {}
            func decode<Value: Decodable>(_ type: Value.Type, from buffer: NIOCore.ByteBuffer) throws -> Value { fatalError() }
        }
        #expect(rejection(.init(name: "app", codec: Fake(id: 0, name: "zero"))) == .invalidCodecID(0))
        #expect(rejection(.init(name: "app", codec: Fake(id: 1, name: "not-json"))) == .invalidCodecID(1))
        #expect(rejection(.init(name: "app", codec: JSONPayloadCodec())) == nil)
        #expect(rejection(.init(name: "app", additionalCodecs: [Fake(id: 130, name: "a"), Fake(id: 130, name: "b")])) == .invalidCodecID(130))
        #expect(rejection(.init(name: "app", additionalCodecs: [Fake(id: 5, name: "mine")])) == .invalidCodecID(5))
        #expect(rejection(.init(name: "app", codec: Fake(id: 2, name: "json"))) == .invalidCodecID(2))
        #expect(rejection(.init(name: "app", additionalCodecs: [Fake(id: 200, name: "a"), Fake(id: 200, name: "a")])) == nil)
    }

    @Test("node names are validated")
    func nodeNames() {
        // Variables, not literals: `NodeName("…")` with a literal is the trapping literal initialiser.
        let empty = "", control = "a\nb", valid = "node-1@host"
        #expect(throws: NodeNameError.empty) { try NodeName(empty) }
        #expect(throws: NodeNameError.tooLong(256)) { try NodeName(String(repeating: "x", count: 256)) }
        #expect(throws: NodeNameError.controlCharacter) { try NodeName(control) }
        #expect((try? NodeName(valid)) != nil)
    }
}

import NIOCore
