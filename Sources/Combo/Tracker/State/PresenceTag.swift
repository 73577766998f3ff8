/// The dot that identifies one presence in the CRDT: the replica that made it and
/// that replica's clock at the time.
///
/// Every track and update makes a new tag, so a tag names one version of one
/// presence, never reused.
struct PresenceTag: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The replica (node incarnation) that made the presence.
    let replica: NodeIdentity
    /// That replica's clock when it made the presence; at least 1.
    let clock: UInt64

    /// Makes a tag.
    init(replica: NodeIdentity, clock: UInt64) {
        self.replica = replica
        self.clock = clock
    }

    /// Orders tags by replica name, then incarnation, then clock: a stable order for
    /// tests and for writing payloads deterministically.
    static func < (lhs: PresenceTag, rhs: PresenceTag) -> Bool {
        if lhs.replica.name != rhs.replica.name { return lhs.replica.name < rhs.replica.name }
        if lhs.replica.incarnation != rhs.replica.incarnation {
            return lhs.replica.incarnation < rhs.replica.incarnation
        }
        return lhs.clock < rhs.clock
    }

    var description: String { "\(replica)@\(clock)" }
}
