/// Recent deltas accumulated at a few sizes, so a replica that missed some
/// heartbeats can be sent the smallest delta that brings it up to date instead
/// of the whole state (upstream `DeltaGeneration`, option `max_delta_sizes`).
///
/// Generation *i* merges every delta pushed while it stays within
/// `maxSizes[i]`; when it would grow past that it restarts from what the
/// smaller generation just became. Generations keep clocks, not values (see
/// ``DeltaGeneration``), so they cost memory by the number of replicas and gaps,
/// not by the number of presences a burst made.
struct DeltaGenerations: Sendable {
    /// The largest size of each generation, smallest first.
    let maxSizes: [Int]
    /// The generations, smallest first; empty until the first push or after ``reset()``.
    private(set) var generations: [DeltaGeneration] = []

    /// Generations of the given sizes (upstream's default: 100, 1,000 and 10,000).
    init(maxSizes: [Int] = [100, 1000, 10000]) {
        self.maxSizes = maxSizes
    }

    /// Generations as given, for tests of extraction.
    init(maxSizes: [Int], generations: [TrackerDelta]) {
        self.maxSizes = maxSizes
        self.generations = generations.map { DeltaGeneration($0) }
    }

    /// Adds a delta this shard sent or merged into `parent`, the state after it:
    /// without generations yet, each starts from the state's (empty) pending
    /// delta, which pins this replica's current clock as their start.
    mutating func push(_ delta: TrackerDelta, parent: TrackerState) {
        if generations.isEmpty {
            generations = Array(repeating: DeltaGeneration(parent.pendingDelta), count: maxSizes.count)
        }
        // A state merges only replicas it knows; a generation claiming others would
        // answer for presences the state never held.
        let delta = DeltaGeneration(delta) { $0 == parent.replica || parent.status(of: $0) != nil }
        var previous = delta
        var updated: [DeltaGeneration] = []
        updated.reserveCapacity(generations.count)
        for (generation, maxSize) in zip(generations, maxSizes) {
            do {
                let merged = try generation.merging(delta)
                updated.append(merged.size <= maxSize ? merged : previous)
                previous = merged
            } catch {
                // A delta with a gap cannot extend this generation; keep it as it was.
                updated.append(generation)
                previous = generation
            }
        }
        generations = updated
    }

    /// What `remote`, whose context is `remoteContext`, needs from `state`: the
    /// smallest generation that starts where the remote is and goes beyond it,
    /// extracted for the remote, or else the whole state.
    func extract(from state: TrackerState, for remote: NodeIdentity, remoteContext: VersionVector) -> TrackerPayload {
        for generation in generations {
            let start = generation.start.filtered(toReplicasOf: remoteContext)
            let end = generation.end.filtered(toReplicasOf: remoteContext)
            if !start.dominatesOrEqual(end), remoteContext.dominatesOrEqual(start), !remoteContext.dominates(end) {
                return .delta(generation.extract(from: state, for: remote, remoteContext: remoteContext))
            }
        }
        return .full(state.extract(for: remote, remoteContext: remoteContext))
    }

    /// Forgets a permanently-down replica in every generation.
    mutating func removeReplica(_ replica: NodeIdentity) {
        for index in generations.indices { generations[index].removeReplica(replica) }
    }

    /// Drops every generation: after merging a full state, the deltas no longer
    /// describe the steps from one known state to the next.
    mutating func reset() {
        generations = []
    }
}
