import Combo
import DequeModule
import Synchronization

/// Reads a ``Subscriber`` in the background so that tests can await its
/// messages with a deadline instead of sleeping.
///
/// ```swift
/// let probe = SubscriberProbe(subscriber)
/// try await pubsub.broadcast("hi", to: "t")
/// let message = try await probe.next()          // waits at most 5 s
/// #expect(try message.decode(String.self) == "hi")
/// ```
///
/// Creating a probe starts a task that consumes the subscriber; ``stop()``
/// (or the end of the subscriber) ends it.
public final class SubscriberProbe: Sendable {
    struct State {
        var received: Deque<Message> = []
        var total = 0
        var ended: Result<Void, SubscriberError>?
        var waiter: (id: UInt64, count: Int, continuation: CheckedContinuation<Void, any Error>)?
        var nextWaiter: UInt64 = 0
    }

    /// The subscriber being read.
    public let subscriber: Subscriber
    private let state = Mutex(State())
    private let reader = Mutex<Task<Void, Never>?>(nil)

    /// Starts reading `subscriber`.
    public init(_ subscriber: Subscriber) {
        self.subscriber = subscriber
        let task = Task { [self] in
            var ending: Result<Void, SubscriberError> = .success(())
            var iterator = subscriber.makeAsyncIterator()
            do throws(SubscriberError) {
                while let message = try await iterator.next() {
                    let waiter = state.withLock { state in
                        state.received.append(message)
                        state.total += 1
                        return Self.takeSatisfiedWaiter(&state)
                    }
                    waiter?.resume()
                }
            } catch {
                ending = .failure(error)
            }
            let waiter = state.withLock { state in
                state.ended = ending
                return state.waiter.take()?.continuation
            }
            waiter?.resume()
        }
        reader.withLock { $0 = task }
    }

    private static func takeSatisfiedWaiter(_ state: inout State) -> CheckedContinuation<Void, any Error>? {
        guard let waiter = state.waiter, state.received.count >= waiter.count else { return nil }
        state.waiter = nil
        return waiter.continuation
    }

    /// Stops reading; messages already read stay available.
    public func stop() {
        reader.withLock { $0?.cancel() }
    }

    /// How many messages have been read so far, taken or not.
    public var totalReceived: Int { state.withLock { $0.total } }

    /// The messages read and not yet taken, without taking them.
    public var pending: [Message] { state.withLock { Array($0.received) } }

    /// How the subscriber's sequence ended, if it has.
    public var ending: Result<Void, SubscriberError>? { state.withLock { $0.ended } }

    /// Takes the next message, waiting at most `timeout` for it.
    ///
    /// - Throws: ``SubscriberProbeError`` on timeout or when the sequence ended.
    public func next(within timeout: Duration = .seconds(5)) async throws -> Message {
        try await next(count: 1, within: timeout)[0]
    }

    /// Takes the next `count` messages, waiting at most `timeout` for all of them.
    ///
    /// - Throws: ``SubscriberProbeError`` on timeout or when the sequence ended first.
    public func next(count: Int, within timeout: Duration = .seconds(5)) async throws -> [Message] {
        try await waitForPending(count, within: timeout)
        return state.withLock { state in
            let taken = Array(state.received.prefix(count))
            state.received.removeFirst(count)
            return taken
        }
    }

    /// Waits until the subscriber's sequence has ended, at most `timeout`.
    public func waitForEnd(within timeout: Duration = .seconds(5)) async throws -> Result<Void, SubscriberError> {
        try await waitForPending(Int.max, within: timeout, orEnd: true)
        return state.withLock { $0.ended! }
    }

    private func waitForPending(_ count: Int, within timeout: Duration, orEnd: Bool = false) async throws {
        let id = state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await withTaskCancellationHandler {
                    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                        let immediate: (any Error)?? = self.state.withLock { state in
                            if state.received.count >= count { return .some(nil) }
                            if let ended = state.ended {
                                if orEnd { return .some(nil) }
                                return .some(SubscriberProbeError.ended(ended, received: state.received.count, wanted: count))
                            }
                            if Task.isCancelled { return .some(CancellationError()) }
                            state.waiter = (id, count, continuation)
                            return .none
                        }
                        switch immediate {
                        case .none: break
                        case .some(.none): continuation.resume()
                        case .some(.some(let error)): continuation.resume(throwing: error)
                        }
                    }
                } onCancel: {
                    let waiter = self.state.withLock { state -> CheckedContinuation<Void, any Error>? in
                        guard state.waiter?.id == id else { return nil }
                        return state.waiter.take()?.continuation
                    }
                    waiter?.resume(throwing: CancellationError())
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                let have = self.state.withLock { $0.received.count }
                throw SubscriberProbeError.timedOut(received: have, wanted: count, after: timeout)
            }
            defer { group.cancelAll() }
            try await group.next()
        }
        // A waiter resumed by the end of the sequence may still be short of `count`.
        if !orEnd {
            let shortfall = state.withLock { state -> SubscriberProbeError? in
                guard state.received.count < count, let ended = state.ended else { return nil }
                return .ended(ended, received: state.received.count, wanted: count)
            }
            if let shortfall { throw shortfall }
        }
    }
}
