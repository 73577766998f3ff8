import DequeModule
import Synchronization

/// The mailbox behind a ``Subscriber``: a bounded buffer plus waiting consumers.
///
/// The registry holds inboxes, not `Subscriber` handles, so that a handle that
/// is dropped without `close()` is still deinitialised and unsubscribes (the
/// safety net; the scope of `withSubscriber` is the normal way).
final class Inbox: Sendable {
    typealias Waiter = UnsafeContinuation<Result<Message?, SubscriberError>, Never>

    /// Messages in order. A `UniqueDeque` rather than a `Deque`: its
    /// `append` moves the message in, where `Deque`'s copies it (two retains
    /// and two releases per message).
    typealias Messages = UniqueDeque<Message>

    struct State: ~Copyable {
        var buffer = Messages()
        var waiters: Deque<(token: UInt64, continuation: Waiter)> = []
        /// Subscriptions per topic, so that closing removes exactly what exists.
        var topics: [String: Int] = [:]
        var closed = false
        var failure: SubscriberError?
        var dropped = 0
    }

    enum Delivery {
        case buffered
        case resumed(Waiter)
        case dropped
        case overflowFailed
        case closed
    }

    let id: SubscriberID
    let capacity: Int
    let overflowPolicy: OverflowPolicy
    let state = Mutex(State())
    /// Identifies a waiting consumer so that its cancellation removes exactly it.
    private let nextToken = Atomic<UInt64>(0)
    /// Messages moved out of the buffer for consumers. Lock order: `taken`, then `state`.
    let taken = Mutex(Messages())

    init(id: SubscriberID, options: SubscriberOptions) {
        self.id = id
        self.capacity = max(1, options.capacity)
        self.overflowPolicy = options.overflowPolicy
    }

    /// What offering several messages at once did.
    struct BatchDelivery {
        /// Messages that reached the buffer or a waiting reader.
        var delivered = 0
        /// Messages the overflow policy dropped (with `.dropOldest`, the older
        /// message left and the offered one was buffered; counted as a drop).
        var dropped = 0
        /// Whether the overflow policy `.fail` closed the inbox.
        var failed = false
        /// Readers to resume outside the lock, each with its message.
        var resumed: [(Waiter, Message)] = []
    }

    /// Offers messages in order under one acquisition of the lock, each as
    /// ``offer(_:)`` would; never waits. Messages after the inbox closed are
    /// left out. Takes the messages: `messages` is left empty.
    ///
    /// When the buffer is empty and the messages fit, they become the buffer
    /// by a swap (the old, empty buffer's storage goes back to the caller for
    /// reuse); otherwise each is moved over. A message is never copied here.
    func offer(contentsOf messages: inout Messages) -> BatchDelivery {
        defer { messages.removeAll() }
        return state.withLock { state in
            var outcome = BatchDelivery()
            while !state.closed, !state.waiters.isEmpty, let message = messages.popFirst() {
                outcome.resumed.append((state.waiters.removeFirst().continuation, message))
                outcome.delivered += 1
            }
            if !state.closed, state.buffer.isEmpty, messages.count <= capacity {
                outcome.delivered += messages.count
                swap(&state.buffer, &messages)
                return outcome
            }
            while let message = messages.popFirst() {
                if state.closed { break }
                if !state.waiters.isEmpty {
                    outcome.resumed.append((state.waiters.removeFirst().continuation, message))
                    outcome.delivered += 1
                } else if state.buffer.count < capacity {
                    state.buffer.append(message)
                    outcome.delivered += 1
                } else {
                    state.dropped += 1
                    outcome.dropped += 1
                    switch overflowPolicy {
                    case .dropOldest:
                        _ = state.buffer.removeFirst()
                        state.buffer.append(message)
                    case .dropNewest:
                        break
                    case .fail:
                        state.closed = true
                        state.failure = .slowConsumer(capacity: capacity)
                        outcome.failed = true
                    }
                }
            }
            return outcome
        }
    }

