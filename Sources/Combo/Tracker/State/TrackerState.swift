/// One shard's replica of the presence CRDT: Phoenix.Tracker's `State`, an
/// add-wins observed-remove set with dotted version vectors.
///
/// Every presence is a row tagged with a dot (replica, clock). The context (a
/// clock per replica) plus the clouds (dots seen beyond it) say which dots this
/// replica has observed; a row is removed when a remote replica shows its dot as
/// observed but no longer present. Local changes accumulate in a pending delta
/// that the shard takes on each heartbeat.
///
/// It is a value type: copying it is cheap (its storage is shared until one copy
/// changes), and a shard owns its state and mutates it from one task. Departures
/// from upstream, each fixing a known defect:
///
/// - Rows are indexed by tag and by (topic, owner, key), so merging a delta only
///   touches the rows it names instead of scanning every row.
/// - One (topic, owner, key) is one row: presences are only made by their owner's
///   node, so of two rows for the same key the one with the higher clock is the
///   newer, and a merge never lets an older one replace it (a stale full-state
///   transfer cannot overwrite newer values).
/// - ``permdown(_:)`` forgets a replica entirely, status included, so nothing
///   grows with every peer restart.
/// - ``extract(for:remoteContext:)`` never returns the requester's own rows,
///   comparing name and incarnation.
/// - Diffs only report rows of replicas that are up, so a merge that touches a
///   down replica's rows reports nothing and ``replicaUp(_:)`` reports what is
///   there when it comes back.
struct TrackerState: Sendable {
    /// The slot of the own replica in the replica table.
    private static let ownSlot: UInt32 = 0

    /// This replica: the node incarnation whose shard owns the state.
    let replica: NodeIdentity

    /// Every known replica: context, clouds, status.
    private var replicaTable: ReplicaTable
    /// Interned topics, each with its list of rows.
    private var topics = TopicTable()
    /// The presences.
    private var rows = RowSlab()
    /// Every row, by (topic, replica, owner sequence, key).
    private var keyIndex = RowIndexTable()
    /// Remote rows by tag: what delta removals look up. Own rows are never removed remotely.
    private var tagIndex = RowIndexTable()
    /// The first row of each local owner; the rest are linked from it.
    private var ownerIndex = RowIndexTable()
    /// Shares equal metadata values between rows.
    private var interner = PresenceValuesInterner()

    /// The own clock when the pending delta was last taken.
    private var deltaStart: UInt64 = 0
    /// Slots of own rows made or updated since then (each once).
    private var pendingSlots: [UInt32] = []
    /// Slots of own rows made and removed since then: reused only after the delta
    /// is taken, so ``pendingSlots`` never names one slot twice.
    private var deferredSlots: [UInt32] = []
    /// Dots outside the pending range that the pending delta must carry, by
    /// replica slot: own rows removed after an earlier delta, and remote removals
    /// this replica observed (passed on, as upstream does).
    private var pendingDots: [UInt32: DotSet] = [:]

    /// How many times an operation visited every row: merges of deltas must not (for tests).
    private(set) var fullScans = 0

    /// A new, empty state for `replica`.
    init(replica: NodeIdentity) {
        self.replica = replica
        self.replicaTable = ReplicaTable(own: replica)
    }

    // MARK: - Local operations

    /// Tracks a new presence of a local owner and returns its record.
    ///
    /// The metadata's values share storage with equal values tracked recently;
    /// the returned record holds the shared copy.
    ///
    /// - Throws: ``TrackerStateError/foreignOwner(_:)`` when the owner belongs to
    ///   another node, ``TrackerStateError/alreadyTracked(topic:key:)`` when the
    ///   owner already tracks `key` on `topic`,
    ///   ``TrackerStateError/metadataTooDeep(limit:)`` when values nest deeper than
    ///   other nodes read; the state is then unchanged.
    @discardableResult
    mutating func join(owner: PresenceOwnerID, topic: String, key: String, meta: PresenceMeta)
        throws(TrackerStateError) -> PresenceRecord
    {
        guard owner.node == replica else { throw .foreignOwner(owner) }
        guard TrackerWire.isWithinDepth(meta.values) else { throw .metadataTooDeep(limit: TrackerWire.maximumDepth) }
        var keyHash: Int?
        if let knownTopic = topics.id(of: topic) {
            let hash = RowHash.key(topic: knownTopic, replica: Self.ownSlot, owner: owner.sequence, key: key)
            if findRow(hash: hash, topic: knownTopic, replica: Self.ownSlot, owner: owner.sequence, key: key) != nil {
                throw .alreadyTracked(topic: topic, key: key)
            }
            keyHash = hash
        }
        let topicID = topics.intern(topic)
        let clock = bumpClock()
        let slot = insertRow(
            replica: Self.ownSlot, clock: clock, ownerSequence: owner.sequence, topic: topicID, key: key, meta: meta,
            keyHash: keyHash
        )
        pendingSlots.append(slot)
        return record(at: slot)
    }

