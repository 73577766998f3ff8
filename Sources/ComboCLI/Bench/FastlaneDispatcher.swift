import Combo
import Synchronization

/// The fastlane pattern (as Phoenix channels use it): a dispatcher that hands
/// each message straight to a target carried in the subscription's metadata,
/// for example a connection that writes it to its socket, instead of putting
/// it in the subscriber's mailbox for a task to read.
struct FastlaneDispatcher: Dispatcher {
    static let name = "bench.fastlane"

    /// Where a fastlane subscription's messages go. Hashable by identity so it can be metadata.
    final class Target: Hashable, Sendable {
        let received = Atomic<Int>(0)

        func send(_ message: Message) {
            received.add(1, ordering: .relaxed)
        }

        static func == (lhs: Target, rhs: Target) -> Bool { lhs === rhs }
        func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
    }

    var name: String { Self.name }

    func dispatch(_ subscriptions: SubscriptionList, from: SubscriberID?, message: Message) -> Int {
        var delivered = 0
        for subscription in subscriptions where subscription.subscriber != from {
            if let target = subscription.metadata as? Target {
                target.send(message)
                delivered += 1
            } else if subscription.deliver(message) {
                delivered += 1
            }
        }
        return delivered
    }
}
