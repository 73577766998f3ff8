/// Shares the storage of equal metadata dictionaries between presences.
///
/// Applications often give thousands of presences the same values (`["status":
/// "online"]`); each call to `track` builds its own dictionary, about 150 bytes
/// on the heap. A direct-mapped cache of recently seen dictionaries lets equal
/// ones point to one storage: bounded memory, one hash per presence, and no
/// bookkeeping when presences leave.
struct PresenceValuesInterner: Sendable {
    private static let slotCount = 512
    private var slots: [[String: PresenceValue]] = []

    /// An empty cache.
    init() {}

    /// `values`, or an equal dictionary seen recently whose storage it can share.
    mutating func intern(_ values: [String: PresenceValue]) -> [String: PresenceValue] {
        if values.isEmpty { return values }
        if slots.isEmpty { slots = Array(repeating: [:], count: Self.slotCount) }
        let slot = values.hashValue & (Self.slotCount - 1)
        if slots[slot] == values { return slots[slot] }
        slots[slot] = values
        return values
    }
}
