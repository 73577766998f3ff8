/// Receives every presence change of a tracker: Phoenix.Tracker's
/// `handle_diff/2` callback.
///
/// Diffs arrive one at a time, in the order the shard applied them; while
/// ``handleDiff(_:)`` runs, later diffs wait in order (the tracker's own work
/// does not), up to ``Tracker/Configuration/handlerBufferLimit`` of them: a
/// handler further behind loses the oldest waiting diffs, counted in
/// `combo_tracker_handler_diffs_dropped_total`. A typical handler broadcasts a `presence_diff` to the topic's
/// subscribers.
public protocol TrackerHandler: Sendable {
    /// Called with the joins and leaves of one change, grouped by topic.
    func handleDiff(_ diff: PresenceDiff) async
}
