/// One tracked presence, as ``Tracker/list(_:)`` and diffs report it.
public struct Presence: Hashable, Sendable {
    /// The key it was tracked under, such as a user id.
    public let key: String
    /// Who tracks it (Elixir's pid), on whichever node.
    public let owner: PresenceOwnerID
    /// Its metadata, with its ``PresenceMeta/ref``.
    public let meta: PresenceMeta

    /// Makes a presence; trackers make these, tests may too.
    public init(key: String, owner: PresenceOwnerID, meta: PresenceMeta) {
        self.key = key
        self.owner = owner
        self.meta = meta
    }
}
