/// An open-addressing hash index from some key of a row to the row's slot.
///
/// It stores nothing but slot numbers (four bytes a bucket): the key lives in the
/// row itself, so a lookup compares candidate rows through `matches`, and
/// growing or deleting recomputes a row's hash through `hashOf`. Linear probing
/// with backward-shift deletion keeps probe chains short without tombstones.
struct RowIndexTable: Sendable {
    /// Buckets hold `slot + 1`; 0 is empty.
    private var buckets: [UInt32] = []
    /// How many slots the index holds.
    private(set) var count = 0

    /// An empty index.
    init() {}

    /// The slot whose row `matches` accepts among those hashed to `hash`.
    @inline(__always)
    func find(hash: Int, where matches: (UInt32) -> Bool) -> UInt32? {
        guard !buckets.isEmpty else { return nil }
        let mask = buckets.count - 1
        var index = hash & mask
        while true {
            let entry = buckets[index]
            if entry == 0 { return nil }
            if matches(entry - 1) { return entry - 1 }
            index = (index + 1) & mask
        }
    }

    /// Adds `slot`, whose key hashes to `hash`; `hashOf` gives the hash of any
    /// slot already present, for growing.
    @inline(__always)
    mutating func insert(_ slot: UInt32, hash: Int, hashOf: (UInt32) -> Int) {
        // At most three quarters full.
        if (count + 1) * 4 > buckets.count * 3 { grow(hashOf: hashOf) }
        let mask = buckets.count - 1
        var index = hash & mask
        while buckets[index] != 0 { index = (index + 1) & mask }
        buckets[index] = slot + 1
        count += 1
    }

    /// Removes `slot`, whose key hashes to `hash`; `hashOf` gives the hash of any
    /// other slot present. Does nothing if the slot is absent.
    @inline(__always)
    mutating func remove(_ slot: UInt32, hash: Int, hashOf: (UInt32) -> Int) {
        guard !buckets.isEmpty else { return }
        let mask = buckets.count - 1
        var hole = hash & mask
        while buckets[hole] != slot + 1 {
            if buckets[hole] == 0 { return }
            hole = (hole + 1) & mask
        }
        count -= 1
        // Backward shift: move later entries of the probe chain into the hole
        // when their home bucket does not lie between the hole and them.
        var next = hole
        while true {
            next = (next + 1) & mask
            let entry = buckets[next]
            if entry == 0 { break }
            let home = hashOf(entry - 1) & mask
            let movable = next > hole ? (home <= hole || home > next) : (home <= hole && home > next)
            if movable {
                buckets[hole] = entry
                hole = next
            }
        }
        buckets[hole] = 0
    }

    /// Replaces `old` by `new` in place; both must hash alike.
    mutating func replace(_ old: UInt32, with new: UInt32, hash: Int) {
        guard !buckets.isEmpty else { return }
        let mask = buckets.count - 1
        var index = hash & mask
        while buckets[index] != 0 {
            if buckets[index] == old + 1 {
                buckets[index] = new + 1
                return
            }
            index = (index + 1) & mask
        }
    }

    private mutating func grow(hashOf: (UInt32) -> Int) {
        let old = buckets
        buckets = Array(repeating: 0, count: max(16, old.count * 2))
        let mask = buckets.count - 1
        for entry in old where entry != 0 {
            var index = hashOf(entry - 1) & mask
            while buckets[index] != 0 { index = (index + 1) & mask }
            buckets[index] = entry
        }
    }

    /// Bytes reserved for buckets, for memory accounting in tests.
    var reservedBytes: Int { buckets.capacity * 4 }
}
