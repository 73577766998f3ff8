/// An open-addressing hash index from some key of a row to the row's slot.
///
/// A bucket holds the slot and the low 32 bits of the key's hash: the key itself
/// lives in the row, so a probe compares fingerprints first and only reads a row
/// (a likely cache miss) when they match. The fingerprint also holds the bits
/// that chose the bucket, so growing and backward-shift deletion never recompute
/// a hash. Linear probing, at most four fifths full: at 100,000 rows a table
/// takes 1 MiB.
struct RowIndexTable: Sendable {
    /// Buckets hold `fingerprint << 32 | (slot + 1)`; 0 is empty.
    private var buckets: [UInt64] = []
    /// How many slots the index holds.
    private(set) var count = 0

    /// The bits of a bucket that hold the slot.
    private static let slotMask: UInt64 = 0xFFFF_FFFF

    /// An empty index.
    init() {}

    /// The low 32 bits of a hash, placed where a bucket keeps them.
    @inline(__always)
    private static func fingerprint(_ hash: Int) -> UInt64 {
        UInt64(UInt32(truncatingIfNeeded: hash)) << 32
    }

    /// The slot whose row `matches` accepts among those whose key hashes to `hash`.
    @inline(__always)
    func find(hash: Int, where matches: (UInt32) -> Bool) -> UInt32? {
        guard !buckets.isEmpty else { return nil }
        let mask = buckets.count - 1
        let fingerprint = Self.fingerprint(hash)
        var index = hash & mask
        while true {
            let entry = buckets[index]
            if entry == 0 { return nil }
            if entry & ~Self.slotMask == fingerprint {
                let slot = UInt32(truncatingIfNeeded: entry) - 1
                if matches(slot) { return slot }
            }
            index = (index + 1) & mask
        }
    }

    /// Adds `slot`, whose key hashes to `hash`.
    @inline(__always)
    mutating func insert(_ slot: UInt32, hash: Int) {
        if (count + 1) * 5 > buckets.count * 4 { grow() }
        let mask = buckets.count - 1
        var index = hash & mask
        while buckets[index] != 0 { index = (index + 1) & mask }
        buckets[index] = Self.fingerprint(hash) | (UInt64(slot) + 1)
        count += 1
    }

    /// Removes `slot`, whose key hashes to `hash`; does nothing if it is absent.
    mutating func remove(_ slot: UInt32, hash: Int) {
        guard !buckets.isEmpty else { return }
        let mask = buckets.count - 1
        let wanted = Self.fingerprint(hash) | (UInt64(slot) + 1)
        var hole = hash & mask
        while buckets[hole] != wanted {
            if buckets[hole] == 0 { return }
            hole = (hole + 1) & mask
        }
        count -= 1
        // Backward shift: move later entries of the probe run into the hole when
        // their home bucket does not lie between the hole and them.
        var next = hole
        while true {
            next = (next + 1) & mask
            let entry = buckets[next]
            if entry == 0 { break }
            let home = Int(truncatingIfNeeded: entry >> 32) & mask
            let movable = next > hole ? (home <= hole || home > next) : (home <= hole && home > next)
            if movable {
                buckets[hole] = entry
                hole = next
            }
        }
        buckets[hole] = 0
    }

    /// Replaces `old` by `new` in place; both keys must hash to `hash`.
    mutating func replace(_ old: UInt32, with new: UInt32, hash: Int) {
        guard !buckets.isEmpty else { return }
        let mask = buckets.count - 1
        let fingerprint = Self.fingerprint(hash)
        let wanted = fingerprint | (UInt64(old) + 1)
        var index = hash & mask
        while buckets[index] != 0 {
            if buckets[index] == wanted {
                buckets[index] = fingerprint | (UInt64(new) + 1)
                return
            }
            index = (index + 1) & mask
        }
    }

    /// Doubles the buckets, placing each entry by the hash bits it keeps.
    private mutating func grow() {
        let old = buckets
        buckets = Array(repeating: 0, count: max(16, old.count * 2))
        let mask = buckets.count - 1
        for entry in old where entry != 0 {
            var index = Int(truncatingIfNeeded: entry >> 32) & mask
            while buckets[index] != 0 { index = (index + 1) & mask }
            buckets[index] = entry
        }
    }
}
