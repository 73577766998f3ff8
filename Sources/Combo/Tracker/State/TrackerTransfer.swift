/// A replica's whole state as extracted for one remote replica: what a transfer
/// acknowledgement carries.
///
/// It holds the context, clouds and presences of the replicas the remote knows,
/// and never the remote's own presences.
struct TrackerTransfer: Sendable, Equatable {
    /// The replica that extracted it.
    let origin: NodeIdentity
    /// The sender's context, restricted to replicas the remote knows.
    private(set) var context: VersionVector
    /// The sender's clouds for those replicas; never empty sets.
    private(set) var clouds: [NodeIdentity: DotSet]
    /// The presences, by the replica that made them, sorted by clock.
    private(set) var values: [NodeIdentity: [PresenceEntry]]

    /// Makes a transfer; entries are sorted and unique by clock, empty clouds and groups dropped.
    init(
        origin: NodeIdentity,
        context: VersionVector,
        clouds: [NodeIdentity: DotSet] = [:],
        values: [NodeIdentity: [PresenceEntry]] = [:]
    ) {
        self.origin = origin
        self.context = context
        self.clouds = clouds.filter { !$0.value.isEmpty }
        var normalized: [NodeIdentity: [PresenceEntry]] = [:]
        for (replica, entries) in values where !entries.isEmpty {
            normalized[replica] = PresenceEntry.normalized(entries)
        }
        self.values = normalized
    }

    /// Whether the dot is in the transfer's causal context.
    func covers(_ replica: NodeIdentity, _ clock: UInt64) -> Bool {
        if let known = context[replica], clock <= known { return true }
        return clouds[replica]?.contains(clock) ?? false
    }

    /// How many presences the transfer holds.
    var count: Int { values.values.reduce(0) { $0 + $1.count } }

    /// The presences as records, sorted by tag.
    var records: [PresenceRecord] {
        values.flatMap { replica, entries in entries.map { $0.record(replica: replica) } }.sorted { $0.tag < $1.tag }
    }
}
