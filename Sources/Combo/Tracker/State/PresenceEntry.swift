/// One presence as a delta or a transfer carries it.
///
/// The replica is not stored here: entries are grouped by the replica that made
/// them, which is also the owner's node (presences are only made by their owner's
/// node), so the tag and the owner are the group's replica plus ``clock`` and
/// ``ownerSequence``.
struct PresenceEntry: Sendable, Hashable {
    /// The clock of the presence's tag.
    var clock: UInt64
    /// The owner's sequence number on the replica.
    var ownerSequence: UInt64
    /// The topic.
    var topic: String
    /// The key within the topic.
    var key: String
    /// The metadata.
    var meta: PresenceMeta

    /// Makes an entry.
    init(clock: UInt64, ownerSequence: UInt64, topic: String, key: String, meta: PresenceMeta) {
        self.clock = clock
        self.ownerSequence = ownerSequence
        self.topic = topic
        self.key = key
        self.meta = meta
    }

    /// The entry as a record of a presence made by `replica`.
    func record(replica: NodeIdentity) -> PresenceRecord {
        PresenceRecord(
            owner: PresenceOwnerID(node: replica, sequence: ownerSequence), topic: topic, key: key, meta: meta,
            tag: PresenceTag(replica: replica, clock: clock)
        )
    }

    /// The entries sorted by clock with duplicate clocks dropped (the first kept),
    /// as deltas and transfers store them.
    static func normalized(_ entries: [PresenceEntry]) -> [PresenceEntry] {
        var isStrictlyAscending = true
        for index in entries.indices.dropFirst() where entries[index - 1].clock >= entries[index].clock {
            isStrictlyAscending = false
            break
        }
        if isStrictlyAscending { return entries }
        var sorted = entries.enumerated().sorted { ($0.element.clock, $0.offset) < ($1.element.clock, $1.offset) }
            .map(\.element)
        var write = 0
        for read in sorted.indices where write == 0 || sorted[write - 1].clock != sorted[read].clock {
            sorted[write] = sorted[read]
            write += 1
        }
        sorted.removeSubrange(write...)
        return sorted
    }

    /// The index of the entry with `clock` in entries sorted by clock, if any.
    static func index(of clock: UInt64, in entries: [PresenceEntry]) -> Int? {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].clock < clock {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low < entries.count && entries[low].clock == clock ? low : nil
    }
}
