/// The protocol of one tracker shard, free of I/O and of clocks: Phoenix.Tracker's
/// shard GenServer as a value that is fed local operations, heartbeat ticks and
/// messages from other replicas, and answers with ``ShardEffects``.
///
/// Its one outside input is the process's ``LocalHealth``, read at the
/// instant a tick is given, never at the clock's.
///
/// Keeping it pure lets tests drive several replicas through any interleaving,
/// loss or duplication with a fake clock, and keeps the shard's lock scope
/// obvious: everything here runs under it, nothing here waits.
struct ShardCore: Sendable {
    let replica: NodeIdentity
    let broadcastPeriods: (maxSilent: Int, clockSample: Int)
    let downPeriod: Duration
    let permdownPeriod: Duration
    /// This process's timing, consulted before declaring a replica down;
    /// `nil` judges by silence alone (the protocol's tests, with their own clock).
    let health: LocalHealth?

    private(set) var state: TrackerState
    private(set) var replicas = ReplicaStatusBoard()
    private(set) var generations: DeltaGenerations
    private var pendingClocks = ClockSet()
    private var silentPeriods: Int
    private var samplesLeft: Int
    private var nextTransferRef: UInt64 = 0
    /// A full transfer merged a step at a time (see ``continueMerge(budget:)``).
    private var pendingMerge: TransferMerge?

    init(replica: NodeIdentity, configuration: Tracker.Configuration, health: LocalHealth? = nil) {
        self.replica = replica
        self.health = health
        self.broadcastPeriods = (configuration.maxSilentPeriods, configuration.clockSamplePeriods)
        self.downPeriod = configuration.effectiveDownPeriod
        self.permdownPeriod = configuration.permdownPeriod
        self.state = TrackerState(replica: replica)
        self.generations = DeltaGenerations(maxSizes: configuration.maxDeltaSizes)
        // Starting "silent" makes the first tick announce this replica at once,
        // as upstream does, so peers learn of a new node within one period.
        self.silentPeriods = configuration.maxSilentPeriods
        self.samplesLeft = configuration.clockSamplePeriods
    }

    // MARK: Local operations

    mutating func track(
        owner: PresenceOwnerID, topic: String, key: String, values: [String: PresenceValue]
    ) throws(TrackerError) -> (PresenceRef, TrackerDiff) {
        let ref = PresenceRef.random()
        do {
            let record = try state.join(owner: owner, topic: topic, key: key, meta: PresenceMeta(ref: ref, values: values))
            return (ref, TrackerDiff(joins: [record], leaves: []))
        } catch {
            throw TrackerError(error, owner: owner, topic: topic, key: key)
        }
    }

    mutating func update(
        owner: PresenceOwnerID, topic: String, key: String,
        values transform: ([String: PresenceValue]) throws -> [String: PresenceValue]
    ) throws -> (PresenceRef, TrackerDiff) {
        guard let previous = state.record(owner: owner, topic: topic, key: key) else {
            throw TrackerError.noPresence(owner: owner, topic: topic, key: key)
        }
        let ref = PresenceRef.random()
        let meta = PresenceMeta(ref: ref, previousRef: previous.meta.ref, values: try transform(previous.meta.values))
        do {
            try state.update(owner: owner, topic: topic, key: key, meta: meta)
        } catch {
            throw TrackerError(error, owner: owner, topic: topic, key: key)
        }
        let current = state.record(owner: owner, topic: topic, key: key)
        return (ref, TrackerDiff(joins: current.map { [$0] } ?? [], leaves: [previous]))
    }

    mutating func untrack(owner: PresenceOwnerID, topic: String, key: String) -> TrackerDiff {
        guard let left = state.leave(owner: owner, topic: topic, key: key) else {
            return TrackerDiff(joins: [], leaves: [])
        }
        return TrackerDiff(joins: [], leaves: [left])
    }

    mutating func untrackAll(owner: PresenceOwnerID) -> TrackerDiff {
        TrackerDiff(joins: [], leaves: state.leave(owner: owner))
    }

    // MARK: Heartbeat

    /// One broadcast period has passed: send changes or a keep-alive, ask the
    /// dominant peers for what we lack, and notice silent replicas.
    mutating func tick(now: ContinuousClock.Instant) -> ShardEffects {
        var effects = ShardEffects()
        broadcastDeltaHeartbeat(into: &effects)
        requestTransfersIfSampled(into: &effects)
        detectDowns(now: now, into: &effects)
        return effects
    }

    private mutating func broadcastDeltaHeartbeat(into effects: inout ShardEffects) {
        if let delta = state.takeDelta() {
            effects.outbound.append(.broadcast(.heartbeat(sender: replica, delta: delta, clocks: state.clocks)))
            generations.push(delta, parent: state)
            silentPeriods = 0
        } else if silentPeriods >= broadcastPeriods.maxSilent {
            effects.outbound.append(.broadcast(.heartbeat(sender: replica, delta: nil, clocks: state.clocks)))
            silentPeriods = 0
        } else {
            silentPeriods += 1
        }
    }