    /// Replaces a local presence's metadata under a new tag, atomically (a leave
    /// and a join in one step, as upstream's `leave_join/5`), and returns the
    /// previous record; `nil` when the owner does not track `key` on `topic`.
    ///
    /// - Throws: ``TrackerStateError/metadataTooDeep(limit:)`` when values nest
    ///   deeper than other nodes read; the state is then unchanged.
    @discardableResult
    mutating func update(owner: PresenceOwnerID, topic: String, key: String, meta: PresenceMeta)
        throws(TrackerStateError) -> PresenceRecord?
    {
        guard owner.node == replica, let topicID = topics.id(of: topic),
            let slot = findRow(topic: topicID, replica: Self.ownSlot, owner: owner.sequence, key: key)
        else { return nil }
        guard TrackerWire.isWithinDepth(meta.values) else { throw .metadataTooDeep(limit: TrackerWire.maximumDepth) }
        let previous = record(at: slot)
        let oldClock = rows[slot].clock
        // As upstream, the removal takes a dot of its own, then the new value another.
        _ = bumpClock()
        let newClock = bumpClock()
        if oldClock <= deltaStart {
            pendingDots[Self.ownSlot, default: DotSet()].insert(oldClock)
            pendingSlots.append(slot)
        }
        var shared = meta
        shared.values = interner.intern(meta.values)
        rows[slot].clock = newClock
        rows[slot].setMeta(shared)
        return previous
    }

    /// Stops tracking a local presence and returns its record; `nil` when it is not tracked.
    @discardableResult
    mutating func leave(owner: PresenceOwnerID, topic: String, key: String) -> PresenceRecord? {
        guard owner.node == replica, let topicID = topics.id(of: topic),
            let slot = findRow(topic: topicID, replica: Self.ownSlot, owner: owner.sequence, key: key)
        else { return nil }
        let left = record(at: slot)
        removeOwnRow(slot)
        return left
    }

    /// Stops tracking every presence of a local owner and returns their records.
    @discardableResult
    mutating func leave(owner: PresenceOwnerID) -> [PresenceRecord] {
        let slots = ownerSlots(owner)
        var left: [PresenceRecord] = []
        left.reserveCapacity(slots.count)
        for slot in slots {
            left.append(record(at: slot))
            removeOwnRow(slot)
        }
        return left
    }

    // MARK: - Reads

    /// The presence of `owner` for `key` on `topic`, whatever its replica's status.
    func record(owner: PresenceOwnerID, topic: String, key: String) -> PresenceRecord? {
        guard let replicaSlot = replicaTable.slot(of: owner.node), let topicID = topics.id(of: topic),
            let slot = findRow(topic: topicID, replica: replicaSlot, owner: owner.sequence, key: key)
        else { return nil }
        return record(at: slot)
    }

    /// Every presence of `owner`, whatever its replica's status; immediate for a
    /// local owner, a scan of all rows for a remote one.
    func records(owner: PresenceOwnerID) -> [PresenceRecord] {
        if owner.node == replica { return ownerSlots(owner).map(record(at:)) }
        guard let replicaSlot = replicaTable.slot(of: owner.node), replicaTable[replicaSlot].rowCount > 0 else {
            return []
        }
        var result: [PresenceRecord] = []
        forEachRow { slot, row in
            if row.replica == replicaSlot, row.ownerSequence == owner.sequence { result.append(record(at: slot)) }
        }
        return result
    }

    /// The presences on `topic` of replicas that are up, in arrival order.
    func list(topic: String) -> [PresenceRecord] {
        guard let topicID = topics.id(of: topic) else { return [] }
        var result: [PresenceRecord] = []
        result.reserveCapacity(topics[topicID].count)
        var slot = topics[topicID].head
        while slot != StoredRow.none {
            if replicaTable.isUp(rows[slot].replica) { result.append(record(at: slot)) }
            slot = rows[slot].topicNext
        }
        return result
    }

    /// The presences for `key` on `topic` of replicas that are up (upstream `get_by_key/3`).
    func list(topic: String, key: String) -> [PresenceRecord] {
        guard let topicID = topics.id(of: topic) else { return [] }
        var result: [PresenceRecord] = []
        var slot = topics[topicID].head
        while slot != StoredRow.none {
            if rows[slot].key == key, replicaTable.isUp(rows[slot].replica) { result.append(record(at: slot)) }
            slot = rows[slot].topicNext
        }
        return result
    }