    /// Offers a message; never waits.
    ///
    /// The caller handles what needs work outside the lock (resuming a consumer,
    /// unsubscribing after an overflow failure, counting a drop).
    @inline(__always)
    func offer(_ message: Message) -> Delivery {
        state.withLock { state in
            if state.closed { return .closed }
            if !state.waiters.isEmpty {
                return .resumed(state.waiters.removeFirst().continuation)
            }
            if state.buffer.count < capacity {
                state.buffer.append(copy message)
                return .buffered
            }
            switch overflowPolicy {
            case .dropOldest:
                _ = state.buffer.removeFirst()
                state.buffer.append(copy message)
                state.dropped += 1
                return .dropped
            case .dropNewest:
                state.dropped += 1
                return .dropped
            case .fail:
                state.dropped += 1
                state.closed = true
                state.failure = .slowConsumer(capacity: capacity)
                return .overflowFailed
            }
        }
    }

    /// Takes the next message or reports the end; `nil` when the reader has
    /// to wait (see ``wait()``).
    ///
    /// Consumers take from ``taken``, refilled by swapping in the producers'
    /// whole buffer: one contended lock per batch instead of per message, and
    /// the batch belongs to the subscriber, not to an iterator, so nothing is
    /// lost when an iterator is dropped or several tasks consume.
    ///
    /// Synchronous, so that a reader finding a message buffered neither
    /// suspends nor allocates an asynchronous frame for it.
    func takeIfReady() -> Result<Message?, SubscriberError>? {
        taken.withLock { batch in
            if let message = batch.popFirst() { return .success(message) }
            return state.withLock { state in
                if !state.buffer.isEmpty {
                    swap(&state.buffer, &batch)
                    return .success(batch.removeFirst())
                }
                if state.closed { return Self.ending(&state) }
                return nil
            }
        }
    }

    /// The end of a closed inbox: its failure once, then the normal end.
    private static func ending(_ state: inout State) -> Result<Message?, SubscriberError> {
        if let failure = state.failure {
            state.failure = nil
            return .failure(failure)
        }
        return .success(nil)
    }

    /// Waits for the next message or the end (after ``takeIfReady()`` found
    /// neither). Runs on the caller's executor.
    nonisolated(nonsending) func wait() async -> Result<Message?, SubscriberError> {
        let token = nextToken.wrappingAdd(1, ordering: .relaxed).newValue
        return await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: Waiter) in
                let immediate: Result<Message?, SubscriberError>? = state.withLock { state in
                    if let message = state.buffer.popFirst() { return .success(message) }
                    if state.closed { return Self.ending(&state) }
                    if Task.isCancelled { return .success(nil) }
                    state.waiters.append((token, continuation))
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter: Waiter? = state.withLock { state in
                guard let index = state.waiters.firstIndex(where: { $0.token == token }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            waiter?.resume(returning: .success(nil))
        }
    }

    /// Marks the inbox closed, discards what is buffered, ends every waiting
    /// consumer, and returns the topics it was subscribed to.
    func close() -> [String: Int] {
        let (waiters, topics) = state.withLock { state in
            state.closed = true
            state.buffer.removeAll()
            let waiters = state.waiters
            state.waiters.removeAll()
            let topics = state.topics
            state.topics.removeAll()
            return (waiters, topics)
        }
        taken.withLock { $0.removeAll() }
        for waiter in waiters { waiter.continuation.resume(returning: .success(nil)) }
        return topics
    }

    /// After an overflow failure: ends waiting consumers (the buffer stays
    /// readable) and returns the topics to remove from the registry.
    func takeTopicsAfterFailure() -> [String: Int] {
        state.withLock { state in
            let topics = state.topics
            state.topics.removeAll()
            return topics
        }
    }

    var droppedCount: Int { state.withLock { $0.dropped } }
    var bufferedCount: Int { taken.withLock { batch in batch.count + state.withLock { $0.buffer.count } } }
    var isClosed: Bool { state.withLock { $0.closed } }
}
