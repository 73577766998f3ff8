/// A change in the set of nodes this node is connected to.
///
/// A sequence of these, from ``MeshAdapter/membershipEvents()``, starts with
/// one ``snapshot(_:)`` of the members up at that moment, then reports every
/// change in order.
public enum MeshMembershipEvent: Hashable, Sendable {
    /// The members up when the sequence started (this node excluded).
    case snapshot([MeshMember])
    /// A node (or a new boot of a node) became reachable: every lane to it is connected.
    case up(MeshMember)
    /// A node became unreachable: its connection closed, failed, or went silent for the liveness timeout.
    case down(MeshMember)
}
