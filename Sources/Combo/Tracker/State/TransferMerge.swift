/// A full transfer being merged into a ``TrackerState`` a bounded amount of
/// work at a time (``TrackerState/continueMerge(_:budget:)``), so that the
/// lock around the state can be released between steps: a transfer of a
/// hundred thousand presences would otherwise hold it, and every local
/// `track` waiting on it, for the whole merge.
///
/// The steps do exactly what one merge does, in the same order: first the
/// rows of the covered replicas that the transfer's context has seen and its
/// values lack are removed (a scan of the rows), then each covered replica's
/// values are admitted and its context and clouds updated. A replica's
/// context advances only after all of its values are in, so between steps
/// the state never claims to have seen a dot it does not hold.
///
/// Between steps the state may change, as a shard allows: local presences
/// come and go (never a covered replica's), a covered replica may go down or
/// up (later values are admitted hidden or shown accordingly), or be
/// forgotten (its remaining values are skipped). Nothing else may be merged
/// meanwhile.
struct TransferMerge: Sendable {
    /// Where the merge stands.
    enum Phase: Sendable, Equatable {
        /// Scanning rows for removals, from this row slot on.
        case removing(nextRow: UInt32)
        /// Admitting the values of `covered[replica]`, from value `value` on.
        case admitting(replica: Int, value: Int)
        /// Finished.
        case done
    }

    /// The transfer being merged.
    let transfer: TrackerTransfer
    /// The remote replicas it covers that the state knew when the merge
    /// began, in slot order; each is looked up again at every step.
    let covered: [NodeIdentity]
    /// Each covered replica's values, sorted by clock.
    let values: [[PresenceEntry]]
    /// Where the merge stands.
    var phase: Phase

    /// Whether every step has been taken.
    var isDone: Bool { phase == .done }
}
