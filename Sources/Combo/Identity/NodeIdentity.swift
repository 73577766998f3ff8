/// A node's name together with the incarnation of its current boot.
///
/// Two identities with the same name and different incarnations are two boots
/// of one node: everything known about the older one is stale.
public struct NodeIdentity: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The node's cluster-unique name.
    public let name: NodeName
    /// The boot of that node.
    public let incarnation: Incarnation

    /// Creates an identity.
    public init(name: NodeName, incarnation: Incarnation) {
        self.name = name
        self.incarnation = incarnation
    }

    public var description: String { "\(name)#\(incarnation)" }
}
