/// One delta generation: a run of deltas merged into one, kept as clocks only.
///
/// Upstream keeps each generation as a whole delta, values included, so a burst
/// of a hundred thousand tracks leaves a copy of every presence in each
/// generation (three by default) on every node. A generation here keeps the
/// delta's clouds and, as a set of dots, which of them were live values when the
/// run ended; ``extract(from:for:remoteContext:)`` reads those values back from
/// the state. Every pushed delta has been merged into that state first, so a
/// value dot is either still a row there, with the very values the delta carried
/// (a change of metadata makes a new dot), or was removed since; a removed one is
/// sent as a removal, which is what the remote would learn from the later deltas
/// anyway. Bursts of joins take consecutive clocks, so the value dots of a large
/// generation are a few intervals.
struct DeltaGeneration: Sendable, Equatable {
    /// The generation's clocks as a delta without values.
    private(set) var clouds: TrackerDelta
    /// The dots of the clouds that are values, by replica; never empty sets.
    private(set) var valueDots: [NodeIdentity: DotSet]

    /// The generation of one delta, limited to the replicas `keeps` accepts.
    init(_ delta: TrackerDelta, keeping keeps: (NodeIdentity) -> Bool = { _ in true }) {
        clouds = TrackerDelta(
            origin: delta.origin, start: VersionVector(delta.start.clocks.filter { keeps($0.key) }),
            end: VersionVector(delta.end.clocks.filter { keeps($0.key) }), dots: delta.dots.filter { keeps($0.key) })
        var valueDots: [NodeIdentity: DotSet] = [:]
        for (replica, entries) in delta.values where !entries.isEmpty && keeps(replica) {
            // Entries are sorted by clock, so consecutive clocks extend one interval.
            var intervals: [ClosedRange<UInt64>] = []
            for entry in entries {
                if let last = intervals.last, last.upperBound &+ 1 == entry.clock {
                    intervals[intervals.count - 1] = last.lowerBound...entry.clock
                } else {
                    intervals.append(entry.clock...entry.clock)
                }
            }
            valueDots[replica] = DotSet(intervals: intervals)
        }
        self.valueDots = valueDots
    }

    private init(clouds: TrackerDelta, valueDots: [NodeIdentity: DotSet]) {
        self.clouds = clouds
        self.valueDots = valueDots.filter { !$0.value.isEmpty }
    }

    /// For each replica in the range, the clock the generation starts after.
    var start: VersionVector { clouds.start }

    /// For each replica in the range, the last clock the generation covers.
    var end: VersionVector { clouds.end }

    /// Values plus dots in the clouds, as upstream's `delta_size/1` counts a
    /// delta; saturates at `Int.max`.
    var size: Int {
        var total = clouds.size
        for set in valueDots.values {
            let (sum, overflow) = total.addingReportingOverflow(set.count)
            total = overflow ? .max : sum
        }
        return total
    }

    /// This generation followed by `later`, with upstream's `merge_deltas/2`
    /// rule: a value survives if the other side holds it too or never saw its
    /// dot, so a removal in either wins over an add it observed.
    ///
    /// - Throws: ``TrackerStateError/nonContiguousDelta`` when the clock ranges
    ///   neither overlap nor touch.
    func merging(_ later: DeltaGeneration) throws(TrackerStateError) -> DeltaGeneration {
        let mergedClouds = try clouds.merging(later.clouds)
        let myClouds = clouds.clouds
        let laterClouds = later.clouds.clouds
        var merged: [NodeIdentity: DotSet] = [:]
        for replica in Set(valueDots.keys).union(later.valueDots.keys) {
            let mine = valueDots[replica] ?? DotSet()
            let theirs = later.valueDots[replica] ?? DotSet()
            let removedByLater = (laterClouds[replica] ?? DotSet()).subtracting(theirs)
            let removedByMe = (myClouds[replica] ?? DotSet()).subtracting(mine)
            var kept = mine.subtracting(removedByLater)
            kept.formUnion(theirs.subtracting(removedByMe))
            merged[replica] = kept
        }
        return DeltaGeneration(clouds: mergedClouds, valueDots: merged)
    }

    /// The generation as a delta `remote` can use, its values read from `state`:
    /// replicas the remote's context knows, nothing of the remote itself.
    func extract(from state: TrackerState, for remote: NodeIdentity, remoteContext: VersionVector) -> TrackerDelta {
        let kept = clouds.extract(for: remote, remoteContext: remoteContext)
        let wanted = valueDots.filter { replica, _ in replica != remote && remoteContext[replica] != nil }
        return TrackerDelta(
            origin: kept.origin, start: kept.start, end: kept.end, dots: kept.dots,
            values: wanted.isEmpty ? [:] : state.entries(withDots: wanted)
        )
    }

    /// Forgets everything about `replica`.
    mutating func removeReplica(_ replica: NodeIdentity) {
        clouds.removeReplica(replica)
        valueDots[replica] = nil
    }
}
