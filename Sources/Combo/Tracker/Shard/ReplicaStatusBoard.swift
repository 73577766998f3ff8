/// The liveness of the other replicas of one shard: Phoenix.Tracker's Replica
/// module, on a monotonic clock (upstream reads the wall clock, so a clock step
/// can mark a whole cluster down or keep dead nodes up).
///
/// Replicas are known by node name; a heartbeat from a known name with a new
/// incarnation means that node restarted.
struct ReplicaStatusBoard {
    /// One remote replica as this shard last heard of it.
    struct Entry: Equatable {
        var identity: NodeIdentity
        var lastHeard: ContinuousClock.Instant
        var isDown: Bool
    }

    /// What a heartbeat changed.
    enum HeartbeatOutcome: Equatable {
        /// A replica never heard of before (or forgotten after a permdown).
        case new(NodeIdentity)
        /// A known replica, up already: nothing to do.
        case alive
        /// A replica that was down is heard again, same incarnation.
        case recovered(NodeIdentity)
        /// The node restarted: the old incarnation is gone for good, the new is up.
        case restarted(old: NodeIdentity, oldWasDown: Bool, new: NodeIdentity)
    }

    /// What the passage of time changed for one replica.
    enum Transition: Equatable {
        case down(NodeIdentity)
        case permdown(NodeIdentity, wasUp: Bool)
    }

    private(set) var entries: [NodeName: Entry] = [:]

    /// Records a heartbeat (or any message) from `identity` at `now`.
    mutating func heard(from identity: NodeIdentity, at now: ContinuousClock.Instant) -> HeartbeatOutcome {
        guard let previous = entries[identity.name] else {
            entries[identity.name] = Entry(identity: identity, lastHeard: now, isDown: false)
            return .new(identity)
        }
        entries[identity.name] = Entry(identity: identity, lastHeard: now, isDown: false)
        if previous.identity == identity {
            return previous.isDown ? .recovered(identity) : .alive
        }
        return .restarted(old: previous.identity, oldWasDown: previous.isDown, new: identity)
    }

    /// Marks down every replica silent for longer than `downPeriod`, and
    /// forgets every one silent for longer than `permdownPeriod`, unless this
    /// node's own `health` says the silence may be its own: then the decision
    /// waits for a later tick (see ``LocalHealthReading``). A permdown is held
    /// back on the same terms as a down (lateness added to the period, not
    /// within one down period after a pause).
    ///
    /// - Returns: the transitions, and how many were put off.
    mutating func detect(
        at now: ContinuousClock.Instant, downPeriod: Duration, permdownPeriod: Duration,
        health: LocalHealthReading = .healthy
    ) -> (transitions: [Transition], deferred: Int) {
        var transitions: [Transition] = []
        var deferred = 0
        let pausedRecently = health.pausedWithin(downPeriod, of: now)
        for (name, entry) in entries {
            let silence = now - entry.lastHeard
            if silence > permdownPeriod {
                guard !pausedRecently, silence > permdownPeriod + health.lateness else {
                    deferred += 1
                    continue
                }
                entries[name] = nil
                transitions.append(.permdown(entry.identity, wasUp: !entry.isDown))
            } else if silence > downPeriod, !entry.isDown {
                guard health.mayDeclareDown(silence: silence, timeout: downPeriod, at: now) else {
                    deferred += 1
                    continue
                }
                entries[name]?.isDown = true
                transitions.append(.down(entry.identity))
            }
        }
        return (transitions, deferred)
    }

    /// Forgets `identity` if it is the incarnation known; returns whether it was
    /// and whether it was up.
    mutating func forget(_ identity: NodeIdentity) -> (known: Bool, wasUp: Bool) {
        guard let entry = entries[identity.name], entry.identity == identity else { return (false, false) }
        entries[identity.name] = nil
        return (true, !entry.isDown)
    }

    /// Whether `identity` is the incarnation known for its name, and up.
    func isUp(_ identity: NodeIdentity) -> Bool {
        guard let entry = entries[identity.name] else { return false }
        return entry.identity == identity && !entry.isDown
    }

    /// The incarnation known for `name`, if any.
    func identity(of name: NodeName) -> NodeIdentity? { entries[name]?.identity }
}