    /// Every presence of replicas that are up (upstream `online_list/1`).
    func onlineRecords() -> [PresenceRecord] {
        var result: [PresenceRecord] = []
        result.reserveCapacity(rows.count)
        forEachRow { slot, row in
            if replicaTable.isUp(row.replica) { result.append(record(at: slot)) }
        }
        return result
    }

    /// Every presence, those of down replicas included.
    func allRecords() -> [PresenceRecord] {
        var result: [PresenceRecord] = []
        result.reserveCapacity(rows.count)
        forEachRow { slot, _ in result.append(record(at: slot)) }
        return result
    }

    /// How many presences the state holds, those of down replicas included.
    var count: Int { rows.count }

    /// How many distinct topics have presences.
    var topicCount: Int { topics.count }

    /// The context without down replicas: what heartbeats advertise (upstream
    /// `clocks/1`), so a peer that came up after a replica went down is not made
    /// to request transfers forever.
    var clocks: VersionVector {
        var result: [NodeIdentity: UInt64] = [:]
        for slot in replicaTable.slots where replicaTable[slot].status == .up {
            result[replicaTable[slot].identity] = replicaTable[slot].clock
        }
        return VersionVector(result)
    }

    /// The context: for every known replica, up or down, the clock up to which every dot was seen.
    var context: VersionVector {
        var result: [NodeIdentity: UInt64] = [:]
        for slot in replicaTable.slots { result[replicaTable[slot].identity] = replicaTable[slot].clock }
        return VersionVector(result)
    }

    /// The clouds: dots seen beyond the context, by replica (empty ones left out).
    var clouds: [NodeIdentity: DotSet] {
        var result: [NodeIdentity: DotSet] = [:]
        for slot in replicaTable.slots where !replicaTable[slot].cloud.isEmpty {
            result[replicaTable[slot].identity] = replicaTable[slot].cloud
        }
        return result
    }

    /// Every known replica and its status, this one included.
    var replicas: [NodeIdentity: ReplicaStatus] {
        var result: [NodeIdentity: ReplicaStatus] = [:]
        for slot in replicaTable.slots { result[replicaTable[slot].identity] = replicaTable[slot].status }
        return result
    }

    /// How many replica slots were ever handed out; forgotten replicas' slots are
    /// reused, so this stays at the largest number of replicas known at once.
    var replicaSlotCount: Int { replicaTable.capacity }

    /// The status of `replica`, `nil` when unknown (never seen, or permanently down).
    func status(of replica: NodeIdentity) -> ReplicaStatus? {
        guard let slot = replicaTable.slot(of: replica) else { return nil }
        return replicaTable[slot].status
    }

    // MARK: - Deltas

    /// Whether local changes (or observed removals) wait to be sent.
    var hasDelta: Bool {
        replicaTable[Self.ownSlot].clock > deltaStart || !pendingDots.isEmpty
    }

    /// The changes since the delta was last taken, without taking them.
    var pendingDelta: TrackerDelta {
        var entries: [PresenceEntry] = []
        entries.reserveCapacity(pendingSlots.count)
        for slot in pendingSlots {
            let row = rows[slot]
            guard row.replica == Self.ownSlot, row.clock > deltaStart else { continue }
            entries.append(entry(of: row))
        }
        entries.sort { $0.clock < $1.clock }
        var dots: [NodeIdentity: DotSet] = [:]
        for (slot, set) in pendingDots { dots[replicaTable[slot].identity] = set }
        return TrackerDelta(
            origin: replica,
            start: [replica: deltaStart],
            end: [replica: replicaTable[Self.ownSlot].clock],
            dots: dots,
            values: entries.isEmpty ? [:] : [replica: entries]
        )
    }

    /// Takes the pending delta if it holds anything, and starts a new one
    /// (upstream's heartbeat: `reset_delta/1` then `compact/1`; clouds here are
    /// compacted as they change).
    mutating func takeDelta() -> TrackerDelta? {
        guard hasDelta else { return nil }
        let delta = pendingDelta
        deltaStart = replicaTable[Self.ownSlot].clock
        pendingSlots = []
        for slot in deferredSlots { rows.recycle(slot) }
        deferredSlots = []
        pendingDots = [:]
        return delta
    }

    // MARK: - Remote replicas

