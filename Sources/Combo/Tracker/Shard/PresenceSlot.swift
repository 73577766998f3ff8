/// Where a presence sits within a topic of the read index: one per owner and key.
struct PresenceSlot: Hashable, Sendable {
    let owner: PresenceOwnerID
    let key: String
}
