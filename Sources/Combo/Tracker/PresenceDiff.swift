/// Joins and leaves grouped by topic: the argument of Phoenix.Tracker's
/// `handle_diff/2`.
///
/// An update appears as the old presence leaving and the new one joining in the
/// same diff, so a consumer that applies leaves before joins ends with the new
/// metadata.
public struct PresenceDiff: Hashable, Sendable {
    /// The changes per topic; topics without changes are absent.
    public var topics: [String: TopicDiff]

    /// Makes a diff.
    public init(topics: [String: TopicDiff] = [:]) {
        self.topics = topics
    }

    /// Whether nothing changed.
    public var isEmpty: Bool { topics.isEmpty }

    /// How many joins and leaves in all.
    public var count: Int { topics.values.reduce(0) { $0 + $1.joins.count + $1.leaves.count } }
}