    /// The state as `remote` can use it: the context, clouds and presences of the
    /// replicas `remoteContext` knows, never `remote`'s own presences.
    func extract(for remote: NodeIdentity, remoteContext: VersionVector) -> TrackerTransfer {
        var context: [NodeIdentity: UInt64] = [:]
        var clouds: [NodeIdentity: DotSet] = [:]
        var included = [Bool](repeating: false, count: replicaTable.capacity)
        var anyRows = false
        for slot in replicaTable.slots {
            let entry = replicaTable[slot]
            guard remoteContext[entry.identity] != nil else { continue }
            context[entry.identity] = entry.clock
            if !entry.cloud.isEmpty { clouds[entry.identity] = entry.cloud }
            if entry.identity != remote, entry.rowCount > 0 {
                included[Int(slot)] = true
                anyRows = true
            }
        }
        var groups: [UInt32: [PresenceEntry]] = [:]
        if anyRows {
            forEachRow { _, row in
                if included[Int(row.replica)] { groups[row.replica, default: []].append(entry(of: row)) }
            }
        }
        var values: [NodeIdentity: [PresenceEntry]] = [:]
        for (slot, entries) in groups {
            values[replicaTable[slot].identity] = entries.sorted { $0.clock < $1.clock }
        }
        return TrackerTransfer(origin: replica, context: VersionVector(context), clouds: clouds, values: values)
    }

    /// The presences whose dots are in `dots`, by replica, sorted by clock: what a
    /// delta generation's value dots name that the state still holds.
    ///
    /// One pass over the rows, as ``extract(for:remoteContext:)`` makes: own rows
    /// are not indexed by tag, and a generation is read only to answer a transfer
    /// request.
    func entries(withDots dots: [NodeIdentity: DotSet]) -> [NodeIdentity: [PresenceEntry]] {
        var wanted = [DotSet?](repeating: nil, count: replicaTable.capacity)
        var anyRows = false
        for (identity, set) in dots {
            guard let slot = replicaTable.slot(of: identity), replicaTable[slot].rowCount > 0, !set.isEmpty else {
                continue
            }
            wanted[Int(slot)] = set
            anyRows = true
        }
        guard anyRows else { return [:] }
        var groups: [UInt32: [PresenceEntry]] = [:]
        forEachRow { _, row in
            if let set = wanted[Int(row.replica)], set.contains(row.clock) {
                groups[row.replica, default: []].append(entry(of: row))
            }
        }
        var values: [NodeIdentity: [PresenceEntry]] = [:]
        for (slot, entries) in groups {
            values[replicaTable[slot].identity] = entries.sorted { $0.clock < $1.clock }
        }
        return values
    }

    /// Merges a delta from another replica and returns what became visible or hidden.
    ///
    /// Only replicas this state knows are merged, never its own. Removals are the
    /// dots of the delta's clouds without a value, looked up by tag; rows are only
    /// scanned when the delta names more dots than the state has rows.
    @discardableResult
    mutating func merge(_ delta: TrackerDelta) -> TrackerDiff {
        var diff = TrackerDiff()
        for (slot, identity) in knownRemoteSlots(Set(delta.start.replicas).union(delta.dots.keys).union(delta.values.keys)) {
            let entries = delta.values[identity] ?? []
            let visible = replicaTable.isUp(slot)
            var named = delta.dots[identity] ?? DotSet()
            if let first = delta.start[identity], let last = delta.end[identity], last > first {
                named.insert((first + 1)...last)
            }
            removeNamed(named, replica: slot, identity: identity, keeping: entries, visible: visible, diff: &diff)
            for entry in entries {
                admit(entry, replica: slot, visible: visible, diff: &diff)
            }
            // Every value's dot is in the delta's clouds, so uniting them records the admitted rows too.
            replicaTable[slot].cloud.formUnion(named)
            replicaTable[slot].compact()
        }
        return diff
    }

    /// Merges a whole state extracted by another replica and returns what became
    /// visible or hidden.
    ///
    /// Rows of the replicas it covers that its context has seen and its values
    /// lack are removed (this scans the rows, as a full transfer must); its values
    /// this state has not seen are added, unless this state holds a newer row for
    /// the same (topic, owner, key). ``beginMerge(_:)`` and
    /// ``continueMerge(_:budget:)`` do the same a bounded amount at a time.
    @discardableResult
    mutating func merge(_ transfer: TrackerTransfer) -> TrackerDiff {
        var merge = beginMerge(transfer)
        return continueMerge(&merge, budget: .max)
    }

