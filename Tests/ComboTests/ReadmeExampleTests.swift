import Combo
import Testing

/// The README's example, kept compiling and working.
@Suite("README example")
struct ReadmeExampleTests {
    struct ChatLine: Codable, Sendable {
        let user: String
        let text: String
    }

    @Test("the README's example prints the line it broadcast")
    func example() async throws {
        let pubsub = try PubSub(configuration: .init(name: "chat"))
        var printed: [String] = []
        try await pubsub.withSubscriber { subscriber in
            try subscriber.subscribe(to: "room:lobby")
            try await pubsub.broadcast(ChatLine(user: "ada", text: "hello"), to: "room:lobby")
            for try await message in subscriber {
                let line = try message.decode(ChatLine.self)
                printed.append("\(line.user): \(line.text)")
                break
            }
        }
        #expect(printed == ["ada: hello"])
        #expect(pubsub.subscriptions(of: "room:lobby").isEmpty)
    }

    @Test("the README's presence example sees its own presence, and it leaves with the owner")
    func presenceExample() async throws {
        let pubsub = try PubSub(configuration: .init(name: "chat"))
        let tracker = try Tracker(configuration: .init(name: "presence"), pubsub: pubsub)
        let running = Task { try await tracker.run() }
        defer { running.cancel() }
        var seen: [String: [String]] = [:]
        try await tracker.withOwner { owner in
            try owner.track(topic: "room:lobby", key: "user:42", values: ["status": "online"])
            for try await event in tracker.events(for: ["room:lobby"]) {
                if case .snapshot(let presences) = event {
                    seen = presences.mapValues { $0.map(\.key) }
                }
                break
            }
        }
        #expect(seen == ["room:lobby": ["user:42"]])
        #expect(tracker.list("room:lobby").isEmpty)
    }
}
