/// What a replica sends another to bring it up to date: a delta when one of its
/// delta generations covers what the other lacks, else its whole state.
enum TrackerPayload: Sendable, Equatable {
    /// Changes over a range of clocks.
    case delta(TrackerDelta)
    /// The whole state the remote can use.
    case full(TrackerTransfer)
}