    /// Starts merging a whole state extracted by another replica; nothing
    /// changes until ``continueMerge(_:budget:)``.
    func beginMerge(_ transfer: TrackerTransfer) -> TransferMerge {
        let covered = knownRemoteSlots(
            Set(transfer.context.replicas).union(transfer.clouds.keys).union(transfer.values.keys)
        )
        // Without rows of a covered replica there is nothing to remove: no scan.
        let scan = covered.contains { replicaTable[$0.slot].rowCount > 0 }
        return TransferMerge(
            transfer: transfer,
            covered: covered.map(\.identity),
            values: covered.map { transfer.values[$0.identity] ?? [] },
            phase: scan ? .removing(nextRow: 0) : covered.isEmpty ? .done : .admitting(replica: 0, value: 0)
        )
    }

    /// Takes the next steps of `merge`, about `budget` rows scanned or values
    /// admitted (at least one), and returns what became visible or hidden.
    @discardableResult
    mutating func continueMerge(_ merge: inout TransferMerge, budget: Int) -> TrackerDiff {
        var diff = TrackerDiff()
        var remaining = max(1, budget)
        while remaining > 0 {
            switch merge.phase {
            case .done:
                return diff
            case .removing(let nextRow):
                if nextRow == 0 { fullScans += 1 }
                merge.phase = removeUnseen(merge, from: nextRow, budget: &remaining, diff: &diff)
            case .admitting(let index, let value):
                merge.phase = admit(merge, replica: index, from: value, budget: &remaining, diff: &diff)
            }
        }
        return diff
    }

    /// Removes rows from `firstRow` on that `merge`'s transfer has seen and lacks;
    /// returns where the merge goes next.
    private mutating func removeUnseen(
        _ merge: TransferMerge, from firstRow: UInt32, budget: inout Int, diff: inout TrackerDiff
    ) -> TransferMerge.Phase {
        // Slots can change between steps (a replica forgotten): looked up anew each time.
        var coveredIdentities = [NodeIdentity?](repeating: nil, count: replicaTable.capacity)
        var valuesBySlot = [Int?](repeating: nil, count: replicaTable.capacity)
        for (index, identity) in merge.covered.enumerated() {
            guard let slot = replicaTable.slot(of: identity) else { continue }
            coveredIdentities[Int(slot)] = identity
            valuesBySlot[Int(slot)] = index
        }
        let end = UInt32(min(UInt64(rows.highWater), UInt64(firstRow) + UInt64(budget)))
        var removed: [UInt32] = []
        var slot = firstRow
        while slot < end {
            let row = rows[slot]
            if !row.isFree, let identity = coveredIdentities[Int(row.replica)],
                merge.transfer.covers(identity, row.clock),
                PresenceEntry.index(of: row.clock, in: merge.values[valuesBySlot[Int(row.replica)]!]) == nil
            {
                removed.append(slot)
            }
            slot += 1
        }
        budget -= Int(end - firstRow)
        for slot in removed { removeObserved(slot, diff: &diff) }
        // Rows made meanwhile are the state's own, never covered: the scan may end at the high-water mark.
        if end < rows.highWater { return .removing(nextRow: end) }
        return merge.covered.isEmpty ? .done : .admitting(replica: 0, value: 0)
    }

    /// Admits covered replica `index`'s values from `first` on; once they are
    /// all in, updates its context and clouds. Returns where the merge goes next.
    private mutating func admit(
        _ merge: TransferMerge, replica index: Int, from first: Int, budget: inout Int, diff: inout TrackerDiff
    ) -> TransferMerge.Phase {
        guard index < merge.covered.count else { return .done }
        let identity = merge.covered[index]
        // A replica forgotten since the merge began: its values no longer belong here.
        guard let slot = replicaTable.slot(of: identity) else { return Self.afterReplica(index, of: merge) }
        let transfer = merge.transfer
        let entries = merge.values[index]
        let visible = replicaTable.isUp(slot)
        let end = first + min(budget, entries.count - first)
        for entry in entries[first..<end] {
            // A value outside the transfer's own context is still seen once held.
            if admit(entry, replica: slot, visible: visible, diff: &diff), !transfer.covers(identity, entry.clock) {
                replicaTable[slot].cloud.insert(entry.clock)
            }
        }
        budget -= max(1, end - first)
        if end < entries.count { return .admitting(replica: index, value: end) }
        if let clock = transfer.context[identity], clock > replicaTable[slot].clock {
            replicaTable[slot].clock = clock
        }
        if let cloud = transfer.clouds[identity] { replicaTable[slot].cloud.formUnion(cloud) }
        replicaTable[slot].cloud.removeAll(through: replicaTable[slot].clock)
        replicaTable[slot].compact()
        return Self.afterReplica(index, of: merge)
    }

