/// The presence changes of some topics, starting with a snapshot of them:
/// listen, then read, and no change between the two can be missed.
///
/// Made by ``Tracker/events(for:)``. The first element is always
/// ``PresenceEvent/snapshot(_:)``; after it come ``PresenceEvent/diff(_:)``s in
/// the order the tracker applied them. The sequence ends when the tracker stops,
/// and throws ``TrackerError/eventsOverflow(limit:)`` if its reader falls too far
/// behind. Iterate it once; listening stops when the sequence and its iterator
/// are gone.
public final class PresenceEvents: AsyncSequence, Sendable {
    public typealias Element = PresenceEvent
    public typealias Failure = TrackerError

    private let channel: PresenceEventChannel
    private let stopListening: @Sendable () -> Void

    init(channel: PresenceEventChannel, stopListening: @escaping @Sendable () -> Void) {
        self.channel = channel
        self.stopListening = stopListening
    }

    deinit {
        stopListening()
    }

    /// Reads the events in order.
    public struct AsyncIterator: AsyncIteratorProtocol {
        // Holding the sequence keeps the listener registered while iterating.
        let events: PresenceEvents

        /// The next event; `nil` once the tracker has stopped.
        ///
        /// - Throws: ``TrackerError/eventsOverflow(limit:)`` when the reader fell too far behind.
        public mutating func next() async throws(TrackerError) -> PresenceEvent? {
            try await events.channel.next()
        }

        /// The next event, as ``next()``, from the caller's isolation.
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(TrackerError) -> PresenceEvent? {
            try await events.channel.next()
        }
    }

    /// An iterator over the events; make one per sequence.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(events: self)
    }
}
