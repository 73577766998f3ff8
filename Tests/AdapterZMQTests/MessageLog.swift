import Combo
import Synchronization

/// The text payloads a subscriber has read, recorded by a reader task.
final class MessageLog: Sendable {
    private final class Storage: Sendable {
        let texts = Mutex<[String]>([])
    }

    private let storage = Storage()
    private let reader: Task<Void, Never>

    /// Starts reading `subscriber` (whose messages are strings) until it ends or ``stop()``.
    init(_ subscriber: Subscriber) {
        let storage = self.storage
        reader = Task {
            do {
                for try await message in subscriber {
                    let text = (try? message.decode(String.self)) ?? "?"
                    storage.texts.withLock { $0.append(text) }
                }
            } catch {}
        }
    }

    var all: [String] { storage.texts.withLock { $0 } }
    var count: Int { storage.texts.withLock { $0.count } }

    func contains(_ text: String) -> Bool { storage.texts.withLock { $0.contains(text) } }

    func stop() {
        reader.cancel()
    }
}
