/// The presences of one topic in the read index, packed for memory: a dense
/// array of small entries plus an open-addressing table of their positions.
///
/// A dictionary keyed by owner and key costs about twice the entry size per
/// presence once its power-of-two capacity and load factor are paid for, and
/// repeats the owner's node name in every key; here an entry is 48 bytes and
/// the table 4 to 8 bytes, and node names live once in ``PresenceReadIndex``.
struct TopicPresences {
    /// One presence: its owner as incarnation and sequence (the node name is
    /// looked up by incarnation), its key, and its metadata taken apart so no
    /// padding is paid for the optional previous reference.
    struct Entry {
        var incarnation: UInt64
        /// The owner's sequence in the low 63 bits; the top bit says whether
        /// `previousRef` holds a reference (owner sequences never reach 2^63).
        var sequenceAndFlag: UInt64
        var key: String
        var values: [String: PresenceValue]
        var ref: UInt64
        var previousRef: UInt64

        static let previousFlag: UInt64 = 1 << 63

        init(incarnation: UInt64, sequence: UInt64, key: String, meta: PresenceMeta) {
            self.incarnation = incarnation
            self.sequenceAndFlag = (sequence & ~Self.previousFlag) | (meta.previousRef == nil ? 0 : Self.previousFlag)
            self.key = key
            self.values = meta.values
            self.ref = meta.ref.rawValue
            self.previousRef = meta.previousRef?.rawValue ?? 0
        }

        var sequence: UInt64 { sequenceAndFlag & ~Self.previousFlag }

        var meta: PresenceMeta {
            PresenceMeta(
                ref: PresenceRef(rawValue: ref),
                previousRef: sequenceAndFlag & Self.previousFlag != 0 ? PresenceRef(rawValue: previousRef) : nil,
                values: values)
        }
    }

    private(set) var entries: ContiguousArray<Entry> = []
    /// Positions in `entries`, or -1; linear probing, at most half full.
    private var table: [Int32] = []

    var isEmpty: Bool { entries.isEmpty }
    var count: Int { entries.count }

    private static func hash(incarnation: UInt64, sequence: UInt64, key: String) -> Int {
        var hasher = Hasher()
        hasher.combine(incarnation)
        hasher.combine(sequence)
        hasher.combine(key)
        return hasher.finalize()
    }

    private func bucket(incarnation: UInt64, sequence: UInt64, key: String) -> (bucket: Int, found: Bool) {
        let mask = table.count - 1
        var bucket = Self.hash(incarnation: incarnation, sequence: sequence, key: key) & mask
        while true {
            let position = table[bucket]
            if position < 0 { return (bucket, false) }
            let entry = entries[Int(position)]
            if entry.sequence == sequence & ~Entry.previousFlag && entry.incarnation == incarnation && entry.key == key {
                return (bucket, true)
            }
            bucket = (bucket + 1) & mask
        }
    }

    /// Inserts or replaces the presence of an owner under a key.
    mutating func upsert(incarnation: UInt64, sequence: UInt64, key: String, meta: PresenceMeta) {
        let entry = Entry(incarnation: incarnation, sequence: sequence & ~Entry.previousFlag, key: key, meta: meta)
        if table.isEmpty || (entries.count + 1) * 2 > table.count { grow() }
        let (bucket, found) = bucket(incarnation: incarnation, sequence: sequence, key: key)
        if found {
            entries[Int(table[bucket])] = entry
        } else {
            table[bucket] = Int32(entries.count)
            entries.append(entry)
        }
    }

    /// Removes the presence if it still holds `ref`; returns whether it did.
    mutating func remove(incarnation: UInt64, sequence: UInt64, key: String, ref: UInt64) -> Bool {
        guard !table.isEmpty else { return false }
        let (found, isHere) = bucket(incarnation: incarnation, sequence: sequence, key: key)
        guard isHere else { return false }
        let position = Int(table[found])
        guard entries[position].ref == ref else { return false }
        deleteBucket(found)
        // Keep the array dense: the last entry moves into the hole.
        let last = entries.count - 1
        if position != last {
            let moved = entries[last]
            let (movedBucket, _) = bucket(incarnation: moved.incarnation, sequence: moved.sequence, key: moved.key)
            table[movedBucket] = Int32(position)
            entries[position] = moved
        }
        entries.removeLast()
        if entries.isEmpty {
            table = []
            entries = []
        } else if entries.count * 8 < table.count && table.count > 16 {
            shrink()
        }
        return true
    }

    /// Empties a bucket, shifting later members of its probe run back so that
    /// lookups need no tombstones.
    private mutating func deleteBucket(_ start: Int) {
        let mask = table.count - 1
        var hole = start
        var next = (hole + 1) & mask
        while table[next] >= 0 {
            let entry = entries[Int(table[next])]
            let home = Self.hash(incarnation: entry.incarnation, sequence: entry.sequence, key: entry.key) & mask
            // Move it back if its home is not cyclically within (hole, next].
            let inRange = hole <= next ? (home > hole && home <= next) : (home > hole || home <= next)
            if !inRange {
                table[hole] = table[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        table[hole] = -1
    }

    private mutating func grow() {
        rebuild(capacity: max(8, table.count * 2))
    }

    private mutating func shrink() {
        rebuild(capacity: table.count / 2)
        entries.reserveCapacity(entries.count)
    }

    private mutating func rebuild(capacity: Int) {
        table = [Int32](repeating: -1, count: capacity)
        let mask = capacity - 1
        for (position, entry) in entries.enumerated() {
            var bucket = Self.hash(incarnation: entry.incarnation, sequence: entry.sequence, key: entry.key) & mask
            while table[bucket] >= 0 { bucket = (bucket + 1) & mask }
            table[bucket] = Int32(position)
        }
    }
}
