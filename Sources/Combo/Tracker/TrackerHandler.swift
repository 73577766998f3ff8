/// Receives every presence change of a tracker: Phoenix.Tracker's
/// `handle_diff/2` callback.
///
/// Diffs arrive one at a time, in the order the shard applied them; while
/// ``handleDiff(_:)`` runs, later diffs wait in order (the tracker's own work
/// does not). A typical handler broadcasts a `presence_diff` to the topic's
/// subscribers.
public protocol TrackerHandler: Sendable {
    /// Called with the joins and leaves of one change, grouped by topic.
    func handleDiff(_ diff: PresenceDiff) async
}
