/// The replicas a ``TrackerState`` knows, interned to small slot numbers so rows
/// store four bytes for their replica. Slot 0 is the state's own replica.
///
/// A permanently-down replica's slot is freed and may be reused by another
/// replica once every row referring to it is gone.
struct ReplicaTable: Sendable {
    /// The entries, by slot.
    private var entries: [ReplicaEntry] = []
    /// The slot of each known replica.
    private var lookup: [NodeIdentity: UInt32] = [:]
    /// Slots of forgotten replicas, reused first.
    private var freeSlots: [UInt32] = []

    /// A table holding only `own`, up, in slot 0.
    init(own: NodeIdentity) {
        _ = add(own, status: .up)
    }

    /// The slot of `identity`, if known.
    func slot(of identity: NodeIdentity) -> UInt32? {
        lookup[identity]
    }

    /// Adds a replica and returns its slot.
    mutating func add(_ identity: NodeIdentity, status: ReplicaStatus) -> UInt32 {
        let entry = ReplicaEntry(identity: identity, status: status)
        let slot: UInt32
        if let reused = freeSlots.popLast() {
            slot = reused
            entries[Int(slot)] = entry
        } else {
            slot = UInt32(entries.count)
            entries.append(entry)
        }
        lookup[identity] = slot
        return slot
    }

    /// Forgets the replica in `slot`.
    mutating func remove(_ slot: UInt32) {
        guard entries[Int(slot)].isInUse else { return }
        lookup[entries[Int(slot)].identity] = nil
        entries[Int(slot)].release()
        freeSlots.append(slot)
    }

    /// The entry in `slot`.
    subscript(slot: UInt32) -> ReplicaEntry {
        _read { yield entries[Int(slot)] }
        _modify { yield &entries[Int(slot)] }
    }

    /// Whether rows of `slot` are visible.
    func isUp(_ slot: UInt32) -> Bool {
        entries[Int(slot)].status == .up
    }

    /// The slots in use, ascending.
    var slots: [UInt32] {
        entries.indices.compactMap { entries[$0].isInUse ? UInt32($0) : nil }
    }

    /// How many replicas are known, the own one included.
    var count: Int { lookup.count }

    /// The number of slot numbers ever handed out (in use or free).
    var capacity: Int { entries.count }
}
