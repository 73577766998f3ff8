/// The presences that joined and left one topic in one change.
public struct TopicDiff: Hashable, Sendable {
    /// Presences that appeared, in the order they were applied.
    public var joins: [Presence]
    /// Presences that went away, in the order they were applied.
    public var leaves: [Presence]

    /// Makes a diff.
    public init(joins: [Presence] = [], leaves: [Presence] = []) {
        self.joins = joins
        self.leaves = leaves
    }
}
