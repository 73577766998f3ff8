import ArgumentParser
import Combo
import Logging

/// `combo demo`: Combo's main job in miniature.
///
/// Until the mesh adapter lands this runs one node in one process: three
/// subscribers, a broadcast, a broadcast that skips its sender, a custom
/// dispatcher and a direct broadcast to the node itself.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a small Combo demonstration and exit."
    )

    struct ChatLine: Codable, Sendable {
        let user: String
        let text: String
    }

    func run() async throws {
        let pubsub = try PubSub(configuration: .init(name: "demo"), adapter: SingleNode(nodeName: "demo-node"))
        let users = ["ada", "grace", "linus"]
        let subscribers = try users.map { user in
            let subscriber = pubsub.makeSubscriber()
            try subscriber.subscribe(to: "room:lobby", metadata: user)
            return subscriber
        }
        defer { subscribers.forEach { $0.close() } }
        print("node \(pubsub.node): \(users.count) subscribers on room:lobby")

        try await pubsub.broadcast(ChatLine(user: "ada", text: "hello, everyone"), to: "room:lobby")
        try await pubsub.broadcast(ChatLine(user: "grace", text: "hi ada"), to: "room:lobby", from: subscribers[1].id)
        try await pubsub.directBroadcast(ChatLine(user: "system", text: "direct to this node"), to: "room:lobby", on: pubsub.nodeName)

        var received = 0
        for (user, subscriber) in zip(users, subscribers) {
            var iterator = subscriber.makeAsyncIterator()
            let expected = user == "grace" ? 2 : 3
            for _ in 0..<expected {
                guard let message = try await iterator.next() else { break }
                let line = try message.decode(ChatLine.self)
                print("  \(user) <- \(line.user): \(line.text)")
                received += 1
            }
        }
        let expected = 8
        print("summary: \(received) of \(expected) deliveries (grace skipped her own message)")
        if received != expected { throw ExitCode.failure }
    }
}
