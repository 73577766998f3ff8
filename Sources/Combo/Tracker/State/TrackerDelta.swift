/// The changes one or more replicas made over a range of their clocks: what a
/// heartbeat carries, and what delta generations accumulate.
///
/// For each replica in the range, every clock after ``start`` up to ``end`` is a
/// dot of the delta's causal context (its *clouds*); ``dots`` adds dots outside
/// the ranges (presences made earlier and removed within the range, or removals
/// this replica observed from others). A dot in the clouds without a value in
/// ``values`` is a removal. Keeping the ranges implicit means a delta of a
/// hundred thousand joins carries two clocks, not a hundred thousand dots.
struct TrackerDelta: Sendable, Equatable {
    /// The replica that produced (or accumulated) the delta.
    let origin: NodeIdentity
    /// For each replica in the range, the clock the delta starts after.
    private(set) var start: VersionVector
    /// For each replica in the range, the last clock the delta covers; same replicas as ``start``.
    private(set) var end: VersionVector
    /// Dots of the clouds outside the ranges, by replica; never empty sets.
    private(set) var dots: [NodeIdentity: DotSet]
    /// Presences added within the range, by the replica that made them, sorted by clock.
    private(set) var values: [NodeIdentity: [PresenceEntry]]

    /// Makes a delta, normalising it: ranges get the same replicas at both ends
    /// (a missing end is the start, an end below its start is raised to it),
    /// entries are sorted and unique by clock, dots inside the ranges are dropped,
    /// and a value's dot outside the ranges is added to ``dots`` so every value is
    /// in the clouds.
    init(
        origin: NodeIdentity,
        start: VersionVector,
        end: VersionVector,
        dots: [NodeIdentity: DotSet] = [:],
        values: [NodeIdentity: [PresenceEntry]] = [:]
    ) {
        self.origin = origin
        var starts: [NodeIdentity: UInt64] = [:]
        var ends: [NodeIdentity: UInt64] = [:]
        for replica in Set(start.replicas).union(end.replicas) {
            let first = start[replica] ?? end[replica] ?? 0
            starts[replica] = first
            ends[replica] = max(first, end[replica] ?? first)
        }
        self.start = VersionVector(starts)
        self.end = VersionVector(ends)
        var normalizedValues: [NodeIdentity: [PresenceEntry]] = [:]
        var normalizedDots = dots
        for (replica, entries) in values where !entries.isEmpty {
            let sorted = PresenceEntry.normalized(entries)
            normalizedValues[replica] = sorted
            let low = starts[replica]
            let high = ends[replica]
            for entry in sorted {
                if let low, let high, entry.clock > low, entry.clock <= high { continue }
                normalizedDots[replica, default: DotSet()].insert(entry.clock)
            }
        }
        for (replica, first) in starts {
            guard let last = ends[replica], last > first, normalizedDots[replica] != nil else { continue }
            normalizedDots[replica]?.subtract((first + 1)...last)
        }
        self.dots = normalizedDots.filter { !$0.value.isEmpty }
        self.values = normalizedValues
    }

    /// An empty delta of `origin` starting at its clock `clock`: what a state's
    /// pending delta is right after it was taken.
    static func empty(origin: NodeIdentity, at clock: UInt64) -> TrackerDelta {
        TrackerDelta(origin: origin, start: [origin: clock], end: [origin: clock])
    }

    /// Whether the dot (`replica`, `clock`) is in the delta's clouds.
    func covers(_ replica: NodeIdentity, _ clock: UInt64) -> Bool {
        if let first = start[replica], let last = end[replica], clock > first, clock <= last { return true }
        return dots[replica]?.contains(clock) ?? false
    }

    /// Whether the delta holds a value with this dot.
    func hasValue(_ replica: NodeIdentity, _ clock: UInt64) -> Bool {
        guard let entries = values[replica] else { return false }
        return PresenceEntry.index(of: clock, in: entries) != nil
    }

    /// The clouds with the ranges spelled out, by replica (empty sets left out).
    var clouds: [NodeIdentity: DotSet] {
        var result = dots
        for (replica, first) in start.clocks {
            guard let last = end[replica], last > first else { continue }
            result[replica, default: DotSet()].insert((first + 1)...last)
        }
        return result
    }