    /// Where `merge` goes once covered replica `index` is done.
    private static func afterReplica(_ index: Int, of merge: TransferMerge) -> TransferMerge.Phase {
        index + 1 < merge.covered.count ? .admitting(replica: index + 1, value: 0) : .done
    }

    /// Merges either kind of payload.
    @discardableResult
    mutating func merge(_ payload: TrackerPayload) -> TrackerDiff {
        switch payload {
        case .delta(let delta): merge(delta)
        case .full(let transfer): merge(transfer)
        }
    }

    /// Marks `replica` up, adding it to the context at clock 0 if it is new, and
    /// returns its presences as joins when it was down.
    @discardableResult
    mutating func replicaUp(_ replica: NodeIdentity) -> TrackerDiff {
        guard replica != self.replica else { return TrackerDiff() }
        guard let slot = replicaTable.slot(of: replica) else {
            _ = replicaTable.add(replica, status: .up)
            return TrackerDiff()
        }
        guard replicaTable[slot].status == .down else { return TrackerDiff() }
        replicaTable[slot].status = .up
        if replicaTable[slot].rowCount > 0 { fullScans += 1 }
        return TrackerDiff(joins: records(ofReplica: slot))
    }

    /// Marks a known `replica` down and returns its presences as leaves; they are
    /// kept, hidden, until it comes back up or is permanently forgotten. An
    /// unknown replica is ignored: nothing is recorded for it.
    @discardableResult
    mutating func replicaDown(_ replica: NodeIdentity) -> TrackerDiff {
        guard replica != self.replica, let slot = replicaTable.slot(of: replica),
            replicaTable[slot].status == .up
        else { return TrackerDiff() }
        replicaTable[slot].status = .down
        if replicaTable[slot].rowCount > 0 { fullScans += 1 }
        return TrackerDiff(leaves: records(ofReplica: slot))
    }

    /// Forgets `replica` completely: its presences, its context and cloud, its
    /// dots in the pending delta, and its status. Returns its presences as leaves
    /// if it was still up (a graceful permdown needs no ``replicaDown(_:)`` first).
    @discardableResult
    mutating func permdown(_ replica: NodeIdentity) -> TrackerDiff {
        guard replica != self.replica, let slot = replicaTable.slot(of: replica) else { return TrackerDiff() }
        var diff = TrackerDiff()
        if replicaTable[slot].rowCount > 0 {
            let visible = replicaTable.isUp(slot)
            var doomed: [UInt32] = []
            fullScans += 1
            forEachRow { rowSlot, row in
                if row.replica == slot { doomed.append(rowSlot) }
            }
            for rowSlot in doomed {
                if visible { diff.leaves.append(record(at: rowSlot)) }
                removeRow(rowSlot)
                rows.recycle(rowSlot)
            }
        }
        pendingDots[slot] = nil
        replicaTable.remove(slot)
        return diff
    }

    // MARK: - Rows

    /// Spends the next own dot and returns its clock.
    private mutating func bumpClock() -> UInt64 {
        replicaTable[Self.ownSlot].clock += 1
        return replicaTable[Self.ownSlot].clock
    }

    /// The slots and identities of the known remote replicas among `identities`, by slot.
    private func knownRemoteSlots(_ identities: Set<NodeIdentity>) -> [(slot: UInt32, identity: NodeIdentity)] {
        identities.compactMap { identity in
            guard identity != replica, let slot = replicaTable.slot(of: identity) else { return nil }
            return (slot, identity)
        }.sorted { $0.slot < $1.slot }
    }

    /// Adds `entry` as a row of replica `slot` unless its dot was seen, or a newer
    /// row holds its (topic, owner, key); a row it supersedes leaves. Returns
    /// whether it was added.
    @discardableResult
    private mutating func admit(_ entry: PresenceEntry, replica slot: UInt32, visible: Bool, diff: inout TrackerDiff)
        -> Bool
    {
        guard !replicaTable[slot].hasSeen(entry.clock) else { return false }
        if let knownTopic = topics.id(of: entry.topic),
            let existing = findRow(topic: knownTopic, replica: slot, owner: entry.ownerSequence, key: entry.key)
        {
            // Both rows come from the owner's node, whose clock only grows: the
            // higher clock is the newer version, and the older one was removed there.
            if rows[existing].clock > entry.clock { return false }
            if visible { diff.leaves.append(record(at: existing)) }
            removeRow(existing)
            rows.recycle(existing)
        }
        // Removing the superseded row may have released the topic.
        let topicID = topics.id(of: entry.topic) ?? topics.intern(entry.topic)
        let rowSlot = insertRow(
            replica: slot, clock: entry.clock, ownerSequence: entry.ownerSequence, topic: topicID,
            key: entry.key, meta: entry.meta
        )
        if visible { diff.joins.append(record(at: rowSlot)) }
        return true
    }

