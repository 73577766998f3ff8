@testable import Combo
import Testing

@Suite("Confirmed broadcast")
struct ConfirmedBroadcastTests {
    struct Note: Codable, Sendable, Equatable {
        let text: String
    }

    @Test("an adapter that cannot confirm refuses with confirmationUnsupported, sending and delivering nothing")
    func unsupportedAdapter() async throws {
        let factory = CapturingAdapterFactory()
        let capturing = try PubSub(configuration: .init(name: "t"), adapter: factory)
        let single = try PubSub(configuration: .init(name: "t"))
        for (pubsub, adapterName) in [(capturing, "CapturingAdapter"), (single, "SingleNodeAdapter")] {
            let subscriber = pubsub.makeSubscriber()
            try subscriber.subscribe(to: "room")
            do {
                _ = try await pubsub.confirmedBroadcast(Note(text: "sure?"), to: "room")
                Issue.record("confirmedBroadcast must throw on \(adapterName)")
            } catch {
                guard case .confirmationUnsupported(let adapter) = error else {
                    Issue.record("expected confirmationUnsupported, got \(error)")
                    continue
                }
                #expect(adapter == adapterName)
                #expect(error.description == "confirmed broadcasts are not supported by the adapter \(adapterName)")
            }
            #expect(subscriber.bufferedCount == 0)
        }
        #expect(factory.adapter.sentEnvelopes.isEmpty)
    }

    @Test("an unknown dispatcher is reported before the adapter is asked")
    func unknownDispatcher() async throws {
        let pubsub = try PubSub(configuration: .init(name: "t"))
        do {
            _ = try await pubsub.confirmedBroadcast(Note(text: "x"), to: "room", dispatcher: "nope")
            Issue.record("an unknown dispatcher must throw")
        } catch {
            guard case .unknownDispatcher("nope") = error else {
                Issue.record("expected unknownDispatcher, got \(error)")
                return
            }
        }
    }

    @Test("a receipt tells an underdelivered broadcast only when both counts are known")
    func receipt() {
        #expect(BroadcastReceipt(receivers: 1, expectedReceivers: 2).isUnderdelivered)
        #expect(!BroadcastReceipt(receivers: 2, expectedReceivers: 2).isUnderdelivered)
        #expect(!BroadcastReceipt(receivers: 3, expectedReceivers: 2).isUnderdelivered)
        #expect(!BroadcastReceipt(receivers: nil, expectedReceivers: 2).isUnderdelivered)
        #expect(!BroadcastReceipt(receivers: 1).isUnderdelivered)
        #expect(BroadcastReceipt(receivers: 1, expectedReceivers: 2).description == "BroadcastReceipt(receivers: 1, expected: 2)")
    }
}