    /// Every dot of the clouds, sorted; for tests and small deltas.
    var cloudTags: [PresenceTag] {
        clouds.flatMap { replica, set in set.clocks.map { PresenceTag(replica: replica, clock: $0) } }.sorted()
    }

    /// The values as records, sorted by tag.
    var records: [PresenceRecord] {
        values.flatMap { replica, entries in entries.map { $0.record(replica: replica) } }.sorted { $0.tag < $1.tag }
    }

    /// How many presences the delta adds.
    var valueCount: Int { values.values.reduce(0) { $0 + $1.count } }

    /// Whether the clouds hold no dot: the delta changes nothing.
    var isEmpty: Bool {
        dots.isEmpty && start.clocks.allSatisfy { replica, first in (end[replica] ?? first) <= first }
    }

    /// Values plus dots in the clouds, as upstream's `delta_size/1` counts them;
    /// saturates at `Int.max`.
    var size: Int {
        var total = valueCount
        /// Adds, saturating: a peer's ranges may be as wide as the clock allows.
        func add(_ amount: Int) {
            let (sum, overflow) = total.addingReportingOverflow(amount)
            total = overflow ? .max : sum
        }
        for (replica, first) in start.clocks {
            let width = (end[replica] ?? first) - first
            add(width > UInt64(Int.max) ? .max : Int(width))
        }
        for set in dots.values { add(set.count) }
        return total
    }

    /// This delta followed by `later`, as one delta (upstream `merge_deltas/2`).
    ///
    /// The clouds are united; a value survives if the other delta holds it too or
    /// never saw its dot, so a removal in either wins over an add it observed.
    ///
    /// - Throws: ``TrackerStateError/nonContiguousDelta`` when the clock ranges
    ///   neither overlap nor touch, so the result would have a gap.
    func merging(_ later: TrackerDelta) throws(TrackerStateError) -> TrackerDelta {
        guard later.end.dominatesOrEqual(start), end.dominatesOrEqual(later.start) else {
            throw .nonContiguousDelta
        }
        var mergedDots = dots
        for (replica, set) in later.dots { mergedDots[replica, default: DotSet()].formUnion(set) }
        var mergedValues: [NodeIdentity: [PresenceEntry]] = [:]
        for replica in Set(values.keys).union(later.values.keys) {
            let mine = values[replica] ?? []
            let theirs = later.values[replica] ?? []
            var merged: [PresenceEntry] = []
            merged.reserveCapacity(mine.count + theirs.count)
            for entry in mine
            where PresenceEntry.index(of: entry.clock, in: theirs) != nil || !later.covers(replica, entry.clock) {
                merged.append(entry)
            }
            for entry in theirs
            where PresenceEntry.index(of: entry.clock, in: mine) == nil && !covers(replica, entry.clock) {
                merged.append(entry)
            }
            if !merged.isEmpty { mergedValues[replica] = merged }
        }
        return TrackerDelta(
            origin: origin, start: start.lowerBound(later.start), end: end.upperBound(later.end),
            dots: mergedDots, values: mergedValues
        )
    }

    /// The part of the delta `remote` can use: replicas its context knows, and
    /// nothing of `remote` itself (identities compare name and incarnation).
    ///
    /// Upstream's `extract/3` drops the remote's presences but keeps its dots, so
    /// the result claims the remote's live presences were removed; a remote that
    /// pushes such a delta into its delta generations then serves those removals to
    /// others. Leaving the remote's replica out entirely costs nothing, since a
    /// state never merges anything about its own replica.
    func extract(for remote: NodeIdentity, remoteContext: VersionVector) -> TrackerDelta {
        let keep = { (replica: NodeIdentity) in replica != remote && remoteContext[replica] != nil }
        return TrackerDelta(
            origin: origin,
            start: VersionVector(start.clocks.filter { keep($0.key) }),
            end: VersionVector(end.clocks.filter { keep($0.key) }),
            dots: dots.filter { keep($0.key) },
            values: values.filter { keep($0.key) }
        )
    }

    /// Forgets everything about `replica` (upstream `remove_down_replicas/2` on a delta).
    mutating func removeReplica(_ replica: NodeIdentity) {
        start[replica] = nil
        end[replica] = nil
        dots[replica] = nil
        values[replica] = nil
    }
}
