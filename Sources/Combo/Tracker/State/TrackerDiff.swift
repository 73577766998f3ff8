/// What a change to the tracker state made visible or hid: presences that joined
/// and presences that left.
///
/// Only presences of replicas that are up are reported; an update shows the old
/// record leaving and the new one joining in the same diff.
struct TrackerDiff: Sendable, Equatable {
    /// Presences that became visible.
    var joins: [PresenceRecord]
    /// Presences that stopped being visible.
    var leaves: [PresenceRecord]

    /// A diff, empty unless told otherwise.
    init(joins: [PresenceRecord] = [], leaves: [PresenceRecord] = []) {
        self.joins = joins
        self.leaves = leaves
    }

    /// Whether nothing joined or left.
    var isEmpty: Bool { joins.isEmpty && leaves.isEmpty }

    /// Appends the joins and leaves of `other`.
    mutating func append(_ other: TrackerDiff) {
        joins.append(contentsOf: other.joins)
        leaves.append(contentsOf: other.leaves)
    }
}
