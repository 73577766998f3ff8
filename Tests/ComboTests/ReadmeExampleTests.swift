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
}
