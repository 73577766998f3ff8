/// A mailbox that receives the messages of the topics it subscribes to.
///
/// The counterpart of a subscribing process. Make one with
/// ``PubSub/makeSubscriber(options:)`` (or, better, the scoped
/// ``PubSub/withSubscriber(options:_:)``), subscribe it to topics, and read its
/// messages with `for try await`. Its ``id`` is stable and meaningful on every
/// node, which is how `from:` excludes it from its own broadcasts.
///
/// A subscriber buffers at most ``SubscriberOptions/capacity`` messages; when
/// its consumer falls behind, its ``OverflowPolicy`` decides, and the broadcaster
/// never waits. It is one mailbox: when several tasks iterate it at once, each
/// message goes to one of them.
///
/// Its subscriptions end with ``close()``, at the end of the scope that made
/// it, or (as a safety net) when the last reference to it goes away.
public final class Subscriber: AsyncSequence, Sendable {
    public typealias Element = Message
    public typealias Failure = SubscriberError

    let inbox: Inbox
    let pubsub: PubSub

    init(inbox: Inbox, pubsub: PubSub) {
        self.inbox = inbox
        self.pubsub = pubsub
    }

    deinit {
        close()
    }

    /// The subscriber's identity, stable for its whole life and valid on every node.
    public var id: SubscriberID { inbox.id }

    /// Subscribes to `topic`; see ``PubSub/subscribe(_:to:metadata:)``.
    public func subscribe(to topic: String, metadata: (any Hashable & Sendable)? = nil) throws(PubSubError) {
        try pubsub.subscribe(self, to: topic, metadata: metadata)
    }

    /// Removes every subscription to `topic`; see ``PubSub/unsubscribe(_:from:)``.
    public func unsubscribe(from topic: String) {
        pubsub.unsubscribe(self, from: topic)
    }

    /// Removes the subscriptions to `topic` whose metadata equals `metadata`;
    /// see ``PubSub/unsubscribe(_:from:matching:)``.
    @discardableResult
    public func unsubscribe(from topic: String, matching metadata: any Hashable & Sendable) -> Int {
        pubsub.unsubscribe(self, from: topic, matching: metadata)
    }

    /// Ends every subscription, discards buffered messages and ends the message
    /// sequence of every consumer. Idempotent.
    public func close() {
        guard !inbox.isClosed else { return }
        pubsub.registry.removeAll(inbox, topics: inbox.close())
    }

    /// Whether the subscriber was closed or ended by its overflow policy.
    public var isClosed: Bool { inbox.isClosed }

    /// How many messages this subscriber has dropped under its overflow policy.
    public var droppedCount: Int { inbox.droppedCount }

    /// How many messages wait in the buffer.
    public var bufferedCount: Int { inbox.bufferedCount }

    /// The topics this subscriber is subscribed to, with the number of subscriptions to each.
    public var topics: [String: Int] { inbox.state.withLock { $0.topics } }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(subscriber: self)
    }

    /// Reads a subscriber's messages. Dropping an iterator loses nothing: the
    /// next iterator continues where it stopped.
    public struct AsyncIterator: AsyncIteratorProtocol {
        public typealias Element = Message
        public typealias Failure = SubscriberError

        // Holding the handle keeps the subscriber alive while it is iterated.
        private let subscriber: Subscriber

        init(subscriber: Subscriber) {
            self.subscriber = subscriber
        }

        /// The next message; `nil` once the subscriber is closed.
        ///
        /// - Throws: ``SubscriberError`` once, when the overflow policy
        ///   `.fail` ended the subscriber.
        public mutating func next() async throws(SubscriberError) -> Message? {
            if let ready = subscriber.inbox.takeIfReady() { return try ready.get() }
            return try await subscriber.inbox.wait().get()
        }

        /// The next message, read on the caller's executor (what `for await`
        /// calls): taking a buffered message switches no executor and does
        /// not suspend.
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(SubscriberError) -> Message? {
            if let ready = subscriber.inbox.takeIfReady() { return try ready.get() }
            return try await subscriber.inbox.wait().get()
        }
    }
}
