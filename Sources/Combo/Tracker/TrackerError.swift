/// What a ``Tracker`` operation can fail with.
public enum TrackerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The owner already tracks a presence under this topic and key (Elixir's
    /// `{:error, {:already_tracked, pid, topic, key}}`); use ``Tracker/update(_:topic:key:values:)``.
    case alreadyTracked(owner: PresenceOwnerID, topic: String, key: String)
    /// There is no presence of this owner under this topic and key to update
    /// (Elixir's `{:error, :nopresence}`).
    case noPresence(owner: PresenceOwnerID, topic: String, key: String)
    /// The owner was made by another tracker, or on another node: only the
    /// tracker that made an owner can track for it.
    case foreignOwner(PresenceOwnerID)
    /// The owner's scope has ended; it can track nothing more.
    case ownerClosed(PresenceOwnerID)
    /// The tracker has stopped (after ``Tracker/gracefulPermdown()`` or the end
    /// of its ``Tracker/run()``).
    case stopped
    /// A ``PresenceEvents`` reader fell behind by more than
    /// ``Tracker/Configuration/eventBufferLimit`` events; listen again to get a
    /// fresh snapshot.
    case eventsOverflow(limit: Int)
    /// ``Tracker/run()`` was called while already running.
    case alreadyRunning
    /// The values nest deeper than other nodes accept.
    case metadataTooDeep(limit: Int)

    public var description: String {
        switch self {
        case .alreadyTracked(let owner, let topic, let key):
            "\(owner) already tracks \(key.debugDescription) on \(topic.debugDescription)"
        case .noPresence(let owner, let topic, let key):
            "\(owner) tracks no \(key.debugDescription) on \(topic.debugDescription)"
        case .foreignOwner(let owner):
            "\(owner) belongs to another tracker"
        case .ownerClosed(let owner):
            "\(owner) is closed"
        case .stopped:
            "the tracker has stopped"
        case .eventsOverflow(let limit):
            "presence events reader fell more than \(limit) events behind"
        case .alreadyRunning:
            "the tracker is already running"
        case .metadataTooDeep(let limit):
            "presence values nest deeper than \(limit) levels"
        }
    }

    /// The public form of a state error about one presence.
    init(_ error: TrackerStateError, owner: PresenceOwnerID, topic: String, key: String) {
        switch error {
        case .alreadyTracked: self = .alreadyTracked(owner: owner, topic: topic, key: key)
        case .foreignOwner(let owner): self = .foreignOwner(owner)
        case .metadataTooDeep(let limit): self = .metadataTooDeep(limit: limit)
        case .nonContiguousDelta: preconditionFailure("a local operation cannot meet a non-contiguous delta")
        }
    }
}