    /// Removes the rows of replica `slot` whose dots are in `named` and whose
    /// clocks are not among `entries` (sorted by clock).
    private mutating func removeNamed(
        _ named: DotSet, replica slot: UInt32, identity: NodeIdentity, keeping entries: [PresenceEntry],
        visible: Bool, diff: inout TrackerDiff
    ) {
        guard replicaTable[slot].rowCount > 0, !named.isEmpty else { return }
        let probes = named.count
        if probes > Int(rows.highWater) {
            // More dots than rows: visiting the rows is cheaper than probing every dot.
            var removed: [UInt32] = []
            fullScans += 1
            forEachRow { rowSlot, row in
                if row.replica == slot, named.contains(row.clock),
                    PresenceEntry.index(of: row.clock, in: entries) == nil
                {
                    removed.append(rowSlot)
                }
            }
            for rowSlot in removed { removeObserved(rowSlot, diff: &diff) }
            return
        }
        var next = 0
        for interval in named.intervals {
            var clock = interval.lowerBound
            while true {
                while next < entries.count, entries[next].clock < clock { next += 1 }
                if next >= entries.count || entries[next].clock != clock,
                    let rowSlot = findRow(replica: slot, clock: clock)
                {
                    removeObserved(rowSlot, diff: &diff)
                }
                if clock == interval.upperBound { break }
                clock += 1
            }
        }
    }

    /// Removes a remote row whose removal a remote replica showed, reporting it if
    /// visible and passing its dot on in the pending delta.
    private mutating func removeObserved(_ slot: UInt32, diff: inout TrackerDiff) {
        let replicaSlot = rows[slot].replica
        if replicaTable.isUp(replicaSlot) { diff.leaves.append(record(at: slot)) }
        pendingDots[replicaSlot, default: DotSet()].insert(rows[slot].clock)
        removeRow(slot)
        rows.recycle(slot)
    }

    /// Removes an own row, spending a dot on the removal as upstream does.
    private mutating func removeOwnRow(_ slot: UInt32) {
        let clock = rows[slot].clock
        _ = bumpClock()
        removeRow(slot)
        if clock <= deltaStart {
            pendingDots[Self.ownSlot, default: DotSet()].insert(clock)
            rows.recycle(slot)
        } else {
            // Made since the last delta: its slot is still listed in pendingSlots.
            deferredSlots.append(slot)
        }
    }

    /// Stores a new row and links it into the indexes and lists.
    private mutating func insertRow(
        replica slot: UInt32, clock: UInt64, ownerSequence: UInt64, topic topicID: UInt32, key: String,
        meta: PresenceMeta, keyHash: Int? = nil
    ) -> UInt32 {
        var shared = meta
        shared.values = interner.intern(meta.values)
        let rowSlot = rows.allocate(
            StoredRow(replica: slot, clock: clock, ownerSequence: ownerSequence, topic: topicID, key: key, meta: shared)
        )
        let tail = topics[topicID].tail
        if tail == StoredRow.none {
            topics[topicID].head = rowSlot
        } else {
            rows[tail].topicNext = rowSlot
            rows[rowSlot].topicPrevious = tail
        }
        topics[topicID].tail = rowSlot
        topics[topicID].count += 1

        keyIndex.insert(
            rowSlot, hash: keyHash ?? RowHash.key(topic: topicID, replica: slot, owner: ownerSequence, key: key)
        )
        if slot == Self.ownSlot {
            let ownerHash = RowHash.owner(ownerSequence)
            if let head = ownerIndex.find(hash: ownerHash, where: { rows[$0].ownerSequence == ownerSequence }) {
                // Linked after the head, so the index entry stays as it is.
                let next = rows[head].ownerNext
                rows[rowSlot].ownerPrevious = head
                rows[rowSlot].ownerNext = next
                rows[head].ownerNext = rowSlot
                if next != StoredRow.none { rows[next].ownerPrevious = rowSlot }
            } else {
                ownerIndex.insert(rowSlot, hash: ownerHash)
            }
        } else {
            tagIndex.insert(rowSlot, hash: RowHash.tag(replica: slot, clock: clock))
        }
        replicaTable[slot].rowCount += 1
        return rowSlot
    }

