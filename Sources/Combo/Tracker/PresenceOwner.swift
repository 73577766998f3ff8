import Synchronization

/// A handle that owns presences, like the Elixir process passed to
/// `Phoenix.Tracker.track/5`: when it closes, every presence it tracked leaves,
/// on every node.
///
/// Made by ``Tracker/withOwner(_:)`` (closed when the scope ends) or
/// ``Tracker/makeOwner()`` (closed by ``close()``, or when the last reference
/// goes away, as a safety net).
public final class PresenceOwner: Sendable {
    /// The owner's identity, as other nodes see it in ``Presence/owner``.
    public let id: PresenceOwnerID
    /// The tracker that made this owner.
    public let tracker: Tracker
    private let closed = Atomic(false)

    init(id: PresenceOwnerID, tracker: Tracker) {
        self.id = id
        self.tracker = tracker
    }

    deinit {
        close()
    }

    /// Whether ``close()`` has run.
    public var isClosed: Bool { closed.load(ordering: .acquiring) }

    /// Tracks a presence under `topic` and `key`; see ``Tracker/track(_:topic:key:values:)``.
    @discardableResult
    public func track(topic: String, key: String, values: [String: PresenceValue] = [:]) throws(TrackerError) -> PresenceRef {
        guard !isClosed else { throw .ownerClosed(id) }
        return try tracker.track(id, topic: topic, key: key, values: values)
    }

    /// Replaces a presence's values; see ``Tracker/update(_:topic:key:values:)``.
    @discardableResult
    public func update(topic: String, key: String, values: [String: PresenceValue]) throws(TrackerError) -> PresenceRef {
        guard !isClosed else { throw .ownerClosed(id) }
        return try tracker.update(id, topic: topic, key: key, values: values)
    }

    /// Updates a presence's values with a function of the current ones; see
    /// ``Tracker/update(_:topic:key:_:)``.
    @discardableResult
    public func update(
        topic: String, key: String, _ transform: ([String: PresenceValue]) -> [String: PresenceValue]
    ) throws(TrackerError) -> PresenceRef {
        guard !isClosed else { throw .ownerClosed(id) }
        return try tracker.update(id, topic: topic, key: key, transform)
    }

    /// Stops tracking one presence.
    public func untrack(topic: String, key: String) {
        tracker.untrack(id, topic: topic, key: key)
    }

    /// Untracks every presence of this owner and refuses new ones. Safe to call twice.
    public func close() {
        guard closed.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            return
        }
        tracker.untrackAll(id)
    }
}
