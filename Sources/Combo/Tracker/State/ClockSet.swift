/// The clocks a shard has sampled from its peers, keeping only dominant ones
/// (upstream `Clock.append_clock/2` and `Clock.clockset_replicas/1`).
///
/// A shard asks for a transfer from the replicas left in the set: those whose
/// clocks no other sampled clock (nor its own) dominates.
struct ClockSet: Sendable, Equatable {
    /// The sampled clocks, by the replica that sent each; order carries no meaning.
    private(set) var clocks: [(replica: NodeIdentity, clock: VersionVector)] = []

    /// An empty set.
    init() {}

    /// A set holding exactly `clocks`, as sampled before (no trimming).
    init(_ clocks: [(replica: NodeIdentity, clock: VersionVector)]) {
        self.clocks = clocks
    }

    /// The replicas whose clocks the set keeps.
    var replicas: [NodeIdentity] { clocks.map(\.replica) }

    /// Whether the set holds no clock.
    var isEmpty: Bool { clocks.isEmpty }

    /// Adds `clock`, sampled from `replica`, keeping only clocks that no other dominates.
    ///
    /// An empty clock is ignored. A clock that dominates the upper bound of the set
    /// replaces the whole set; one that the upper bound dominates is dropped; any
    /// other replaces the clocks it dominates and joins the set unless one of them
    /// dominates it.
    mutating func append(_ replica: NodeIdentity, _ clock: VersionVector) {
        guard !clock.isEmpty else { return }
        let combined = clocks.reduce(VersionVector()) { $0.upperBound($1.clock) }
        if clock.dominates(combined) {
            clocks = [(replica, clock)]
            return
        }
        if combined.dominates(clock) { return }
        var kept: [(replica: NodeIdentity, clock: VersionVector)] = []
        var insert = false
        for entry in clocks {
            if clock.dominates(entry.clock) {
                insert = true
            } else {
                kept.append(entry)
                insert = insert || !entry.clock.dominates(clock)
            }
        }
        if insert { kept.append((replica, clock)) }
        clocks = kept
    }

    static func == (lhs: ClockSet, rhs: ClockSet) -> Bool {
        lhs.clocks.count == rhs.clocks.count
            && zip(lhs.clocks, rhs.clocks).allSatisfy { $0.replica == $1.replica && $0.clock == $1.clock }
    }
}