    /// Unlinks a row from the indexes and lists and empties its slot; the caller recycles the slot.
    private mutating func removeRow(_ slot: UInt32) {
        let row = rows[slot]
        let topicID = row.topic
        if row.topicPrevious == StoredRow.none {
            topics[topicID].head = row.topicNext
        } else {
            rows[row.topicPrevious].topicNext = row.topicNext
        }
        if row.topicNext == StoredRow.none {
            topics[topicID].tail = row.topicPrevious
        } else {
            rows[row.topicNext].topicPrevious = row.topicPrevious
        }
        topics[topicID].count -= 1
        topics.releaseIfEmpty(topicID)

        keyIndex.remove(
            slot, hash: RowHash.key(topic: topicID, replica: row.replica, owner: row.ownerSequence, key: row.key)
        )
        if row.replica == Self.ownSlot {
            let ownerHash = RowHash.owner(row.ownerSequence)
            if row.ownerPrevious == StoredRow.none {
                if row.ownerNext == StoredRow.none {
                    ownerIndex.remove(slot, hash: ownerHash)
                } else {
                    ownerIndex.replace(slot, with: row.ownerNext, hash: ownerHash)
                    rows[row.ownerNext].ownerPrevious = StoredRow.none
                }
            } else {
                rows[row.ownerPrevious].ownerNext = row.ownerNext
                if row.ownerNext != StoredRow.none { rows[row.ownerNext].ownerPrevious = row.ownerPrevious }
            }
        } else {
            tagIndex.remove(slot, hash: RowHash.tag(replica: row.replica, clock: row.clock))
        }
        replicaTable[row.replica].rowCount -= 1
        rows.release(slot)
    }

    /// The row for (topic, replica, owner, key), if any.
    private func findRow(topic: UInt32, replica: UInt32, owner: UInt64, key: String) -> UInt32? {
        findRow(
            hash: RowHash.key(topic: topic, replica: replica, owner: owner, key: key), topic: topic,
            replica: replica, owner: owner, key: key
        )
    }

    /// The row for (topic, replica, owner, key), whose hash is `hash`, if any.
    private func findRow(hash: Int, topic: UInt32, replica: UInt32, owner: UInt64, key: String) -> UInt32? {
        keyIndex.find(hash: hash) { slot in
            rows[slot].ownerSequence == owner && rows[slot].topic == topic && rows[slot].replica == replica
                && rows[slot].key == key
        }
    }

    /// The remote row with this tag, if any.
    private func findRow(replica: UInt32, clock: UInt64) -> UInt32? {
        tagIndex.find(hash: RowHash.tag(replica: replica, clock: clock)) { slot in
            rows[slot].clock == clock && rows[slot].replica == replica
        }
    }

    /// The slots of a local owner's rows.
    private func ownerSlots(_ owner: PresenceOwnerID) -> [UInt32] {
        guard owner.node == replica,
            var slot = ownerIndex.find(
                hash: RowHash.owner(owner.sequence), where: { rows[$0].ownerSequence == owner.sequence })
        else { return [] }
        var slots: [UInt32] = []
        while slot != StoredRow.none {
            slots.append(slot)
            slot = rows[slot].ownerNext
        }
        return slots
    }

    /// The records of every row of replica `slot`.
    private func records(ofReplica slot: UInt32) -> [PresenceRecord] {
        guard replicaTable[slot].rowCount > 0 else { return [] }
        var result: [PresenceRecord] = []
        forEachRow { rowSlot, row in
            if row.replica == slot { result.append(record(at: rowSlot)) }
        }
        return result
    }

    /// Calls `body` with every row in use.
    private func forEachRow(_ body: (UInt32, StoredRow) -> Void) {
        var slot: UInt32 = 0
        while slot < rows.highWater {
            let row = rows[slot]
            if !row.isFree { body(slot, row) }
            slot += 1
        }
    }

    /// The row in `slot` as a record.
    private func record(at slot: UInt32) -> PresenceRecord {
        let row = rows[slot]
        let identity = replicaTable[row.replica].identity
        return PresenceRecord(
            owner: PresenceOwnerID(node: identity, sequence: row.ownerSequence),
            topic: topics[row.topic].name,
            key: row.key,
            meta: row.meta,
            tag: PresenceTag(replica: identity, clock: row.clock)
        )
    }

    /// A row as a delta or transfer carries it.
    private func entry(of row: StoredRow) -> PresenceEntry {
        PresenceEntry(
            clock: row.clock, ownerSequence: row.ownerSequence, topic: topics[row.topic].name, key: row.key,
            meta: row.meta
        )
    }
}
