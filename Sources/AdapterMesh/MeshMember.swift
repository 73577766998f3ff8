import Combo

/// A node of the mesh as this node knows it: which boot of it, and where it listens.
public struct MeshMember: Hashable, Sendable, CustomStringConvertible {
    /// The node's name and the incarnation of its current boot.
    public let node: NodeIdentity
    /// The address the node advertises for other nodes to connect to.
    public let address: MeshAddress

    /// Creates a member description.
    public init(node: NodeIdentity, address: MeshAddress) {
        self.node = node
        self.address = address
    }

    /// `name#incarnation@host:port`.
    public var description: String { "\(node)@\(address)" }
}
