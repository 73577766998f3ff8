/// Where a presence sits within a topic of the read index: one per owner and key.
struct PresenceSlot: Hashable, Sendable {
    let owner: PresenceOwnerID
    let key: String

    // The owner's node name is left out of the hash: the incarnation already
    // tells nodes apart, and hashing the name string would double the cost of
    // every lookup. Equality still compares everything.
    func hash(into hasher: inout Hasher) {
        hasher.combine(owner.node.incarnation.rawValue)
        hasher.combine(owner.sequence)
        hasher.combine(key)
    }
}
