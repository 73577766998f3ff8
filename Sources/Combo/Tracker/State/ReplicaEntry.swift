/// What a ``TrackerState`` knows of one replica: its part of the context, its
/// cloud, whether it is up, and how many rows it has.
struct ReplicaEntry: Sendable {
    /// The replica.
    private(set) var identity: NodeIdentity
    /// Whether its rows are visible.
    var status: ReplicaStatus
    /// Its clock in the context: every dot up to here has been seen.
    var clock: UInt64
    /// Dots seen beyond ``clock``.
    var cloud: DotSet
    /// How many rows the state holds for it.
    var rowCount: Int
    /// False once the replica is forgotten and its slot awaits reuse.
    private(set) var isInUse: Bool

    /// A replica seen for the first time.
    init(identity: NodeIdentity, status: ReplicaStatus) {
        self.identity = identity
        self.status = status
        self.clock = 0
        self.cloud = DotSet()
        self.rowCount = 0
        self.isInUse = true
    }

    /// Whether the dot has been seen.
    func hasSeen(_ clock: UInt64) -> Bool {
        clock <= self.clock || cloud.contains(clock)
    }

    /// Folds the cloud into the clock where it continues it.
    mutating func compact() {
        cloud.compact(into: &clock)
    }

    /// Marks the slot unused; a forgotten replica's rows are gone, so nothing refers to it.
    mutating func release() {
        status = .down
        clock = 0
        cloud = DotSet()
        rowCount = 0
        isInUse = false
    }
}
