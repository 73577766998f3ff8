/// Shares the storage of equal metadata dictionaries between presences.
///
/// Applications often give thousands of presences the same values (`["status":
/// "online"]`); each call to `track` builds its own dictionary, about 150 bytes
/// on the heap. A direct-mapped cache of recently seen dictionaries lets equal
/// ones point to one storage: bounded memory, and no bookkeeping when presences
/// leave. When values keep missing the cache (every presence's values differ),
/// hashing them is pure cost, so the cache stands aside for a while.
struct PresenceValuesInterner: Sendable {
    /// Cache size: small enough to cost nothing, large enough for the values in use at once.
    private static let slotCount = 512
    /// Misses in a row after which the cache stands aside.
    private static let missLimit = 64
    /// How many dictionaries pass unexamined while the cache stands aside.
    private static let pause = 4096

    /// The cache, indexed by hash; allocated on first use.
    private var slots: [[String: PresenceValue]] = []
    /// The last dictionary handed out: consecutive presences usually carry equal values.
    private var last: [String: PresenceValue] = [:]
    /// Misses since the last hit.
    private var misses = 0
    /// Dictionaries still to pass unexamined.
    private var paused = 0

    /// An empty cache.
    init() {}

    /// `values`, or an equal dictionary seen recently whose storage it can share.
    mutating func intern(_ values: [String: PresenceValue]) -> [String: PresenceValue] {
        if values.isEmpty { return values }
        if paused > 0 {
            paused -= 1
            return values
        }
        if values == last {
            misses = 0
            return last
        }
        if slots.isEmpty { slots = Array(repeating: [:], count: Self.slotCount) }
        let slot = values.hashValue & (Self.slotCount - 1)
        if slots[slot] == values {
            misses = 0
        } else {
            slots[slot] = values
            misses += 1
            if misses >= Self.missLimit {
                misses = 0
                paused = Self.pause
            }
        }
        last = slots[slot]
        return last
    }
}
