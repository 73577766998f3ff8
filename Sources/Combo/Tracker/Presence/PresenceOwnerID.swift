/// The identity of whatever owns presences: the Swift counterpart of the process
/// that calls `Phoenix.Tracker.track/5`.
///
/// An owner belongs to one node incarnation; when its scope ends (or the node goes
/// away) every presence it tracked leaves. Owner IDs are never reused within an
/// incarnation, so a stale reference can never untrack somebody else's presences.
public struct PresenceOwnerID: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The node incarnation on which the owner lives.
    public let node: NodeIdentity
    /// A number unique among the owners of that incarnation.
    public let sequence: UInt64

    /// Makes an owner ID; normally obtained from ``Tracker`` rather than built by hand.
    public init(node: NodeIdentity, sequence: UInt64) {
        self.node = node
        self.sequence = sequence
    }

    public var description: String { "<owner \(node).\(sequence)>" }
}