    private mutating func requestTransfersIfSampled(into effects: inout ShardEffects) {
        guard samplesLeft <= 1 else {
            samplesLeft -= 1
            return
        }
        var clocks = pendingClocks
        clocks.append(replica, state.clocks)
        // A replica that has gone down (or restarted since) cannot answer; its
        // clock may still be in the sample from before it fell silent.
        for remote in clocks.replicas where remote != replica && replicas.isUp(remote) {
            nextTransferRef &+= 1
            effects.outbound.append(
                .direct(.transferRequest(ref: nextTransferRef, sender: replica, clocks: state.clocks), to: remote.name))
        }
        pendingClocks = ClockSet()
        samplesLeft = broadcastPeriods.clockSample
    }

    private mutating func detectDowns(now: ContinuousClock.Instant, into effects: inout ShardEffects) {
        let reading = health?.reading(at: now) ?? .healthy
        let (transitions, deferred) = replicas.detect(
            at: now, downPeriod: downPeriod, permdownPeriod: permdownPeriod, health: reading)
        effects.downsDeferred += deferred
        for transition in transitions {
            switch transition {
            case .down(let remote):
                markDown(remote, into: &effects)
            case .permdown(let remote, let wasUp):
                if wasUp { markDown(remote, into: &effects) }
                forget(remote, into: &effects)
            }
        }
    }

    // MARK: Messages from other replicas

    ///
    /// A full transfer is merged `mergeBudget` rows or values at a time: the
    /// first step here, the rest through ``continueMerge(budget:)`` while
    /// ``isMerging``, so that the caller can release the shard's lock between
    /// steps. Any other message first finishes a merge in progress: messages
    /// are merged in the order they arrive.
    mutating func receive(
        _ message: TrackerMessage, now: ContinuousClock.Instant, mergeBudget: Int = .max
    ) -> ShardEffects {
        var effects = ShardEffects()
        if pendingMerge != nil { effects.append(stepMerge(budget: .max)) }
        switch message {
        case .heartbeat(let sender, let delta, let clocks):
            heard(from: sender, now: now, into: &effects)
            if let delta {
                effects.append(state.merge(delta))
                generations.push(delta, parent: state)
            }
            pendingClocks.append(sender, clocks)

        case .transferRequest(let ref, let sender, let clocks):
            let payload = generations.extract(from: state, for: sender, remoteContext: clocks)
            effects.outbound.append(.direct(.transferAck(ref: ref, sender: replica, payload: payload), to: sender.name))

        case .transferAck(_, _, let payload):
            switch payload {
            case .delta(let delta):
                effects.append(state.merge(delta))
                generations.push(delta, parent: state)
            case .full(let transfer):
                pendingMerge = state.beginMerge(transfer)
                effects.append(stepMerge(budget: mergeBudget))
            }

        case .gracefulPermdown(let sender):
            let (known, wasUp) = replicas.forget(sender)
            if known {
                if wasUp { markDown(sender, into: &effects) }
                forget(sender, into: &effects)
            }
        }
        return effects
    }

    /// Whether a full transfer's merge is under way (see ``receive(_:now:mergeBudget:)``).
    var isMerging: Bool { pendingMerge != nil }

    /// Takes the next steps, about `budget` rows scanned or values admitted,
    /// of the full transfer being merged; nothing when none is.
    mutating func continueMerge(budget: Int) -> ShardEffects {
        var effects = ShardEffects()
        effects.append(stepMerge(budget: budget))
        return effects
    }

    private mutating func stepMerge(budget: Int) -> TrackerDiff {
        guard pendingMerge != nil else { return TrackerDiff() }
        let diff = state.continueMerge(&pendingMerge!, budget: budget)
        if pendingMerge!.isDone {
            pendingMerge = nil
            // The state changed other than by deltas: generations cannot describe it.
            generations.reset()
        }
        return diff
    }

    /// Announces to everyone that this replica leaves for good.
    func gracefulPermdownMessage() -> ShardOutbound {
        .broadcast(.gracefulPermdown(sender: replica))
    }

    // MARK: Replica liveness

    private mutating func heard(from sender: NodeIdentity, now: ContinuousClock.Instant, into effects: inout ShardEffects) {
        switch replicas.heard(from: sender, at: now) {
        case .alive:
            break
        case .recovered(let remote):
            markUp(remote, into: &effects)
        case .new(let remote):
            markUp(remote, into: &effects)
            greetOnNextTick()
        case .restarted(let old, let oldWasDown, let new):
            if !oldWasDown { markDown(old, into: &effects) }
            forget(old, into: &effects)
            markUp(new, into: &effects)
            greetOnNextTick()
        }
    }

    /// A newcomer learns of this replica (and can ask it for a transfer) only
    /// from a heartbeat: send one on the next tick rather than after up to
    /// `maxSilentPeriods` of silence, so a restarted node catches up in a few
    /// periods instead of waiting out the keep-alive interval.
    private mutating func greetOnNextTick() {
        silentPeriods = broadcastPeriods.maxSilent
    }

    private mutating func markUp(_ remote: NodeIdentity, into effects: inout ShardEffects) {
        effects.replicaEvents.append(.up(remote))
        effects.append(state.replicaUp(remote))
    }

    private mutating func markDown(_ remote: NodeIdentity, into effects: inout ShardEffects) {
        effects.replicaEvents.append(.down(remote))
        effects.append(state.replicaDown(remote))
    }

    private mutating func forget(_ remote: NodeIdentity, into effects: inout ShardEffects) {
        effects.replicaEvents.append(.permdown(remote))
        effects.append(state.permdown(remote))
        generations.removeReplica(remote)
    }
}
